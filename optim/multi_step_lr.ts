/**
 * Decays the learning rate by a factor at given milestones.
 * @module
 */

import type { BaseOptions, Optimizer } from "./optimizer.ts";
import { bisectRight, checkNumber, LRScheduler, type SchedulerOptions } from "./lr_scheduler.ts";

/**
 * Options of `MultiStepLR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { MultiStepLROptions } from "@adamant/core";
 * const options: MultiStepLROptions = { milestones: [30, 80] };
 * assert(options.milestones.length === 2);
 * ```
 */
export interface MultiStepLROptions extends SchedulerOptions {
  /** Epochs at which to decay (a repeated epoch decays once per repeat). */
  milestones: readonly number[];
  /** Factor applied at each milestone (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies each group's rate by `gamma` at each milestone epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MultiStepLR, SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new MultiStepLR(opt, { milestones: [1, 3], gamma: 0.5 });
 * const lrs = [];
 * for (let epoch = 0; epoch < 4; epoch++) {
 *   lrs.push(s.getLastLr()[0]);
 *   s.step();
 * }
 * assert(lrs.join() === "1,0.5,0.5,0.25");
 * ```
 */
export class MultiStepLR extends LRScheduler {
  /** The milestones, sorted. */
  milestones: number[];
  /** The decay factor. */
  gamma: number;

  /**
   * Creates a MultiStepLR scheduler.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `milestones`, `gamma`, `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: MultiStepLROptions) {
    super(optimizer, options);
    if (!Array.isArray(options.milestones)) {
      throw new TypeError(`MultiStepLR: milestones must be an array of epochs`);
    }
    options.milestones.forEach((m, i) => checkNumber("MultiStepLR", `milestones[${i}]`, m));
    this.milestones = [...options.milestones].sort((a, b) => a - b);
    this.gamma = checkNumber("MultiStepLR", "gamma", options.gamma ?? 0.1);
    this.initialStep();
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    const hits = this.milestones.filter((m) => m === this.lastEpoch).length;
    const groups = this.optimizer.paramGroups;
    if (hits === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma ** hits);
  }

  /** The rates at `lastEpoch` computed from the base rates. */
  protected override closedFormLr(): number[] {
    const passed = bisectRight(this.milestones, this.lastEpoch);
    return this.baseLrs.map((lr) => lr * this.gamma ** passed);
  }
}
