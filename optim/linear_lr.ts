/**
 * Scales the learning rate linearly between two factors (warm-up).
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
 * Options of `LinearLR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { LinearLROptions } from "@adamant/core";
 * const options: LinearLROptions = { startFactor: 0.1, totalIters: 10 };
 * assert(options.totalIters === 10);
 * ```
 */
export interface LinearLROptions extends SchedulerOptions {
  /** The factor of the first epoch, in [0, 1] (default 1/3). */
  startFactor?: number;
  /** The factor reached after `totalIters` epochs, in [0, 1] (default 1). */
  endFactor?: number;
  /** Epochs to go from one factor to the other (default 5). */
  totalIters?: number;
}

/**
 * Scales each group's rate by a factor that moves linearly from `startFactor` to
 * `endFactor` over `totalIters` epochs (a warm-up), then stays.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LinearLR, SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new LinearLR(opt, { startFactor: 0.25, totalIters: 3 });
 * const lrs = [];
 * for (let epoch = 0; epoch < 5; epoch++) {
 *   lrs.push(s.getLastLr()[0]);
 *   s.step();
 * }
 * assert(lrs.join() === "0.25,0.5,0.75,1,1");
 * ```
 */
export class LinearLR extends LRScheduler {
  /** The first factor. */
  startFactor: number;
  /** The final factor. */
  endFactor: number;
  /** Epochs of the ramp. */
  totalIters: number;

  /**
   * Creates a LinearLR scheduler.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `startFactor`, `endFactor`, `totalIters`, `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: LinearLROptions = {}) {
    super(optimizer, options);
    this.startFactor = checkNumber("LinearLR", "startFactor", options.startFactor ?? 1 / 3);
    this.endFactor = checkNumber("LinearLR", "endFactor", options.endFactor ?? 1);
    for (const key of ["startFactor", "endFactor"] as const) {
      if (!(this[key] >= 0 && this[key] <= 1)) {
        throw new RangeError(`LinearLR: ${key} must be in [0, 1], got ${this[key]}`);
      }
    }
    this.totalIters = checkPositiveInteger("LinearLR", "totalIters", options.totalIters ?? 5);
    this.initialStep();
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n, lastEpoch: t } = this;
    const groups = this.optimizer.paramGroups;
    if (t === 0) return groups.map((g) => g.lr * s);
    if (t > n) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * (1 + (e - s) / (n * s + (t - 1) * (e - s))));
  }

  /** The rates at `lastEpoch` computed from the base rates. */
  protected override closedFormLr(): number[] {
    const { startFactor: s, endFactor: e, totalIters: n, lastEpoch: t } = this;
    return this.baseLrs.map((lr) => lr * (s + (e - s) * Math.min(n, t) / n));
  }
}
