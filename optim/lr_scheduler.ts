/**
 * Learning-rate schedulers, as PyTorch 1.13's `torch.optim.lr_scheduler`: each one sets
 * `lr` in the optimizer's parameter groups when `step()` is called (once per epoch, or
 * once per batch for `OneCycleLR`), with the same numbers as PyTorch's chainable forms.
 * @module
 */

import { Tensor } from "../tensor/tensor.ts";
import { type BaseOptions, Optimizer, type ParamGroup } from "./optimizer.ts";

/**
 * A scheduler's state: plain data (numbers, arrays, strings, nested state dicts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExponentialLR, SGD, type SchedulerStateDict, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const sd: SchedulerStateDict = new ExponentialLR(opt, { gamma: 0.5 }).stateDict();
 * assert(sd.lastEpoch === 0);
 * ```
 */
export type SchedulerStateDict = Record<string, unknown>;

/**
 * Options every epoch-based scheduler takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SchedulerOptions } from "@adamant/core";
 * const options: SchedulerOptions = { lastEpoch: -1 };
 * assert(options.lastEpoch === -1);
 * ```
 */
export interface SchedulerOptions {
  /**
   * The index of the last epoch done: -1 (the default) starts the schedule; a larger value
   * resumes it, and then every group must already have `initialLr`.
   */
  lastEpoch?: number;
}

function checkOptimizer(name: string, optimizer: unknown): Optimizer<BaseOptions, object> {
  if (!(optimizer instanceof Optimizer)) {
    throw new TypeError(
      `${name}: the first argument must be an Optimizer, got ${String(optimizer)}`,
    );
  }
  return optimizer as Optimizer<BaseOptions, object>;
}

