/**
 * The learning-rate scheduler base, as PyTorch 1.13's `torch.optim.lr_scheduler`: each one sets
 * `lr` in the optimizer's parameter groups when `step()` is called (once per epoch, or
 * once per batch for `OneCycleLR`), with the same numbers as PyTorch's chainable forms.
 * @module
 */

import { type BaseOptions, Optimizer } from "./optimizer.ts";

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

export function checkOptimizer(name: string, optimizer: unknown): Optimizer<BaseOptions, object> {
  if (!(optimizer instanceof Optimizer)) {
    throw new TypeError(
      `${name}: the first argument must be an Optimizer, got ${String(optimizer)}`,
    );
  }
  return optimizer as Optimizer<BaseOptions, object>;
}

export function checkNumber(name: string, key: string, value: unknown): number {
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(`${name}: ${key} must be a number, got ${String(value)}`);
  }
  return value;
}

export function checkPositiveInteger(name: string, key: string, value: unknown): number {
  checkNumber(name, key, value);
  if (!Number.isInteger(value) || (value as number) <= 0) {
    throw new RangeError(`${name}: ${key} must be a positive integer, got ${value}`);
  }
  return value as number;
}

/** One number per parameter group, from a number or a list of them. */
export function perGroup(
  name: string,
  key: string,
  value: number | readonly number[],
  groups: number,
) {
  if (Array.isArray(value)) {
    if (value.length !== groups) {
      throw new RangeError(`${name}: expected ${groups} values for ${key}, got ${value.length}`);
    }
    value.forEach((v, i) => checkNumber(name, `${key}[${i}]`, v));
    return [...value] as number[];
  }
  return new Array<number>(groups).fill(checkNumber(name, key, value));
}

/** Every field of a scheduler but its optimizer, deep-copied: its state dict. */
export function stateOf(scheduler: object): SchedulerStateDict {
  const out: SchedulerStateDict = {};
  for (const [key, value] of Object.entries(scheduler)) {
    if (key !== "optimizer") out[key] = structuredClone(value);
  }
  return out;
}

/** Index of the first element of sorted `xs` greater than `x` (Python's bisect_right). */
export function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

export function copyState(
  target: object,
  state: SchedulerStateDict,
  skip: readonly string[],
): void {
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
    return stateOf(this);
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
