/**
 * Ops that combine tensors or pick elements by index: concat, stack, gather, scatterAdd,
 * indexSelect and oneHot.
 * @module
 */

import { noGrad } from "../../autograd/grad_mode.ts";
import { fmt, normalizeAxis, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { full, gpuOperand } from "./elementwise.ts";
import { checkSameDevice } from "../device.ts";
import * as G from "../webgpu/gather.ts";
import { record } from "./record.ts";

/** Joins tensors along an existing `axis`. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new TypeError("concat: needs at least one tensor");
  const first = tensors[0];
  const a = normalizeAxis("concat", axis, first.ndim);
  for (const t of tensors) {
    const same = t.ndim === first.ndim && t.shape.every((d, i) => i === a || d === first.shape[i]);
    if (!same) {
      throw new TypeError(
        `concat: shapes ${fmt(first.shape)} and ${fmt(t.shape)} differ outside axis ${a}`,
      );
    }
    checkSameDevice("concat", first, t);
    if (t.dtype !== first.dtype) {
      throw new TypeError(`concat: dtype mismatch, ${first.dtype} against ${t.dtype}`);
    }
  }
  const shape = [...first.shape];
  shape[a] = tensors.reduce((s, t) => s + t.shape[a], 0);
  const out = Tensor.empty(shape, first.dtype, first.device, "concat");
  const starts: number[] = [];
  let start = 0;
  noGrad(() => {
    for (const t of tensors) {
      starts.push(start);
      const part = out.narrow(a, start, t.shape[a]);
      part.copyInPlace(t);
      part.dispose();
      start += t.shape[a];
    }
  });
  return record(
    out,
    "concat",
    tensors,
    [],
    (g) => tensors.map((t, i) => g.narrow(a, starts[i], t.shape[a])),
  );
}

/** Joins same-shaped tensors along a new `axis`. */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  if (tensors.length === 0) throw new TypeError("stack: needs at least one tensor");
  for (const t of tensors) {
    if (t.shape.join() !== tensors[0].shape.join()) {
      throw new TypeError(`stack: shapes ${fmt(tensors[0].shape)} and ${fmt(t.shape)} differ`);
    }
  }
  const a = normalizeAxis("stack", axis, tensors[0].ndim + 1);
  return concat(tensors.map((t) => t.unsqueeze(a)), a);
}

/** The GPU kernels cannot throw: check up front that the index fits the input. */
function checkIndexShape(op: string, shape: readonly number[], axis: number, index: Tensor): void {
  for (let d = 0; d < index.ndim; d++) {
    if (d !== axis && index.shape[d] > shape[d]) {
      throw new RangeError(
        `${op}: index ${fmt(index.shape)} is larger than the input ${fmt(shape)} in dimension ${d}`,
      );
    }
  }
}

function checkIndex(op: string, x: Tensor, axis: number, index: Tensor): number {
  if (index.dtype !== "int32") {
    throw new TypeError(`${op}: index must be int32, got ${index.dtype}`);
  }
  checkSameDevice(op, x, index);
  if (index.ndim !== x.ndim) {
    throw new TypeError(
      `${op}: index ${fmt(index.shape)} needs as many dimensions as the input ${fmt(x.shape)}`,
    );
  }
  return normalizeAxis(op, axis, x.ndim);
}

/**
 * Walks every position of `index`, calling `visit(position in index order, x offset)`;
 * throws a RangeError for an index outside the axis.
 */
function walkIndex(
  op: string,
  x: Tensor,
  xStrides: readonly number[],
  axis: number,
  index: Tensor,
  visit: (i: number, xo: number) => void,
): void {
  const shape = index.shape, n = index.size, r = shape.length;
  const pos = new Array<number>(r).fill(0);
  const idx = index.data, size = x.shape[axis];
  for (let i = 0; i < n; i++) {
    let io = index.offset, xo = 0;
    for (let d = 0; d < r; d++) {
      io += pos[d] * index.strides[d];
      if (d !== axis) {
        if (pos[d] >= x.shape[d]) {
          throw new RangeError(
            `${op}: index ${fmt(shape)} is larger than the input ${fmt(x.shape)} in dimension ${d}`,
          );
        }
        xo += pos[d] * xStrides[d];
      }
    }
    const k = idx[io];
    if (k < 0 || k >= size) {
      throw new RangeError(
        `${op}: index ${k} is out of range for dimension ${axis} of size ${size}`,
      );
    }
    visit(i, xo + k * xStrides[axis]);
    for (let d = r - 1; d >= 0; d--) {
      if (++pos[d] < shape[d]) break;
      pos[d] = 0;
    }
  }
}

