/**
 * The one-cycle policy: warm up, then anneal, cycling momentum the other way.
 * @module
 */

import type { BaseOptions, Optimizer, ParamGroup } from "./optimizer.ts";
import {
  checkNumber,
  checkOptimizer,
  checkPositiveInteger,
  LRScheduler,
  perGroup,
  type SchedulerOptions,
} from "./lr_scheduler.ts";

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
