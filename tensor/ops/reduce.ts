/**
 * Reductions (sum, mean, max/min, arg-max/min, variance, logsumexp) and softmax. Only
 * `sum`, `max`/`min` and softmax have kernels; the rest are compositions whose gradients
 * come for free.
 * @module
 */

import { noGrad } from "../../autograd/grad_mode.ts";
import { isFloat, type TypedArray } from "../dtype.ts";
import { reduceKernel, type Reducer } from "../cpu/elementwise.ts";
import { softmaxRows } from "../cpu/softmax.ts";
import { colSum, colSumCalls } from "../cpu/wasm_colsum.ts";
import { heapAddress } from "../heap.ts";
import {
  contiguousStrides,
  fmt,
  normalizeAxes,
  normalizeAxis,
  reducedShape,
  type Shape,
  sizeOf,
} from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { acquire, release } from "../pool.ts";
import { record } from "./record.ts";
import { gpuOperand } from "./elementwise.ts";
import { type LoopFold, reduceLoop } from "../webgpu/reduce_loop.ts";
import { reduce as gpuReduce } from "../webgpu/reduce.ts";
import { softmax as gpuSoftmax } from "../webgpu/softmax.ts";
import { encodeKernel } from "../webgpu/commands.ts";

const SUM: Reducer = { init: 0, fold: "acc + x" };
const MAX: Reducer = { init: -Infinity, fold: "(x > acc || x !== x) ? x : acc" };
const MIN: Reducer = { init: Infinity, fold: "(x < acc || x !== x) ? x : acc" };

/** Whether `axes` (sorted) are the last dimensions. */
function isSuffix(axes: readonly number[], ndim: number): boolean {
  return axes.every((a, i) => a === ndim - axes.length + i);
}

/**
 * Sums contiguous float32 `x` over its leading `axes` (a bias's gradient: the batch) into
 * the float64 `acc` by the SIMD column sum, when both lie in the heap; false otherwise.
 * Same order and precision as the strided loop, so the same bits.
 */
function sumLeadingSimd(x: Tensor, axes: readonly number[], acc: TypedArray): boolean {
  const leading = axes.every((a, i) => a === i);
  if (x.dtype !== "float32" || !x.isContiguous || !leading || x.size === 0) return false;
  const at = heapAddress(x.data), accAt = heapAddress(acc);
  const loop = at >= 0 && accAt >= 0 && acc instanceof Float64Array ? colSum() : null;
  if (loop === null) return false;
  const rows = sizeOf(axes.map((a) => x.shape[a]));
  acc.fill(0);
  loop(at + 4 * x.offset, accAt, rows, x.size / rows);
  colSumCalls.count++;
  return true;
}

/** Runs a reduction kernel over `axes`, returning the keep-dim result. */
function reduceForward(reducer: Reducer, x: Tensor, axes: readonly number[]): Tensor {
  const keepShape = reducedShape(x.shape, axes, true);
  if (x.device === "gpu") {
    const fold: LoopFold = reducer === SUM ? "sum" : reducer === MAX ? "max" : "min";
    const out = Tensor.empty(keepShape, x.dtype, "gpu", fold);
    reduceOnGpu(fold, x, axes, out);
    return out;
  }
  const out = Tensor.empty(keepShape, x.dtype);
  if (x.isContiguous && isSuffix(axes, x.ndim)) {
    const cols = sizeOf(axes.map((a) => x.shape[a]));
    reduceKernel(reducer, x.shape, x, out.data, [], { rows: out.size, cols });
  } else {
    const strides = contiguousStrides(keepShape).map((s, i) => (axes.includes(i) ? 0 : s));
    // accumulate in float64 so long float32 sums keep their precision, as the row path does
    const acc = out.dtype === "float32" ? acquire("float64", out.size) : out.data;
    if (reducer !== SUM || !sumLeadingSimd(x, axes, acc)) {
      reduceKernel(reducer, x.shape, x, acc, strides, null);
    }
    if (acc !== out.data) {
      out.data.set(acc);
      release(acc);
    }
  }
  return out;
}

/**
 * Records a GPU reduction of `x` over `axes` into the contiguous `out`: the tree
 * reduction kernels up to rank 4, a thread-per-output loop above (rare 5-D and wider).
 */
