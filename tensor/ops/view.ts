/**
 * Views: new shapes, strides and offsets over the same storage, with no copy. Their
 * gradients are views or copies back into the input's shape.
 * @module
 */

import { noGrad } from "../../autograd/grad_mode.ts";
import { unaryKernel } from "../cpu/elementwise.ts";
import { contiguousStrides, fmt, normalizeAxis, type Shape, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { full, gpuOperand } from "./elementwise.ts";
import { elementwise } from "../webgpu/elementwise.ts";
import { record } from "./record.ts";

function viewOf(x: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
  return new Tensor(x.storage, shape, strides, offset);
}

/** A contiguous copy of `x`. */
export function clone(x: Tensor): Tensor {
  const out = Tensor.empty(x.shape, x.dtype, x.device, "clone");
  if (x.device === "gpu") {
    elementwise("clone", "x", x.shape, x.dtype, gpuOperand(out), [gpuOperand(x)]);
  } else unaryKernel("x", x.shape, x, out, x.isContiguous);
  return record(out, "clone", [x], [], (g) => [g]);
}

/** Resolves a single -1 and checks the element count. */
function inferShape(op: string, x: Tensor, shape: Shape): number[] {
  const out = [...shape];
  const free = out.indexOf(-1);
  if (free !== out.lastIndexOf(-1)) {
    throw new TypeError(`${op}: only one dimension can be -1, got ${fmt(shape)}`);
  }
  for (const d of out) {
    if (d !== -1 && (!Number.isInteger(d) || d < 0)) {
      throw new TypeError(`${op}: ${fmt(shape)} is not a valid shape`);
    }
  }
  if (free >= 0) {
    const rest = sizeOf(out.filter((_, i) => i !== free));
    if (rest === 0 || x.size % rest !== 0) {
      throw new TypeError(
        `${op}: cannot reshape ${fmt(x.shape)} (${x.size} elements) into ${fmt(shape)}`,
      );
    }
    out[free] = x.size / rest;
  }
  if (sizeOf(out) !== x.size) {
    throw new TypeError(
      `${op}: cannot reshape ${fmt(x.shape)} (${x.size} elements) into ${fmt(shape)} ` +
        `(${sizeOf(out)} elements)`,
    );
  }
  return out;
}

/**
 * Strides for viewing `x` as `shape` without a copy, or null when its layout forbids it.
 * PyTorch's rule: each run of input dimensions that are contiguous with each other can be
 * split or merged freely; a reshape may not cross the boundary between runs.
 */
function viewStrides(x: Tensor, shape: Shape): number[] | null {
  if (x.isContiguous || x.size === 0) return contiguousStrides(shape);
  const strides = new Array<number>(shape.length);
  let v = shape.length - 1, base = x.strides[x.ndim - 1], tensorN = 1, viewN = 1;
  for (let d = x.ndim - 1; d >= 0; d--) {
    tensorN *= x.shape[d];
    if (d === 0 || (x.shape[d - 1] !== 1 && x.strides[d - 1] !== tensorN * base)) {
      while (v >= 0 && (viewN < tensorN || shape[v] === 1)) {
        strides[v] = viewN * base;
        viewN *= shape[v];
        v--;
      }
      if (viewN !== tensorN) return null;
      if (d > 0) {
        base = x.strides[d - 1];
        tensorN = 1;
        viewN = 1;
      }
    }
  }
  return v === -1 ? strides : null;
}

/** `x` with a new shape; a view when the layout allows, otherwise a copy. */
export function reshape(x: Tensor, shape: Shape): Tensor {
  const target = inferShape("reshape", x, shape);
  const strides = viewStrides(x, target);
  const out = strides === null
    ? noGrad(() => clone(x)).reshape(target)
    : viewOf(x, target, strides, x.offset);
  const from = x.shape;
  return record(out, "reshape", [x], [], (g) => [g.reshape(from)]);
}

/** Like `reshape` but never copies. */
export function view(x: Tensor, shape: Shape): Tensor {
  const target = inferShape("view", x, shape);
  if (viewStrides(x, target) === null) {
    throw new TypeError(
      `view: a tensor of shape ${fmt(x.shape)} with strides ${fmt(x.strides)} cannot be viewed ` +
        `as ${fmt(target)} without a copy; use reshape() or contiguous() first`,
    );
  }
  return reshape(x, target);
}

/** Merges dimensions `startDim`..`endDim` into one. */
export function flatten(x: Tensor, startDim: number, endDim: number): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeAxis("flatten", startDim, x.ndim),
    e = normalizeAxis("flatten", endDim, x.ndim);
  if (s > e) throw new RangeError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  const shape = [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)];
  return reshape(x, shape);
}

