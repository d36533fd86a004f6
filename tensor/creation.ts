/**
 * Creating tensors: from data, constant fills, ranges, and seeded random draws.
 * @module
 */

import { type DType, dtypeOfArray, isDType, isFloat, type TypedArray } from "./dtype.ts";
import { defaultGenerator, type Generator } from "./random.ts";
import { checkShape, fmt, type Shape } from "./shape.ts";
import { type Device, isDevice } from "./device.ts";
import { fromData, full as fullOf, toDevice } from "./ops/elementwise.ts";
import { type NestedArray, Tensor, type TensorLike } from "./tensor.ts";

/**
 * Options shared by the creation functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@adamant/core";
 * const w = zeros([2, 2], { dtype: "float64", requiresGrad: true });
 * assert(w.dtype === "float64" && w.requiresGrad);
 * ```
 */
export interface CreateOptions {
  /** Element type; float32 unless the data says otherwise. */
  dtype?: DType;
  /** Make the new tensor a leaf that collects gradients. */
  requiresGrad?: boolean;
  /** Where the tensor lives: `"cpu"` (default) or `"gpu"` (after `await initGpu()`). */
  device?: Device;
}

/**
 * Options of `tensor()`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * const t = tensor(new Float32Array(6), { shape: [2, 3] });
 * assert(t.shape.join() === "2,3");
 * ```
 */
export interface TensorOptions extends CreateOptions {
  /** The shape for flat data (typed arrays or flat number arrays). */
  shape?: Shape;
  /** Reject NaN and infinite values, naming the first position (for untrusted input). */
  checkFinite?: boolean;
}

/**
 * Options of the random creation functions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Generator, rand } from "@adamant/core";
 * const g = new Generator(3);
 * assert(rand([2], { generator: g }).size === 2);
 * ```
 */
export interface RandomOptions extends CreateOptions {
  /** The generator to draw from; the default generator (see `manualSeed`) otherwise. */
  generator?: Generator;
}

function dtypeOption(op: string, options: CreateOptions | undefined, fallback: DType): DType {
  const dtype = options?.dtype ?? fallback;
  if (!isDType(dtype)) {
    throw new TypeError(
      `${op}: option dtype must be "float32", "int32" or "float64", got ${String(dtype)}`,
    );
  }
  return dtype;
}

function deviceOption(op: string, options: CreateOptions | undefined): Device {
  const device = options?.device ?? "cpu";
  if (!isDevice(device)) {
    throw new TypeError(`${op}: option device must be "cpu" or "gpu", got ${String(device)}`);
  }
  return device;
}

/** Moves a new CPU tensor to the requested device and sets `requiresGrad`. */
function finish(t: Tensor, options: CreateOptions | undefined, op = "tensor"): Tensor {
  if (deviceOption(op, options) === "gpu") {
    const moved = toDevice(t, "gpu", op);
    t.dispose();
    t = moved;
  }
  if (options?.requiresGrad) t.requiresGrad = true;
  return t;
}

/** Shape of nested arrays, checking that they are rectangular. */
function nestedShape(data: NestedArray, path = "data"): number[] {
  if (typeof data === "number") return [];
  if (!Array.isArray(data)) {
    throw new TypeError(`tensor: ${path} is ${String(data)}, not a number or an array`);
  }
  if (data.length === 0) return [0];
  const inner = nestedShape(data[0], `${path}[0]`);
  for (let i = 1; i < data.length; i++) {
    const s = nestedShape(data[i], `${path}[${i}]`);
    if (s.join() !== inner.join()) {
      throw new TypeError(
        `tensor: ragged nested array: ${path}[${i}] has shape ${fmt(s)}, ${path}[0] has ${
          fmt(inner)
        }`,
      );
    }
  }
  return [data.length, ...inner];
}

/**
 * A tensor from nested arrays, a flat array or a typed array (with `shape`), or a number.
 * Typed arrays keep their dtype unless `dtype` says otherwise; numbers become float32.
 *
 * @param data The values.
 * @param options `dtype`, `shape`, `requiresGrad`, `checkFinite`.
 * @returns A new contiguous tensor (the data is copied).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * const t = tensor([[1, 2, 3], [4, 5, 6]]);
 * assert(t.shape.join() === "2,3" && t.dtype === "float32");
 * ```
 */