function checkNumber(name: string, key: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${name}: ${key} must be a number, got ${String(value)}`);
  }
  return value;
}

function checkPositiveInteger(name: string, key: string, value: unknown): number {
  checkNumber(name, key, value);
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new RangeError(`${name}: ${key} must be a positive integer, got ${value}`);
  }
  return value as number;
}

/** One number per parameter group, from a number or a list of them. */
function perGroup(name: string, key: string, value: number | readonly number[], groups: number) {
  if (Array.isArray(value)) {
    if (value.length !== groups) {
      throw new RangeError(`${name}: expected ${groups} values for ${key}, got ${value.length}`);
    }
    value.forEach((v, i) => checkNumber(name, `${key}[${i}]`, v));
    return [...value] as number[];
  }
  return new Array<number>(groups).fill(checkNumber(name, key, value));
}

/** Index of the first element of sorted `xs` greater than `x` (Python's bisect_right). */
function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function copyState(target: object, state: SchedulerStateDict, skip: readonly string[]): void {
  for (const [key, value] of Object.entries(state)) {
    if (skip.includes(key) || !(key in target)) continue;
    (target as Record<string, unknown>)[key] = structuredClone(value);
  }
}

/**
 * The base of the epoch-based schedulers (PyTorch's `_LRScheduler`). A subclass sets its own
 * fields, then calls `initialStep()`, which sets each group's `lr` for epoch 0.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LRScheduler, SGD, zeros } from "@adamant/core";
 * class Halving extends LRScheduler {
 *   constructor(opt: SGD) {
 *     super(opt);
 *     this.initialStep();
 *   }
 *   protected override getLr(): number[] {
 *     return this.optimizer.paramGroups.map((g) => this.lastEpoch === 0 ? g.lr : g.lr / 2);
 *   }
 * }
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const s = new Halving(opt);
 * s.step();
 * assert(s.getLastLr()[0] === 0.5);
 * ```
 */
export abstract class LRScheduler {
  /** The optimizer whose groups' `lr` this scheduler sets. */
  readonly optimizer: Optimizer<BaseOptions, object>;
  /** Each group's `initialLr`. */
  baseLrs: number[];
  /** The epoch (or batch) index of the last step; 0 after construction. */
  lastEpoch: number;
  /** How many times `step()` ran, counting the initial step. */
  stepCount = 0;
  /** The learning rates set by the last step. */
  lastLr: number[] = [];

  /**
   * Sets each group's `initialLr` (when starting) and records the base rates.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: SchedulerOptions = {}) {
    const name = this.constructor.name;
    this.optimizer = checkOptimizer(name, optimizer);
    const lastEpoch = checkNumber(name, "lastEpoch", options.lastEpoch ?? -1);
    this.optimizer.paramGroups.forEach((group, i) => {
      if (lastEpoch === -1) group.initialLr ??= group.lr;
      else if (group.initialLr === undefined) {
        throw new TypeError(
          `${name}: parameter group ${i} has no initialLr, which resuming (lastEpoch ` +
            `${lastEpoch}) needs`,
        );
      }
    });
    this.baseLrs = this.optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
  }

  /** Resets the step count and takes the first step (the constructors call it). */
  initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /**
   * The learning rates that `step()` sets, in PyTorch's chainable form (from the groups'
   * current `lr`).
   *
   * @returns One rate per group.
   */
  protected abstract getLr(): number[];

  /**
   * The learning rates at `lastEpoch` in closed form, for `step(epoch)`; schedulers without
   * one fall back to `getLr`.
   *
   * @returns One rate per group, or undefined.
   */
  protected closedFormLr(): number[] | undefined {
    return undefined;
  }

  /**
   * Advances the schedule by one epoch and sets each group's `lr`. Passing `epoch` jumps
   * there (PyTorch's deprecated form; it uses the closed form where there is one).
   *
   * @param epoch Optional: the epoch to jump to.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SGD, StepLR, zeros } from "@adamant/core";
   * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
   * const s = new StepLR(opt, { stepSize: 2, gamma: 0.5 });
   * s.step();
   * s.step();
   * assert(opt.paramGroups[0].lr === 0.5);
   * ```
   */
  step(epoch?: number): void {
    this.stepCount++;
    let values: number[];
    if (epoch === undefined) {
      this.lastEpoch++;
      values = this.getLr();
    } else {
      this.lastEpoch = checkNumber(this.constructor.name, "epoch", epoch);
      values = this.closedFormLr() ?? this.getLr();
    }
    this.optimizer.paramGroups.forEach((group, i) => group.lr = values[i]);
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /**
   * The learning rates the last step set, one per group.
   *
   * @returns A copy of the rates.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ExponentialLR, SGD, zeros } from "@adamant/core";
   * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
   * const s = new ExponentialLR(opt, { gamma: 0.5 });
   * s.step();
   * assert(s.getLastLr()[0] === 0.5);
   * ```
   */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  /**
   * The scheduler's state: every field but the optimizer, copied.
   *
   * @returns Plain data that `loadStateDict` takes back.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SGD, StepLR, zeros } from "@adamant/core";
   * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
   * const s = new StepLR(opt, { stepSize: 3 });
   * s.step();
   * assert(s.stateDict().lastEpoch === 1);
   * ```
   */
  stateDict(): SchedulerStateDict {
    const out: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) {
      if (key !== "optimizer") out[key] = structuredClone(value);
    }
    return out;
  }

  /**
   * Restores a state from `stateDict()`; the optimizer's own state dict restores the
   * groups' `lr`.
   *
   * @param stateDict The saved state.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SGD, StepLR, zeros } from "@adamant/core";
   * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
   * const s = new StepLR(opt, { stepSize: 3 });
   * s.step();
   * const t = new StepLR(opt, { stepSize: 3 });
   * t.loadStateDict(s.stateDict());
   * assert(t.lastEpoch === 1);
   * ```
   */
  loadStateDict(stateDict: SchedulerStateDict): void {
    copyState(this, stateDict, ["optimizer"]);
  }
}

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

/**
 * Options of `SequentialLR`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExponentialLR, LinearLR, SGD, type SequentialLROptions, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const options: SequentialLROptions = {
 *   schedulers: [new LinearLR(opt), new ExponentialLR(opt, { gamma: 0.9 })],
 *   milestones: [5],
 * };
 * assert(options.schedulers.length === 2);
 * ```
 */
export interface SequentialLROptions extends SchedulerOptions {
  /** The schedulers to run one after the other, all over the same optimizer. */
  schedulers: readonly LRScheduler[];
  /** The epochs at which the next scheduler takes over (one fewer than the schedulers). */
  milestones: readonly number[];
}

/**
 * Runs schedulers one after the other: `schedulers[i]` until epoch `milestones[i]`, where
 * the next one starts from its epoch 0 (say, a linear warm-up, then cosine annealing).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ExponentialLR, LinearLR, SequentialLR, SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: 1 });
 * const warmUp = new LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
 * const decay = new ExponentialLR(opt, { gamma: 0.5 });
 * const s = new SequentialLR(opt, { schedulers: [warmUp, decay], milestones: [2] });
 * const lrs = [];
 * for (let epoch = 0; epoch < 5; epoch++) {
 *   lrs.push(s.getLastLr()[0]);
 *   s.step();
 * }
 * assert(lrs.join() === "0.5,0.75,1,0.5,0.25");
 * ```
 */
export class SequentialLR extends LRScheduler {
  /** The schedulers, in order. */
  readonly schedulers: LRScheduler[];
  /** Where each scheduler after the first starts. */
  milestones: number[];

  /**
   * Creates a SequentialLR scheduler.
   *
   * @param optimizer The optimizer to schedule (the one every scheduler drives).
   * @param options `schedulers`, `milestones`, `lastEpoch`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: SequentialLROptions) {
    super(optimizer);
    const { schedulers, milestones } = options ?? {};
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new TypeError("SequentialLR: schedulers must be a non-empty array of schedulers");
    }
    schedulers.forEach((s, i) => {
      if (!(s instanceof LRScheduler)) {
        throw new TypeError(`SequentialLR: schedulers[${i}] is not an epoch scheduler`);
      }
      if (s.optimizer !== optimizer) {
        throw new TypeError(
          `SequentialLR: schedulers[${i}] drives another optimizer than the one given`,
        );
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new RangeError(
        `SequentialLR: expected ${schedulers.length - 1} milestone(s) for ${schedulers.length} ` +
          `schedulers, got ${Array.isArray(milestones) ? milestones.length : String(milestones)}`,
      );
    }
    this.schedulers = [...schedulers];
    this.milestones = [...milestones];
    this.lastEpoch = (options.lastEpoch ?? -1) + 1;
    // undo the steps the schedulers took when they were built, then start the first one
    for (const group of this.optimizer.paramGroups) group.lr = group.initialLr!;
    for (const s of this.schedulers) s.lastEpoch -= 1;
    this.schedulers[0].initialStep();
    this.lastLr = this.schedulers[0].getLastLr();
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** Advances by one epoch: the scheduler in charge steps (a new one from its epoch 0). */
  override step(): void {
    this.lastEpoch += 1;
    const idx = bisectRight(this.milestones, this.lastEpoch);
    const scheduler = this.schedulers[idx];
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) scheduler.step(0);
    else scheduler.step();
    this.lastLr = scheduler.getLastLr();
  }

  /**
   * The state, with each scheduler's own state dict under `schedulers`.
   *
   * @returns Plain data that `loadStateDict` takes back.
   */
  override stateDict(): SchedulerStateDict {
    return {
      lastEpoch: this.lastEpoch,
      stepCount: this.stepCount,
      baseLrs: [...this.baseLrs],
      lastLr: [...this.lastLr],
      milestones: [...this.milestones],
      schedulers: this.schedulers.map((s) => s.stateDict()),
    };
  }

  /**
   * Restores a state from `stateDict()`, including each scheduler's.
   *
   * @param stateDict The saved state.
   */
  override loadStateDict(stateDict: SchedulerStateDict): void {
    copyState(this, stateDict, ["optimizer", "schedulers"]);
    const inner = stateDict.schedulers as SchedulerStateDict[];
    this.schedulers.forEach((s, i) => s.loadStateDict(inner[i]));
  }
}

