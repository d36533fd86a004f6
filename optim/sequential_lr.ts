/**
 * Runs several schedulers one after another.
 * @module
 */

import type { BaseOptions, Optimizer } from "./optimizer.ts";
import {
  bisectRight,
  copyState,
  LRScheduler,
  type SchedulerOptions,
  type SchedulerStateDict,
} from "./lr_scheduler.ts";

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