function reduceOnGpu(fold: LoopFold, x: Tensor, axes: readonly number[], out: Tensor): void {
  if (x.size === 0 || out.size === 0) {
    if (out.size > 0) out.fillInPlace(fold === "sum" ? 0 : NaN);
    return;
  }
  if (x.ndim > 4) {
    reduceLoop(fold, gpuOperand(x), x.shape, axes, out.buffer);
    return;
  }
  const dtype = x.dtype as "float32" | "int32";
  encodeKernel(fold, (device, encoder) =>
    gpuReduce(device, encoder, x.buffer, out.buffer, {
      op: fold,
      dtype,
      shape: x.shape,
      strides: x.strides,
      offset: x.offset,
      axes,
    }));
}

/** The keep-dim result in the caller's shape (a view when dimensions are dropped). */
function finish(out: Tensor, shape: Shape): Tensor {
  return shape.length === out.ndim ? out : out.reshape(shape);
}

/** Sum over `axes` (all when undefined). */
export function sum(
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDim: boolean,
): Tensor {
  const ax = normalizeAxes("sum", axes, x.ndim);
  const keep = reduceForward(SUM, x, ax);
  const out = finish(keep, reducedShape(x.shape, ax, keepDim));
  if (out !== keep) keep.dispose();
  const keepShape = reducedShape(x.shape, ax, true);
  return record(out, "sum", [x], [], (g) => [g.reshape(keepShape).expand(x.shape)]);
}

/** Mean over `axes`. */
export function mean(
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDim: boolean,
): Tensor {
  if (!isFloat(x.dtype)) throw new TypeError(`mean: needs a floating tensor, got ${x.dtype}`);
  const ax = normalizeAxes("mean", axes, x.ndim);
  const count = sizeOf(ax.map((a) => x.shape[a]));
  return sum(x, ax, keepDim).div(count);
}

/** Max or min over `axes`; backward shares the gradient evenly among tied extremes. */
export function extreme(
  name: "max" | "min",
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDim: boolean,
): Tensor {
  const ax = normalizeAxes(name, axes, x.ndim);
  if (ax.some((a) => x.shape[a] === 0)) {
    throw new RangeError(`${name}: cannot reduce an empty dimension of shape ${fmt(x.shape)}`);
  }
  const keep = reduceForward(name === "max" ? MAX : MIN, x, ax);
  const out = finish(keep, reducedShape(x.shape, ax, keepDim));
  return record(out, name, [x], [x, keep], (g) => {
    const mask = x.eq(keep);
    const gk = g.reshape(keep.shape);
    return [gk.div(mask.sum(ax, true)).mul(mask)];
  });
}

/** int32 indices of the first maximum (or minimum) along `axis`. */
export function argExtreme(
  name: "argmax" | "argmin",
  x: Tensor,
  axis: number | undefined,
  keepDim: boolean,
): Tensor {
  if (axis === undefined) {
    const flat = argExtreme(name, x.reshape([-1]), 0, false);
    return keepDim ? flat.reshape(x.shape.map(() => 1)) : flat;
  }
  const a = normalizeAxis(name, axis, x.ndim);
  const n = x.ndim === 0 ? 1 : x.shape[a];
  if (n === 0) {
    throw new RangeError(`${name}: cannot reduce an empty dimension of shape ${fmt(x.shape)}`);
  }
  if (x.device === "gpu") {
    const out = Tensor.empty(reducedShape(x.shape, [a], keepDim), "int32", "gpu", name);
    reduceOnGpu(name, x.ndim === 0 ? x.reshape([1]) : x, [a], out);
    return out;
  }
  const order = x.shape.map((_, i) => i).filter((i) => i !== a);
  const moved = x.ndim === 0 ? x.reshape([1]) : x.permute([...order, a]).contiguous();
  const data = moved.data, rows = moved.size / n;
  const out = Tensor.empty(reducedShape(x.shape, [a], keepDim), "int32");
  const idx = out.data;
  const better = name === "argmax"
    ? (v: number, best: number) => v > best || (v !== v && best === best)
    : (v: number, best: number) => v < best || (v !== v && best === best);
  for (let r = 0; r < rows; r++) {
    const p = moved.offset + r * n;
    let best = data[p], at = 0;
    for (let c = 1; c < n; c++) {
      if (better(data[p + c], best)) {
        best = data[p + c];
        at = c;
      }
    }
    idx[r] = at;
  }
  if (moved !== x) moved.dispose();
  return out;
}

