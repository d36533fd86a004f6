/**
 * Neural-network building blocks: the `Module` base class, layers, losses, functional
 * forms and the `init` namespace of initialisers. Modules are applied with
 * `module.forward(x)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossEntropy, Linear, manualSeed, noGrad, randn, ReLU, Sequential, tensor } from "@adamant/core";
 * manualSeed(0);
 * const model = new Sequential(new Linear(4, 16), new ReLU(), new Linear(16, 3));
 * const x = randn([8, 4]);
 * const y = tensor([0, 1, 2, 0, 1, 2, 0, 1], { dtype: "int32" });
 * const before = crossEntropy(model.forward(x), y).item();
 * for (let step = 0; step < 20; step++) {
 *   model.zeroGrad();
 *   crossEntropy(model.forward(x), y).backward();
 *   noGrad(() => {
 *     for (const p of model.parameters()) p.subInPlace(p.grad!.mul(0.1));
 *   });
 * }
 * assert(crossEntropy(model.forward(x), y).item() < before);
 * ```
 * @module
 */

export {
  type LoadStateDictOptions,
  type LoadStateDictResult,
  Module,
  type StateDict,
  type ZeroGradOptions,
} from "./module.ts";
export { Sequential } from "./container.ts";
export { Linear, type LinearOptions } from "./linear.ts";
export { Flatten } from "./flatten.ts";
export { AvgPool2d, Conv2d, type Conv2dLayerOptions, MaxPool2d } from "./conv.ts";
export { Dropout } from "./dropout.ts";
export { Embedding, type EmbeddingOptions } from "./embedding.ts";
export {
  BatchNorm1d,
  BatchNorm2d,
  BatchNormBase,
  type BatchNormOptions,
  LayerNorm,
  type LayerNormOptions,
} from "./norm.ts";
export {
  GELU,
  type GELUOptions,
  LeakyReLU,
  LogSoftmax,
  ReLU,
  Sigmoid,
  Softmax,
  Tanh,
} from "./activation.ts";
export {
  batchNorm,
  dropout,
  type DropoutOptions,
  type FunctionalBatchNormOptions,
  type FunctionalLayerNormOptions,
  layerNorm,
  linear,
} from "./functional.ts";
export {
  binaryCrossEntropyWithLogits,
  type BinaryCrossEntropyWithLogitsOptions,
  crossEntropy,
  type CrossEntropyOptions,
  huberLoss,
  type HuberLossOptions,
  l1Loss,
  type LossOptions,
  mseLoss,
  nllLoss,
  type NllLossOptions,
  type Reduction,
} from "./loss.ts";
export * as init from "./init.ts";