/**
 * Options of `OneCycleLR`; give `totalSteps`, or `epochs` and `stepsPerEpoch`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { OneCycleLROptions } from "@adamant/core";
 * const options: OneCycleLROptions = { maxLr: 0.1, epochs: 10, stepsPerEpoch: 100 };
 * assert(options.maxLr === 0.1);
 * ```
 */
export interface OneCycleLROptions extends SchedulerOptions {
  /** The peak learning rate (one per group, or one for all). */
  maxLr: number | readonly number[];
  /** Steps in the cycle. */
  totalSteps?: number;
  /** Epochs, when `totalSteps` is not given. */
  epochs?: number;
  /** Steps per epoch, when `totalSteps` is not given. */
  stepsPerEpoch?: number;
  /** The fraction of the cycle spent raising the rate (default 0.3). */
  pctStart?: number;
  /** `"cos"` (default) or `"linear"` annealing. */
  annealStrategy?: "cos" | "linear";
  /** Cycle momentum (SGD, RMSprop) or Adam's beta1 inversely to the rate (default true). */
  cycleMomentum?: boolean;
  /** The momentum at the peak rate (default 0.85). */
  baseMomentum?: number | readonly number[];
  /** The momentum at the start and end (default 0.95). */
  maxMomentum?: number | readonly number[];
  /** The first rate is `maxLr / divFactor` (default 25). */
  divFactor?: number;
  /** The last rate is the first divided by `finalDivFactor` (default 1e4). */
  finalDivFactor?: number;
  /** Three phases (up, down to the first rate, then to the last) as in the paper (default false). */
  threePhase?: boolean;
}

