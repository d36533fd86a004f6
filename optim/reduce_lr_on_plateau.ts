/**
 * Reduces the learning rate when a metric stops improving.
 * @module
 */

import { Tensor } from "../tensor/tensor.ts";
import type { BaseOptions, Optimizer } from "./optimizer.ts";
import {
  checkNumber,
  checkOptimizer,
  copyState,
  perGroup,
  type SchedulerStateDict,
  stateOf,
} from "./lr_scheduler.ts";

/**
 * Options of `ReduceLROnPlateau`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ReduceLROnPlateauOptions } from "@adamant/core";
 * const options: ReduceLROnPlateauOptions = { mode: "max", patience: 2 };
 * assert(options.mode === "max");
 * ```
 */
export interface ReduceLROnPlateauOptions {
  /** `"min"` (default): the metric should fall; `"max"`: it should rise. */
  mode?: "min" | "max";
  /** The factor applied to the rate on a plateau, below 1 (default 0.1). */
  factor?: number;
  /** Epochs without improvement tolerated before reducing (default 10). */
  patience?: number;
  /** How much better a value must be to count as an improvement (default 1e-4). */
  threshold?: number;
  /** `"rel"` (default): relative to the best value; `"abs"`: an absolute margin. */
  thresholdMode?: "rel" | "abs";
  /** Epochs to wait after a reduction before counting bad epochs again (default 0). */
  cooldown?: number;
  /** The lowest rate (one per group, or one for all; default 0). */
  minLr?: number | readonly number[];
  /** Reductions smaller than this are skipped (default 1e-8). */
  eps?: number;
}

/**
 * Reduces each group's rate by `factor` once a metric (say, the validation loss, passed to
 * `step`) has stopped improving for `patience` epochs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReduceLROnPlateau, SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new ReduceLROnPlateau(opt, { patience: 1, factor: 0.5 });
 * for (const loss of [3, 2, 2, 2]) s.step(loss);
 * assert(s.getLastLr()[0] === 0.5); // the second epoch without progress reduced it
 * ```
 */
export class ReduceLROnPlateau {
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer<BaseOptions, object>;
  /** `"min"` or `"max"`. */
  mode: "min" | "max";
  /** The reduction factor. */
  factor: number;
  /** Bad epochs tolerated. */
  patience: number;
  /** The improvement threshold. */
  threshold: number;
  /** `"rel"` or `"abs"`. */
  thresholdMode: "rel" | "abs";
  /** Epochs of cooldown after a reduction. */
  cooldown: number;
  /** Epochs of cooldown left. */
  cooldownCounter = 0;
  /** The lowest rate of each group. */
  minLrs: number[];
  /** The smallest reduction applied. */
  eps: number;
  /** The best metric so far (±Infinity before the first). */
  best: number;
  /** Epochs since the last improvement. */
  numBadEpochs = 0;
  /** Epochs stepped. */
  lastEpoch = 0;
  /** The learning rates after the last step. */
  lastLr: number[];

  /**
   * Creates a ReduceLROnPlateau scheduler.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `mode`, `factor`, `patience`, `threshold`, `thresholdMode`, `cooldown`,
   *   `minLr`, `eps`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: ReduceLROnPlateauOptions = {}) {
    const name = "ReduceLROnPlateau";
    this.optimizer = checkOptimizer(name, optimizer);
    this.factor = checkNumber(name, "factor", options.factor ?? 0.1);
    if (!(this.factor < 1)) throw new RangeError(`${name}: factor must be < 1, got ${this.factor}`);
    this.mode = options.mode ?? "min";
    if (this.mode !== "min" && this.mode !== "max") {
      throw new RangeError(`${name}: mode must be "min" or "max", got ${this.mode}`);
    }
    this.thresholdMode = options.thresholdMode ?? "rel";
    if (this.thresholdMode !== "rel" && this.thresholdMode !== "abs") {
      throw new RangeError(
        `${name}: thresholdMode must be "rel" or "abs", got ${this.thresholdMode}`,
      );
    }
    this.patience = checkNumber(name, "patience", options.patience ?? 10);
    this.threshold = checkNumber(name, "threshold", options.threshold ?? 1e-4);
    this.cooldown = checkNumber(name, "cooldown", options.cooldown ?? 0);
    this.minLrs = perGroup(name, "minLr", options.minLr ?? 0, this.optimizer.paramGroups.length);
    this.eps = checkNumber(name, "eps", options.eps ?? 1e-8);
    this.best = this.#worst();
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  #worst(): number {
    return this.mode === "min" ? Infinity : -Infinity;
  }

  #isBetter(a: number, best: number): boolean {
    const { mode, thresholdMode, threshold } = this;
    if (mode === "min" && thresholdMode === "rel") return a < best * (1 - threshold);
    if (mode === "min") return a < best - threshold;
    if (thresholdMode === "rel") return a > best * (threshold + 1);
    return a > best + threshold;
  }

  /**
   * Records one epoch's metric and reduces the rates after too many epochs without
   * improvement.
   *
   * @param metric The monitored value (a number or a one-element tensor).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReduceLROnPlateau, SGD, zeros } from "@adamant/core";
   * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
   * const s = new ReduceLROnPlateau(opt, { mode: "max", patience: 0 });
   * s.step(0.5);
   * s.step(0.4);
   * assert(opt.paramGroups[0].lr === 0.1);
   * ```
   */
  step(metric: number | Tensor): void {
    const current = metric instanceof Tensor ? metric.item() : metric;
    if (typeof current !== "number") {
      throw new TypeError(`ReduceLROnPlateau: the metric must be a number, got ${String(metric)}`);
    }
    this.lastEpoch += 1;
    if (this.#isBetter(current, this.best)) {
      this.best = current;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0; // bad epochs in cooldown do not count
    }
    if (this.numBadEpochs > this.patience) {
      this.optimizer.paramGroups.forEach((group, i) => {
        const old = group.lr;
        const lr = Math.max(old * this.factor, this.minLrs[i]);
        if (old - lr > this.eps) group.lr = lr;
      });
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * The learning rates after the last step (the groups' rates before the first).
   *
   * @returns A copy of the rates, one per group.
   */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * The scheduler's state: every field but the optimizer. `best` is ±Infinity before the
   * first step, which JSON writes as null; `loadStateDict` reads null back as that.
   *
   * @returns Plain data that `loadStateDict` takes back.
   */
  stateDict(): SchedulerStateDict {
    return stateOf(this);
  }

  /**
   * Restores a state from `stateDict()`.
   *
   * @param stateDict The saved state.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ReduceLROnPlateau, SGD, zeros } from "@adamant/core";
   * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
   * const s = new ReduceLROnPlateau(opt);
   * s.step(1);
   * const t = new ReduceLROnPlateau(opt);
   * t.loadStateDict(JSON.parse(JSON.stringify(s.stateDict())));
   * assert(t.best === 1 && t.lastEpoch === 1);
   * ```
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    copyState(this, stateDict, ["optimizer"]);
    if (this.best === null) this.best = this.#worst();
  }
}
