/**
 * Datasets: the `Dataset` interface the `DataLoader` reads, and `TensorDataset`, which
 * holds a whole data set as two tensors whose first dimension counts the samples.
 * @module
 */

import { keep } from "../tensor/scope.ts";
import { fmt } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";

/**
 * Inputs `x` and targets `y`: one sample from `Dataset.get`, or many (first dimension =
 * samples) from a loader, `loadDigits` or `loadFashionMnist`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Sample, tensor } from "@adamant/core";
 * const s: Sample = { x: tensor([0.5, 0.25]), y: tensor(3, { dtype: "int32" }) };
 * assert(s.y.item() === 3);
 * ```
 */
export interface Sample {
  /** The inputs (features, pixels). */
  x: Tensor;
  /** The targets (class indices, values). */
  y: Tensor;
}

/**
 * What a `DataLoader` reads: `length` samples, each returned by `get(i)` as tensors the
 * caller owns (the loader disposes them once copied into the batch). A dataset that can
 * also copy many samples at once implements `getBatch`, which the loader then prefers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Dataset, DataLoader, tensor } from "@adamant/core";
 * const squares: Dataset = {
 *   length: 4,
 *   get: (i) => ({ x: tensor([i]), y: tensor([i * i]) }),
 * };
 * const [first] = new DataLoader(squares, { batchSize: 4 });
 * assert(first.y.toArray().join() === "0,1,4,9");
 * ```
 */
export interface Dataset {
  /** Number of samples. */
  readonly length: number;
  /**
   * Sample `index`, in `[0, length)`.
   *
   * @param index The sample's position.
   * @returns Its inputs and targets, owned by the caller.
   */
  get(index: number): Sample;
  /**
   * Optional fast path: samples `indices[start]` … `indices[end - 1]` stacked along a new
   * first dimension, as new tensors owned by the caller.
   *
   * @param indices Sample positions.
   * @param start First entry of `indices` to use.
   * @param end Entry after the last to use.
   * @returns The batch.
   */
  getBatch?(indices: Int32Array, start: number, end: number): Sample;
}

/** Rows at least this many elements wide are copied with `set` rather than a loop. */
const WIDE_ROW = 32;

/**
 * Rows `indices[start]` … `indices[end - 1]` of `t` along its first dimension, copied into
 * one new tensor from the buffer pool (one buffer per call, none per row).
 *
 * @param op The caller's name, for errors.
 * @param t The source; its first dimension counts the rows.
 * @param indices Row numbers.
 * @param start First entry of `indices` to use.
 * @param end Entry after the last to use.
 * @returns A contiguous tensor of shape `[end - start, ...t.shape.slice(1)]`.
 */
export function gatherRows(
  op: string,
  t: Tensor,
  indices: Int32Array,
  start: number,
  end: number,
): Tensor {
  const src = contiguousCopy(t);
  const rows = src.shape[0], width = src.size / Math.max(rows, 1);
  const out = Tensor.empty([end - start, ...src.shape.slice(1)], src.dtype);
  const from = src.data, to = out.data, base = src.offset;
  for (let k = start, o = 0; k < end; k++, o += width) {
    const r = indices[k];
    if (!(r >= 0 && r < rows)) {
      out.dispose();
      if (src !== t) src.dispose();
      throw new RangeError(`${op}: sample index ${r} is out of range for ${rows} samples`);
    }
    const s = base + r * width;
    // wide rows: set() is a memcpy, about twice the speed of the element loop, for the
    // price of one small view object per row; narrow rows (labels): the loop, no garbage
    if (width >= WIDE_ROW) to.set(from.subarray(s, s + width), o);
    else for (let i = 0; i < width; i++) to[o + i] = from[s + i];
  }
  if (src !== t) src.dispose();
  return out;
}

