/**
 * The `Tensor`, its creation functions, the seeded generator and memory scopes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randn, tidy } from "@adamant/core/tensor";
 * const y = tidy(() => randn([2, 3]).relu().sum());
 * assert(y.item() >= 0);
 * ```
 * @module
 */

export { type HookHandle, type NestedArray, Tensor, type TensorLike } from "./tensor.ts";
export type { DType, TypedArray } from "./dtype.ts";
export type { Shape } from "./shape.ts";
export type { VarOptions } from "./ops/reduce.ts";
export {
  arange,
  bernoulli,
  type CreateOptions,
  eye,
  full,
  fullLike,
  linspace,
  ones,
  onesLike,
  rand,
  randint,
  randLike,
  randn,
  randnLike,
  type RandomOptions,
  tensor,
  type TensorOptions,
  zeros,
  zerosLike,
} from "./creation.ts";
export { concat, maximum, minimum, stack, where } from "./functional.ts";
export { defaultGenerator, Generator, manualSeed } from "./random.ts";
export { keep, tidy } from "./scope.ts";
export { Storage } from "./storage.ts";
export { type Expr, Pending } from "./lazy.ts";
export { memory, type MemoryInfo } from "./pool.ts";
export { gpuAvailable, initGpu } from "./webgpu/device.ts";
export { gpuSynchronize } from "./webgpu/commands.ts";
export type { GpuMemoryInfo } from "./webgpu/buffer_pool.ts";
export type { Device } from "./device.ts";
export {
  avgPool2d,
  type AvgPool2dOptions,
  conv2d,
  type Conv2dOptions,
  fold,
  maxPool2d,
  type MaxPool2dOptions,
  unfold,
  type UnfoldOptions,
} from "./ops/conv.ts";