export function tensor(data: NestedArray | TypedArray, options: TensorOptions = {}): Tensor {
  let flat: ArrayLike<number>, shape: number[];
  let fallback: DType = "float32";
  if (ArrayBuffer.isView(data)) {
    const dt = dtypeOfArray(data);
    if (dt === undefined) {
      throw new TypeError(
        `tensor: ${data.constructor.name} is not supported; use Float32Array, Int32Array or Float64Array`,
      );
    }
    fallback = dt;
    flat = data;
    shape = options.shape ? checkShape("tensor", options.shape) : [data.length];
  } else {
    shape = nestedShape(data);
    flat = typeof data === "number" ? [data] : (data as unknown[]).flat(Infinity) as number[];
    if (options.shape) {
      const target = checkShape("tensor", options.shape);
      if (shape.length > 1) {
        throw new TypeError("tensor: option shape needs flat data, got nested arrays");
      }
      shape = target;
    }
  }
  const dtype = dtypeOption("tensor", options, fallback);
  if (options.checkFinite) {
    for (let i = 0; i < flat.length; i++) {
      if (!Number.isFinite(flat[i])) {
        throw new RangeError(`tensor: value ${flat[i]} at flat index ${i} is not finite`);
      }
    }
  }
  return finish(fromData(flat, shape, dtype), options);
}

/**
 * A tensor of `shape` filled with `value`.
 *
 * @param shape The size of each dimension.
 * @param value The fill value.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { full } from "@adamant/core";
 * assert(full([2], 7).toArray()[1] === 7);
 * ```
 */
export function full(shape: Shape, value: number, options?: CreateOptions): Tensor {
  const dtype = dtypeOption("full", options, "float32");
  const out = fullOf(checkShape("full", shape), value, dtype, deviceOption("full", options));
  if (options?.requiresGrad) out.requiresGrad = true;
  return out;
}

/**
 * A tensor of zeros.
 *
 * @param shape The size of each dimension.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@adamant/core";
 * assert(zeros([2, 3]).sum().item() === 0);
 * ```
 */
export function zeros(shape: Shape, options?: CreateOptions): Tensor {
  return full(shape, 0, options);
}

/**
 * A tensor of ones.
 *
 * @param shape The size of each dimension.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones } from "@adamant/core";
 * assert(ones([2, 3]).sum().item() === 6);
 * ```
 */
export function ones(shape: Shape, options?: CreateOptions): Tensor {
  return full(shape, 1, options);
}

/**
 * Zeros shaped like `t` (and of its dtype unless given).
 *
 * @param t The model tensor.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones, zerosLike } from "@adamant/core";
 * assert(zerosLike(ones([3])).sum().item() === 0);
 * ```
 */
export function zerosLike(t: Tensor, options?: CreateOptions): Tensor {
  return full(t.shape, 0, { dtype: t.dtype, device: t.device, ...options });
}

/**
 * Ones shaped like `t`.
 *
 * @param t The model tensor.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { onesLike, zeros } from "@adamant/core";
 * assert(onesLike(zeros([3])).sum().item() === 3);
 * ```
 */
export function onesLike(t: Tensor, options?: CreateOptions): Tensor {
  return full(t.shape, 1, { dtype: t.dtype, device: t.device, ...options });
}

/**
 * `value` everywhere, shaped like `t`.
 *
 * @param t The model tensor.
 * @param value The fill value.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fullLike, zeros } from "@adamant/core";
 * assert(fullLike(zeros([2]), 5).sum().item() === 10);
 * ```
 */
export function fullLike(t: Tensor, value: number, options?: CreateOptions): Tensor {
  return full(t.shape, value, { dtype: t.dtype, device: t.device, ...options });
}

/**
 * Values from `start` up to (not including) `end` in steps of `step`; with one argument,
 * from 0 to it.
 *
 * @param start The first value (or the end, when `end` is omitted).
 * @param end The bound, excluded.
 * @param step The increment (non-zero).
 * @param options `dtype` (float32 by default), `requiresGrad`.
 * @returns A new 1-D tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange } from "@adamant/core";
 * assert(arange(5).toArray().join() === "0,1,2,3,4");
 * assert(arange(1, 2, 0.5).toArray().join() === "1,1.5");
 * ```
 */
export function arange(start: number, end?: number, step = 1, options?: CreateOptions): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0 || !Number.isFinite(step)) {
    throw new RangeError(`arange: step must be finite and non-zero, got ${step}`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const out = Tensor.empty([n], dtypeOption("arange", options, "float32"));
  for (let i = 0; i < n; i++) out.data[i] = start + i * step;
  return finish(out, options, "arange");
}

/**
 * `steps` evenly spaced values from `start` to `end`, both included.
 *
 * @param start The first value.
 * @param end The last value.
 * @param steps How many values (at least 0).
 * @param options `dtype`, `requiresGrad`.
 * @returns A new 1-D tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linspace } from "@adamant/core";
 * assert(linspace(0, 1, 3).toArray().join() === "0,0.5,1");
 * ```
 */
export function linspace(
  start: number,
  end: number,
  steps: number,
  options?: CreateOptions,
): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  }
  const out = Tensor.empty([steps], dtypeOption("linspace", options, "float32"));
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  // fill from both ends, as PyTorch does, so the last value is exactly `end`
  const half = steps === 1 ? 1 : Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out.data[i] = i < half ? start + i * delta : end - (steps - 1 - i) * delta;
  }
  return finish(out, options, "linspace");
}