/** `out[…, i, …] = x[…, index[…, i, …], …]` along `axis`. */
export function gather(x: Tensor, axis: number, index: Tensor): Tensor {
  const a = checkIndex("gather", x, axis, index);
  const out = Tensor.empty(index.shape, x.dtype, x.device, "gather");
  if (x.device === "gpu") {
    checkIndexShape("gather", x.shape, a, index);
    G.gather(gpuOperand(x), x.shape, a, gpuOperand(index), index.shape, out.buffer);
    return record(out, "gather", [x], [index], (g) => [scatterAdd(x.shape, a, index, g)]);
  }
  const src = x.data, dst = out.data, base = x.offset;
  walkIndex("gather", x, x.strides, a, index, (i, xo) => {
    dst[i] = src[base + xo];
  });
  return record(out, "gather", [x], [index], (g) => [scatterAdd(x.shape, a, index, g)]);
}

/** A zero tensor of `shape` with `src` added at the positions `index` names along `axis`. */
export function scatterAdd(
  shape: readonly number[],
  axis: number,
  index: Tensor,
  src: Tensor,
): Tensor {
  checkSameDevice("scatterAdd", src, index);
  if (src.device === "gpu") {
    const a = checkIndex("scatterAdd", src, axis, index);
    checkIndexShape("scatterAdd", shape, a, index);
    const out = Tensor.empty(shape, src.dtype, "gpu", "scatterAdd");
    const s = src.contiguous();
    G.scatterAdd(shape, a, gpuOperand(index), index.shape, gpuOperand(s), out.buffer);
    if (s !== src) s.dispose();
    return record(out, "scatterAdd", [src], [index], (g) => [g.gather(a, index)]);
  }
  const out = full(shape, 0, src.dtype);
  const a = checkIndex("scatterAdd", out, axis, index);
  const s = src.contiguous();
  const from = s.data, to = out.data, so = s.offset;
  walkIndex("scatterAdd", out, out.strides, a, index, (i, xo) => {
    to[xo] += from[so + i];
  });
  if (s !== src) s.dispose();
  return record(out, "scatterAdd", [src], [index], (g) => [g.gather(a, index)]);
}

/** Slices of `x` along `axis` at the int32 positions of the 1-D `index`. */
export function indexSelect(x: Tensor, axis: number, index: Tensor): Tensor {
  if (index.ndim !== 1) {
    throw new TypeError(`indexSelect: index must be 1-D, got ${fmt(index.shape)}`);
  }
  const a = normalizeAxis("indexSelect", axis, x.ndim);
  const shape = [...x.shape];
  shape[a] = index.size;
  const view = shape.map((_, i) => (i === a ? index.size : 1));
  const spread = () => index.reshape(view).expand(shape);
  if (x.device === "gpu" || index.device === "gpu" || index.dtype !== "int32") {
    return gather(x, a, spread()); // its checks name the device or dtype problem
  }
  // on the CPU, whole runs of `inner` elements per index: a memmove each, where gathering
  // element by element took 15 times longer for a batch of 256 image rows
  const size = x.shape[a], n = index.size, idx = index.data;
  const at = (k: number) => idx[index.offset + k * index.strides[0]];
  for (let k = 0; k < n; k++) {
    const v = at(k);
    if (v < 0 || v >= size) {
      throw new RangeError(
        `indexSelect: index ${v} is out of range for dimension ${a} of size ${size}`,
      );
    }
  }
  const xc = x.contiguous();
  const out = Tensor.empty(shape, x.dtype);
  const inner = sizeOf(x.shape.slice(a + 1)), outer = sizeOf(x.shape.slice(0, a));
  const src = xc.data, dst = out.data;
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < n; k++) {
      const from = xc.offset + (o * size + at(k)) * inner, to = (o * n + k) * inner;
      if (inner >= 16) dst.set(src.subarray(from, from + inner), to);
      else for (let j = 0; j < inner; j++) dst[to + j] = src[from + j];
    }
  }
  if (xc !== x) xc.dispose();
  return record(out, "indexSelect", [x], [index], (g) => [scatterAdd(x.shape, a, spread(), g)]);
}

/** float32 one-hot rows for int32 class indices. */
export function oneHot(index: Tensor, numClasses: number): Tensor {
  if (index.dtype !== "int32") {
    throw new TypeError(`oneHot: indices must be int32, got ${index.dtype}`);
  }
  if (!Number.isInteger(numClasses) || numClasses <= 0) {
    throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  }
  if (index.device === "gpu") {
    const out = Tensor.empty([...index.shape, numClasses], "float32", "gpu", "oneHot");
    G.oneHot(gpuOperand(index), index.shape, numClasses, out.buffer);
    return out;
  }
  const flat = index.contiguous();
  const out = full([...index.shape, numClasses], 0, "float32");
  const src = flat.data, dst = out.data, n = sizeOf(index.shape);
  for (let i = 0; i < n; i++) {
    const k = src[flat.offset + i];
    if (k < 0 || k >= numClasses) {
      throw new RangeError(`oneHot: class index ${k} is out of range for ${numClasses} classes`);
    }
    dst[i * numClasses + k] = 1;
  }
  if (flat !== index) flat.dispose();
  return out;
}