/**
 * One phase of the 1cycle policy: the step where it ends and the group fields it moves
 * the rate and the momentum between.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, OneCycleLR, zeros } from "@adamant/core";
 * const opt = new Adam([zeros([1], { requiresGrad: true })]);
 * const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
 * assert(s.phases[1].endLr === "minLr" && s.phases[1].endStep === 9);
 * ```
 */
export interface OneCycleLRPhase {
  /** The last step of the phase. */
  endStep: number;
  /** The group field holding the rate at the phase's start. */
  startLr: "initialLr" | "maxLr";
  /** The group field holding the rate at the phase's end. */
  endLr: "maxLr" | "minLr" | "initialLr";
  /** The group field holding the momentum at the phase's start. */
  startMomentum: "maxMomentum" | "baseMomentum";
  /** The group field holding the momentum at the phase's end. */
  endMomentum: "maxMomentum" | "baseMomentum";
}

type MomentumGroup = ParamGroup & { momentum?: number; betas?: [number, number] };

/**
 * The 1cycle policy (Smith and Topin, 2017), stepped once per batch: the rate rises from
 * `maxLr / divFactor` to `maxLr` over `pctStart` of the steps, then falls to
 * `initial / finalDivFactor`; momentum (or Adam's beta1) moves the opposite way between
 * `maxMomentum` and `baseMomentum`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, OneCycleLR, zeros } from "@adamant/core";
 * const opt = new Adam([zeros([1], { requiresGrad: true })]);
 * const s = new OneCycleLR(opt, { maxLr: 1, totalSteps: 10 });
 * assert(Math.abs(s.getLastLr()[0] - 1 / 25) < 1e-12); // maxLr / divFactor
 * assert(opt.paramGroups[0].betas[0] === 0.95);
 * for (let i = 0; i < 2; i++) s.step(); // the peak is at step 0.3 * 10 - 1 = 2
 * assert(Math.abs(s.getLastLr()[0] - 1) < 1e-12);
 * assert(Math.abs(opt.paramGroups[0].betas[0] - 0.85) < 1e-12);
 * ```
 */
export class OneCycleLR extends LRScheduler {
  /** Steps in the cycle. */
  totalSteps: number;
  /** The phases of the cycle. */
  phases: OneCycleLRPhase[];
  /** `"cos"` or `"linear"`. */
  annealStrategy: "cos" | "linear";
  /** Whether momentum is cycled. */
  cycleMomentum: boolean;
  /** Whether the momentum is Adam's beta1 (otherwise the group's `momentum`). */
  useBeta1: boolean;