/**
 * Options of `var` and `std`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * assert(tensor([1, 3]).var(undefined, { unbiased: false }).item() === 1);
 * ```
 */
export interface VarOptions {
  /** Divide by n - 1 (Bessel's correction) instead of n; default true, as in PyTorch. */
  unbiased?: boolean;
  /** Keep reduced dimensions as size 1. */
  keepDim?: boolean;
}

/** Variance over `axes`, as a composition of differentiable ops. */
export function variance(
  x: Tensor,
  axes: number | readonly number[] | undefined,
  options: VarOptions,
): Tensor {
  const ax = normalizeAxes("var", axes, x.ndim);
  const n = sizeOf(ax.map((a) => x.shape[a]));
  const ddof = (options.unbiased ?? true) ? 1 : 0;
  const diff = x.sub(x.mean(ax, true));
  return diff.mul(diff).sum(ax, options.keepDim ?? false).div(Math.max(n - ddof, 0));
}

/** `log(sum(exp(x)))` over `axes`, shifted by the (constant) maximum for stability. */
export function logsumexp(
  x: Tensor,
  axes: number | readonly number[] | undefined,
  keepDim: boolean,
): Tensor {
  const ax = normalizeAxes("logsumexp", axes, x.ndim);
  const m = noGrad(() => {
    const raw = x.max(ax, true);
    return raw.abs().eq(Infinity).where(0, raw);
  });
  const out = x.sub(m).exp().sum(ax, true).log().add(m);
  return keepDim ? out : out.reshape(reducedShape(x.shape, ax, false));
}

/** Softmax or log-softmax along `axis`. */
export function softmax(x: Tensor, axis: number, log: boolean): Tensor {
  const name = log ? "logSoftmax" : "softmax";
  if (!isFloat(x.dtype)) throw new TypeError(`${name}: needs a floating tensor, got ${x.dtype}`);
  const a = normalizeAxis(name, axis, x.ndim);
  if (x.ndim > 0 && a !== x.ndim - 1) {
    const perm = x.shape.map((_, i) => i);
    perm[a] = x.ndim - 1;
    perm[x.ndim - 1] = a;
    return softmax(x.permute(perm), -1, log).permute(perm);
  }
  let out: Tensor;
  if (x.device === "gpu") out = softmaxOnGpu(x, log);
  else {
    const src = x.contiguous();
    const cols = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
    out = Tensor.empty(x.shape, x.dtype);
    softmaxRows(src.data, src.offset, out.data, cols === 0 ? 0 : x.size / cols, cols, log);
    if (src !== x) src.dispose();
  }
  return record(
    out,
    name,
    [x],
    [out],
    (g) =>
      log ? [g.sub(out.exp().mul(g.sum(-1, true)))] : [out.mul(g.sub(g.mul(out).sum(-1, true)))],
  );
}

/** Softmax or log-softmax over the last axis of a GPU tensor, with the row kernels. */
function softmaxOnGpu(x: Tensor, log: boolean): Tensor {
  const src = x.contiguous();
  const cols = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
  const rows = cols === 0 ? 0 : x.size / cols;
  const out = Tensor.empty(x.shape, x.dtype, "gpu", log ? "logSoftmax" : "softmax");
  encodeKernel(
    log ? "logSoftmax" : "softmax",
    (device, encoder) =>
      gpuSoftmax(device, encoder, src.buffer, out.buffer, { rows, cols, log, offset: src.offset }),
  );
  if (src !== x) src.dispose();
  return out;
}

/** Sums `g` down to `shape`, undoing a broadcast. */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  const lead = g.ndim - shape.length;
  const bad = lead < 0 || shape.some((d, i) => d !== 1 && d !== g.shape[lead + i]);
  if (bad) throw new TypeError(`sumTo: shape ${fmt(g.shape)} cannot be summed to ${fmt(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  if (axes.length === 0) return g.reshape(shape);
  return g.sum(axes, true).reshape(shape);
}
