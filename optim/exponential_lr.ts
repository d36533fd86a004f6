/**
 * Decays the learning rate by a factor every epoch.
 * @module
 */

import type { BaseOptions, Optimizer } from "./optimizer.ts";
import { checkNumber, LRScheduler, type SchedulerOptions } from "./lr_scheduler.ts";

/**
 * Options of `ExponentialLR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ExponentialLROptions } from "@adamant/core";
 * const options: ExponentialLROptions = { gamma: 0.95 };
 * assert(options.gamma === 0.95);
 * ```
 */
export interface ExponentialLROptions extends SchedulerOptions {
  /** Factor applied every epoch. */
  gamma: number;
}

/**
 * Multiplies each group's rate by `gamma` every epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExponentialLR, SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new ExponentialLR(opt, { gamma: 0.5 });
 * s.step();
 * s.step();
 * assert(s.getLastLr()[0] === 0.25);
 * ```
 */
export class ExponentialLR extends LRScheduler {
  /** The decay factor. */
  gamma: number;

  /**
   * Creates an ExponentialLR scheduler.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `gamma`, `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: ExponentialLROptions) {
    super(optimizer, options);
    this.gamma = checkNumber("ExponentialLR", "gamma", options?.gamma);
    this.initialStep();
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  /** The rates at `lastEpoch` computed from the base rates. */
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((lr) => lr * this.gamma ** this.lastEpoch);
  }
}
