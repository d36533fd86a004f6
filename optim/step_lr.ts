/**
 * Decays the learning rate by a factor every `stepSize` epochs.
 * @module
 */

import type { BaseOptions, Optimizer } from "./optimizer.ts";
import {
  checkNumber,
  checkPositiveInteger,
  LRScheduler,
  type SchedulerOptions,
} from "./lr_scheduler.ts";

/**
 * Options of `StepLR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StepLROptions } from "@adamant/core";
 * const options: StepLROptions = { stepSize: 30, gamma: 0.1 };
 * assert(options.stepSize === 30);
 * ```
 */
export interface StepLROptions extends SchedulerOptions {
  /** Epochs between decays. */
  stepSize: number;
  /** Factor applied at each decay (default 0.1). */
  gamma?: number;
}

/**
 * Multiplies each group's rate by `gamma` every `stepSize` epochs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, StepLR, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
 * const lrs = [];
 * for (let epoch = 0; epoch < 5; epoch++) {
 *   lrs.push(s.getLastLr()[0]);
 *   s.step();
 * }
 * assert(lrs.join() === "1,1,0.5,0.5,0.25");
 * ```
 */
export class StepLR extends LRScheduler {
  /** Epochs between decays. */
  stepSize: number;
  /** The decay factor. */
  gamma: number;

  /**
   * Creates a StepLR scheduler.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `stepSize`, `gamma`, `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: StepLROptions) {
    super(optimizer, options);
    this.stepSize = checkPositiveInteger("StepLR", "stepSize", options.stepSize);
    this.gamma = checkNumber("StepLR", "gamma", options.gamma ?? 0.1);
    this.initialStep();
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) {
      return groups.map((g) => g.lr);
    }
    return groups.map((g) => g.lr * this.gamma);
  }

  /** The rates at `lastEpoch` computed from the base rates. */
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((lr) => lr * this.gamma ** Math.floor(this.lastEpoch / this.stepSize));
  }
}