/** Removes size-1 dimensions (one `axis`, or all). */
export function squeeze(x: Tensor, axis?: number): Tensor {
  if (axis === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const a = normalizeAxis("squeeze", axis, x.ndim);
  if (x.ndim === 0 || x.shape[a] !== 1) return reshape(x, x.shape);
  return reshape(x, x.shape.filter((_, i) => i !== a));
}

/** Inserts a size-1 dimension at `axis` (which may be `ndim`). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis("unsqueeze", axis, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Reorders dimensions. */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  if (axes.length !== x.ndim) {
    throw new TypeError(`permute: got ${axes.length} axes for a tensor of ${x.ndim} dimensions`);
  }
  const ax = axes.map((a) => normalizeAxis("permute", a, x.ndim));
  if (new Set(ax).size !== ax.length) {
    throw new TypeError(`permute: axes ${fmt(axes)} repeat a dimension`);
  }
  const out = viewOf(x, ax.map((a) => x.shape[a]), ax.map((a) => x.strides[a]), x.offset);
  const inverse = new Array<number>(ax.length);
  ax.forEach((a, i) => (inverse[a] = i));
  return record(out, "permute", [x], [], (g) => [g.permute(inverse)]);
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, axis0: number, axis1: number): Tensor {
  const a = normalizeAxis("transpose", axis0, x.ndim),
    b = normalizeAxis("transpose", axis1, x.ndim);
  const axes = x.shape.map((_, i) => i);
  axes[a] = b;
  axes[b] = a;
  return permute(x, axes);
}

/** Broadcasts size-1 (or missing leading) dimensions to `shape`, with stride 0. */
export function expand(x: Tensor, shape: Shape): Tensor {
  const lead = shape.length - x.ndim;
  if (lead < 0) {
    throw new TypeError(`expand: cannot expand ${fmt(x.shape)} to fewer dimensions ${fmt(shape)}`);
  }
  const target = shape.map((d, i) => (d === -1 && i >= lead ? x.shape[i - lead] : d));
  const strides = target.map((d, i) => {
    if (i < lead) return 0;
    const xd = x.shape[i - lead];
    if (xd === d) return x.strides[i - lead];
    if (xd === 1) return 0;
    throw new TypeError(`expand: cannot expand ${fmt(x.shape)} to ${fmt(shape)} (dimension ${i})`);
  });
  if (target.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TypeError(`expand: ${fmt(shape)} is not a valid shape`);
  }
  const out = viewOf(x, target, strides, x.offset);
  const from = x.shape;
  return record(out, "expand", [x], [], (g) => [g.sumTo(from)]);
}

/**
 * A zero tensor of `shape` with `g` written into the view `select` picks out: the
 * gradient of a slicing op. Its own gradient is that view again.
 */
function embed(g: Tensor, shape: Shape, select: (t: Tensor) => Tensor): Tensor {
  const out = full(shape, 0, g.dtype, g.device);
  noGrad(() => {
    const part = select(out);
    part.copyInPlace(g);
    part.dispose();
  });
  return record(out, "embed", [g], [], (gg) => [select(gg)]);
}

function clampIndex(i: number, n: number): number {
  return Math.min(Math.max(i < 0 ? i + n : i, 0), n);
}

/** Elements `start` to `end` (exclusive) with `step` along `axis`; negatives count from the end. */
export function slice(
  x: Tensor,
  axis: number,
  start: number,
  end: number | undefined,
  step: number,
): Tensor {
  const a = normalizeAxis("slice", axis, x.ndim);
  if (!Number.isInteger(step) || step <= 0) {
    throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  }
  const n = x.shape[a];
  const s = clampIndex(start, n), e = Math.max(clampIndex(end ?? n, n), s);
  const len = Math.ceil((e - s) / step);
  const shape = [...x.shape];
  shape[a] = len;
  const strides = [...x.strides];
  strides[a] = x.strides[a] * step;
  const out = viewOf(x, shape, strides, x.offset + (len > 0 ? s * x.strides[a] : 0));
  const from = x.shape;
  return record(out, "slice", [x], [], (g) => [embed(g, from, (t) => t.slice(a, s, e, step))]);
}

/** `length` elements from `start` along `axis`. */
export function narrow(x: Tensor, axis: number, start: number, length: number): Tensor {
  const a = normalizeAxis("narrow", axis, x.ndim);
  const n = x.shape[a];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(length) || length < 0 || s < 0 || s + length > n) {
    throw new RangeError(
      `narrow: start ${start} and length ${length} do not fit dimension ${a} of size ${n}`,
    );
  }
  return slice(x, a, s, s + length, 1);
}

/** The slice at `index` along `axis`, with that dimension removed. */
export function select(x: Tensor, axis: number, index: number): Tensor {
  const a = normalizeAxis("select", axis, x.ndim);
  const n = x.shape[a];
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new RangeError(`select: index ${index} is out of range for dimension ${a} of size ${n}`);
  }
  const i = index < 0 ? index + n : index;
  const out = viewOf(
    x,
    x.shape.filter((_, k) => k !== a),
    x.strides.filter((_, k) => k !== a),
    x.offset + i * x.strides[a],
  );
  const from = x.shape;
  return record(out, "select", [x], [], (g) => [embed(g, from, (t) => t.select(a, i))]);
}
