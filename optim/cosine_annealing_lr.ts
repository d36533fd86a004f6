/**
 * Anneals the learning rate along a cosine curve.
 * @module
 */

import type { BaseOptions, Optimizer } from "./optimizer.ts";
import { checkNumber, LRScheduler, type SchedulerOptions } from "./lr_scheduler.ts";

/**
 * Options of `CosineAnnealingLR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CosineAnnealingLROptions } from "@adamant/core";
 * const options: CosineAnnealingLROptions = { tMax: 100, etaMin: 1e-5 };
 * assert(options.tMax === 100);
 * ```
 */
export interface CosineAnnealingLROptions extends SchedulerOptions {
  /** Epochs of a half cosine period. */
  tMax: number;
  /** The lowest rate (default 0). */
  etaMin?: number;
}

/**
 * Anneals each group's rate from its initial value to `etaMin` along a half cosine over
 * `tMax` epochs, and back up over the next `tMax` (no restart), with PyTorch 1.13's
 * recursive formula (so it composes with changes made by others).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CosineAnnealingLR, SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new CosineAnnealingLR(opt, { tMax: 2 });
 * s.step();
 * assert(Math.abs(s.getLastLr()[0] - 0.5) < 1e-12);
 * s.step();
 * assert(Math.abs(s.getLastLr()[0]) < 1e-12);
 * ```
 */
export class CosineAnnealingLR extends LRScheduler {
  /** Epochs of a half period. */
  tMax: number;
  /** The lowest rate. */
  etaMin: number;

  /**
   * Creates a CosineAnnealingLR scheduler.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `tMax`, `etaMin`, `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: CosineAnnealingLROptions) {
    super(optimizer, options);
    this.tMax = checkNumber("CosineAnnealingLR", "tMax", options?.tMax);
    if (!(this.tMax > 0)) {
      throw new RangeError(`CosineAnnealingLR: tMax must be > 0, got ${this.tMax}`);
    }
    this.etaMin = checkNumber("CosineAnnealingLR", "etaMin", options.etaMin ?? 0);
    this.initialStep();
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    const { lastEpoch: t, tMax, etaMin } = this;
    const groups = this.optimizer.paramGroups;
    if (t === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && t > 0) {
      return this.baseLrs.map((base) =>
        etaMin + (base - etaMin) * (1 + Math.cos(t * Math.PI / tMax)) / 2
      );
    }
    if ((t - 1 - tMax) % (2 * tMax) === 0) {
      return groups.map((g, i) =>
        g.lr + (this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax)) / 2
      );
    }
    return groups.map((g) =>
      (1 + Math.cos(Math.PI * t / tMax)) / (1 + Math.cos(Math.PI * (t - 1) / tMax)) *
        (g.lr - etaMin) + etaMin
    );
  }

  /** The rates at `lastEpoch` computed from the base rates. */
  protected override closedFormLr(): number[] {
    return this.baseLrs.map((base) =>
      this.etaMin + (base - this.etaMin) * (1 + Math.cos(Math.PI * this.lastEpoch / this.tMax)) / 2
    );
  }
}