/**
 * An identity matrix: `n` rows, `m` columns (default `n`).
 *
 * @param n Rows.
 * @param m Columns.
 * @param options `dtype`, `requiresGrad`.
 * @returns A new 2-D tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eye } from "@adamant/core";
 * assert(eye(3).sum().item() === 3);
 * ```
 */
export function eye(n: number, m = n, options?: CreateOptions): Tensor {
  const out = fullOf(checkShape("eye", [n, m]), 0, dtypeOption("eye", options, "float32"));
  for (let i = 0; i < Math.min(n, m); i++) out.data[i * m + i] = 1;
  return finish(out, options, "eye");
}

function random(
  op: string,
  shape: Shape,
  options: RandomOptions | undefined,
  draw: (g: Generator) => number,
): Tensor {
  const dtype = dtypeOption(op, options, "float32");
  const out = Tensor.empty(checkShape(op, shape), dtype);
  const g = options?.generator ?? defaultGenerator;
  for (let i = 0; i < out.size; i++) out.data[i] = draw(g);
  return finish(out, options, op);
}

/**
 * Uniform samples from [0, 1), drawn from the seeded generator.
 *
 * @param shape The size of each dimension.
 * @param options `dtype`, `requiresGrad`, `generator`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rand } from "@adamant/core";
 * const x = rand([100]);
 * assert(x.min().item() >= 0 && x.max().item() < 1);
 * ```
 */
export function rand(shape: Shape, options?: RandomOptions): Tensor {
  return random("rand", shape, options, (g) => g.uniform());
}

/**
 * Standard normal samples, drawn from the seeded generator.
 *
 * @param shape The size of each dimension.
 * @param options `dtype`, `requiresGrad`, `generator`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randn } from "@adamant/core";
 * assert(Math.abs(randn([10000]).mean().item()) < 0.05);
 * ```
 */
export function randn(shape: Shape, options?: RandomOptions): Tensor {
  return random("randn", shape, options, (g) => g.normal());
}

/**
 * Uniform integers in [low, high), int32 by default.
 *
 * @param low Smallest value.
 * @param high Bound, excluded.
 * @param shape The size of each dimension.
 * @param options `dtype`, `generator`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randint } from "@adamant/core";
 * const x = randint(0, 10, [50]);
 * assert(x.dtype === "int32" && x.max().item() < 10);
 * ```
 */
export function randint(low: number, high: number, shape: Shape, options?: RandomOptions): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got low ${low}, high ${high}`);
  }
  return random("randint", shape, { dtype: "int32", ...options }, (g) => g.integer(low, high));
}

/**
 * 1 with probability `p` (a number, or a tensor of probabilities), 0 otherwise.
 *
 * @param p The probability of a 1, in [0, 1].
 * @param shape The shape when `p` is a number.
 * @param options `dtype`, `generator`.
 * @returns A new tensor of 0s and 1s.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bernoulli } from "@adamant/core";
 * assert(bernoulli(1, [4]).sum().item() === 4);
 * ```
 */
export function bernoulli(p: TensorLike, shape?: Shape, options?: RandomOptions): Tensor {
  if (typeof p === "number") {
    if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulli: p must be in [0, 1], got ${p}`);
    return random("bernoulli", shape ?? [], options, (g) => (g.uniform() < p ? 1 : 0));
  }
  if (!isFloat(p.dtype)) {
    throw new TypeError(`bernoulli: p must be a floating tensor, got ${p.dtype}`);
  }
  const probs = p.toArray();
  let i = 0;
  return random(
    "bernoulli",
    p.shape,
    { dtype: p.dtype, ...options },
    (g) => (g.uniform() < probs[i++] ? 1 : 0),
  );
}

/**
 * Uniform samples in [0, 1) shaped like `t`.
 *
 * @param t The model tensor.
 * @param options `dtype`, `generator`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randLike, zeros } from "@adamant/core";
 * assert(randLike(zeros([3])).size === 3);
 * ```
 */
export function randLike(t: Tensor, options?: RandomOptions): Tensor {
  return rand(t.shape, { dtype: t.dtype, device: t.device, ...options });
}

/**
 * Standard normal samples shaped like `t`.
 *
 * @param t The model tensor.
 * @param options `dtype`, `generator`.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randnLike, zeros } from "@adamant/core";
 * assert(randnLike(zeros([3])).size === 3);
 * ```
 */
export function randnLike(t: Tensor, options?: RandomOptions): Tensor {
  return randn(t.shape, { dtype: t.dtype, device: t.device, ...options });
}