  /**
   * Creates a OneCycleLR scheduler and sets the first rate and momentum.
   *
   * @param optimizer The optimizer to schedule.
   * @param options `maxLr` and `totalSteps` (or `epochs` and `stepsPerEpoch`), and the rest
   *   of `OneCycleLROptions`.
   */
  constructor(optimizer: Optimizer<BaseOptions, object>, options: OneCycleLROptions) {
    const name = "OneCycleLR";
    const opt = checkOptimizer(name, optimizer);
    let totalSteps: number;
    if (options?.totalSteps !== undefined) {
      totalSteps = checkPositiveInteger(name, "totalSteps", options.totalSteps);
    } else if (options?.epochs !== undefined || options?.stepsPerEpoch !== undefined) {
      totalSteps = checkPositiveInteger(name, "epochs", options.epochs) *
        checkPositiveInteger(name, "stepsPerEpoch", options.stepsPerEpoch);
    } else {
      throw new TypeError(`${name}: give totalSteps, or epochs and stepsPerEpoch`);
    }
    const pct = checkNumber(name, "pctStart", options.pctStart ?? 0.3);
    if (!(pct >= 0 && pct <= 1)) {
      throw new RangeError(`${name}: pctStart must be in [0, 1], got ${pct}`);
    }
    const anneal = options.annealStrategy ?? "cos";
    if (anneal !== "cos" && anneal !== "linear") {
      throw new RangeError(`${name}: annealStrategy must be "cos" or "linear", got ${anneal}`);
    }
    const groups = opt.paramGroups as MomentumGroup[];
    const divFactor = checkNumber(name, "divFactor", options.divFactor ?? 25);
    const finalDivFactor = checkNumber(name, "finalDivFactor", options.finalDivFactor ?? 1e4);
    const maxLrs = perGroup(name, "maxLr", options.maxLr, groups.length);
    const lastEpoch = options.lastEpoch ?? -1;
    if (lastEpoch === -1) {
      groups.forEach((group, i) => {
        group.initialLr = maxLrs[i] / divFactor;
        group.maxLr = maxLrs[i];
        group.minLr = group.initialLr / finalDivFactor;
      });
    }
    const cycleMomentum = options.cycleMomentum ?? true;
    let useBeta1 = false;
    if (cycleMomentum) {
      if (!("momentum" in opt.defaults) && !("betas" in opt.defaults)) {
        throw new TypeError(
          `${name}: cycleMomentum needs an optimizer with momentum or betas; ` +
            `${opt.constructor.name} has neither (pass cycleMomentum: false)`,
        );
      }
      useBeta1 = "betas" in opt.defaults;
      const maxMomentums = perGroup(
        name,
        "maxMomentum",
        options.maxMomentum ?? 0.95,
        groups.length,
      );
      const baseMomentums = perGroup(
        name,
        "baseMomentum",
        options.baseMomentum ?? 0.85,
        groups.length,
      );
      if (lastEpoch === -1) {
        groups.forEach((group, i) => {
          if (useBeta1) group.betas = [maxMomentums[i], group.betas![1]];
          else group.momentum = maxMomentums[i];
          group.maxMomentum = maxMomentums[i];
          group.baseMomentum = baseMomentums[i];
        });
      }
    }
    super(opt, options);
    this.totalSteps = totalSteps;
    this.phases = options.threePhase
      ? [
        phase(pct * totalSteps - 1, "initialLr", "maxLr", "maxMomentum", "baseMomentum"),
        phase(2 * pct * totalSteps - 2, "maxLr", "initialLr", "baseMomentum", "maxMomentum"),
        phase(totalSteps - 1, "initialLr", "minLr", "maxMomentum", "maxMomentum"),
      ]
      : [
        phase(pct * totalSteps - 1, "initialLr", "maxLr", "maxMomentum", "baseMomentum"),
        phase(totalSteps - 1, "maxLr", "minLr", "baseMomentum", "maxMomentum"),
      ];
    this.annealStrategy = anneal;
    this.cycleMomentum = cycleMomentum;
    this.useBeta1 = useBeta1;
    this.initialStep();
  }

  #anneal(start: number, end: number, pct: number): number {
    if (this.annealStrategy === "linear") return (end - start) * pct + start;
    const cosOut = Math.cos(Math.PI * pct) + 1;
    return end + (start - end) / 2 * cosOut;
  }

  /** The rates for the new `lastEpoch`, from the groups' current rates (PyTorch's chainable form). */
  protected override getLr(): number[] {
    const stepNum = this.lastEpoch;
    if (stepNum > this.totalSteps) {
      throw new RangeError(
        `OneCycleLR: tried to step ${stepNum + 1} times; the cycle has ${this.totalSteps} steps`,
      );
    }
    return (this.optimizer.paramGroups as MomentumGroup[]).map((group) => {
      let startStep = 0;
      let lr = 0, momentum = 0;
      for (let i = 0; i < this.phases.length; i++) {
        const phase = this.phases[i];
        if (stepNum <= phase.endStep || i === this.phases.length - 1) {
          const pct = (stepNum - startStep) / (phase.endStep - startStep);
          lr = this.#anneal(group[phase.startLr]!, group[phase.endLr]!, pct);
          if (this.cycleMomentum) {
            momentum = this.#anneal(group[phase.startMomentum]!, group[phase.endMomentum]!, pct);
          }
          break;
        }
        startStep = phase.endStep;
      }
      if (this.cycleMomentum) {
        if (this.useBeta1) group.betas = [momentum, group.betas![1]];
        else group.momentum = momentum;
      }
      return lr;
    });
  }
}

function phase(
  endStep: number,
  startLr: OneCycleLRPhase["startLr"],
  endLr: OneCycleLRPhase["endLr"],
  startMomentum: OneCycleLRPhase["startMomentum"],
  endMomentum: OneCycleLRPhase["endMomentum"],
): OneCycleLRPhase {
  return { endStep, startLr, endLr, startMomentum, endMomentum };
}

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
    const out: SchedulerStateDict = {};
    for (const [key, value] of Object.entries(this)) {
      if (key !== "optimizer") out[key] = structuredClone(value);
    }
    return out;
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