/**
 * A data set held as two tensors, `x` and `y`, whose first dimension counts the samples
 * (`x: [N, ...]`, `y: [N, ...]`). `get(i)` returns views of row `i` (no copy); the
 * `DataLoader` gathers whole batches with one copy per batch. The tensors are referenced,
 * not copied (a non-contiguous one is copied once into contiguous memory), so keep them
 * alive, and out of any `tidy` scope that would dispose them, while the dataset is used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TensorDataset, tensor } from "@adamant/core";
 * const ds = new TensorDataset(tensor([[1, 2], [3, 4], [5, 6]]), tensor([0, 1, 0], { dtype: "int32" }));
 * assert(ds.length === 3);
 * assert(ds.get(1).x.toArray().join() === "3,4" && ds.get(1).y.item() === 1);
 * ```
 */
export class TensorDataset implements Dataset {
  /** The inputs of every sample, `[N, ...]`. */
  readonly x: Tensor;
  /** The targets of every sample, `[N, ...]`. */
  readonly y: Tensor;

  /**
   * Wraps `x` and `y`, which must agree on their first dimension.
   *
   * @param x Inputs, first dimension = samples.
   * @param y Targets, first dimension = samples.
   */
  constructor(x: Tensor, y: Tensor) {
    for (const [name, t] of [["x", x], ["y", y]] as const) {
      if (!(t instanceof Tensor)) {
        throw new TypeError(`TensorDataset: ${name} must be a Tensor, got ${describe(t)}`);
      }
      if (t.ndim === 0) {
        throw new TypeError(
          `TensorDataset: ${name} must have a first dimension counting the samples, got a scalar`,
        );
      }
    }
    if (x.shape[0] !== y.shape[0]) {
      throw new TypeError(
        `TensorDataset: x of shape ${fmt(x.shape)} and y of shape ${fmt(y.shape)} ` +
          `disagree on the number of samples (${x.shape[0]} vs ${y.shape[0]})`,
      );
    }
    this.x = x.isContiguous ? x : keep(contiguousCopy(x));
    this.y = y.isContiguous ? y : keep(contiguousCopy(y));
  }

  /** Number of samples. */
  get length(): number {
    return this.x.shape[0];
  }

  /**
   * Sample `index` as views of row `index` of `x` and `y` (dispose them, or not: the
   * dataset's memory stays with the dataset).
   *
   * @param index The sample's position, in `[0, length)`.
   * @returns Row `index` of `x` and of `y`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TensorDataset, tensor } from "@adamant/core";
   * const ds = new TensorDataset(tensor([[1], [2]]), tensor([5, 6]));
   * assert(ds.get(1).y.item() === 6);
   * ```
   */
  get(index: number): Sample {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) {
      throw new RangeError(
        `TensorDataset.get: index ${index} is out of range for ${this.length} samples`,
      );
    }
    return { x: this.x.select(0, index), y: this.y.select(0, index) };
  }

  /**
   * Samples `indices[start]` … `indices[end - 1]`, copied into one new `x` and one new `y`
   * tensor from the buffer pool.
   *
   * @param indices Sample positions.
   * @param start First entry of `indices` to use (default 0).
   * @param end Entry after the last to use (default `indices.length`).
   * @returns The stacked batch, owned by the caller.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { TensorDataset, tensor } from "@adamant/core";
   * const ds = new TensorDataset(tensor([[1], [2], [3]]), tensor([5, 6, 7]));
   * const { x, y } = ds.getBatch(new Int32Array([2, 0]));
   * assert(x.toArray().join() === "3,1" && y.toArray().join() === "7,5");
   * ```
   */
  getBatch(indices: Int32Array, start = 0, end: number = indices.length): Sample {
    const x = gatherRows("TensorDataset.getBatch", this.x, indices, start, end);
    try {
      return { x, y: gatherRows("TensorDataset.getBatch", this.y, indices, start, end) };
    } catch (e) {
      x.dispose();
      throw e;
    }
  }
}

/** `t` itself when contiguous, else a contiguous copy cut from the autograd graph. */
function contiguousCopy(t: Tensor): Tensor {
  if (t.isContiguous) return t;
  const detached = t.detach();
  const copy = detached.contiguous();
  detached.dispose();
  return copy;
}

/** A short description of a value of the wrong type, for error messages. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "an object";
  return `${typeof value} ${String(value)}`;
}
