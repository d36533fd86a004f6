/**
 * Optimizers, learning-rate schedulers and gradient clipping, with PyTorch 1.13's
 * semantics. The optimizers are thin classes over the pure update functions of
 * `update.ts` (`adamUpdate`, `sgdUpdate`, …), which work on flat typed arrays and an index
 * range so that a worker can update its own shard with the very same formula.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, clipGradNorm, CosineAnnealingLR, tensor } from "@adamant/core";
 * const w = tensor([3, -2], { requiresGrad: true });
 * const opt = new Adam([w], { lr: 0.1 });
 * const schedule = new CosineAnnealingLR(opt, { tMax: 100 });
 * for (let epoch = 0; epoch < 100; epoch++) {
 *   opt.zeroGrad();
 *   w.square().sum().backward();
 *   clipGradNorm([w], 1);
 *   opt.step();
 *   schedule.step();
 * }
 * assert(w.abs().max().item() < 0.5);
 * ```
 * @module
 */

export {
  type BaseOptions,
  type DeviceUpdate,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type SchedulerFields,
  type StateValue,
} from "./optimizer.ts";
export { Adam, type AdamOptions, type AdamParamState } from "./adam.ts";
export { AdamW } from "./adamw.ts";
export { SGD, type SGDOptions, type SGDParamState } from "./sgd.ts";
export { RMSprop, type RMSpropOptions, type RMSpropParamState } from "./rmsprop.ts";
export { Adagrad, type AdagradOptions, type AdagradParamState } from "./adagrad.ts";
export {
  type AdagradHyper,
  type AdagradState,
  adagradUpdate,
  type AdamHyper,
  type AdamState,
  adamUpdate,
  adamwUpdate,
  type FloatArray,
  type RMSpropHyper,
  type RMSpropState,
  rmspropUpdate,
  type SGDHyper,
  type SGDState,
  sgdUpdate,
} from "./update.ts";
export { LRScheduler, type SchedulerOptions, type SchedulerStateDict } from "./lr_scheduler.ts";
export { StepLR, type StepLROptions } from "./step_lr.ts";
export { MultiStepLR, type MultiStepLROptions } from "./multi_step_lr.ts";
export { ExponentialLR, type ExponentialLROptions } from "./exponential_lr.ts";
export { CosineAnnealingLR, type CosineAnnealingLROptions } from "./cosine_annealing_lr.ts";
export { LinearLR, type LinearLROptions } from "./linear_lr.ts";
export { SequentialLR, type SequentialLROptions } from "./sequential_lr.ts";
export { OneCycleLR, type OneCycleLROptions, type OneCycleLRPhase } from "./one_cycle_lr.ts";
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from "./reduce_lr_on_plateau.ts";
export { clipGradNorm, type ClipGradNormOptions, clipGradValue } from "./clip.ts";
