/**
 * 2-D convolution and pooling over [N, C, H, W] tensors, with PyTorch 1.13's semantics.
 *
 * `conv2d` is `unfold` (im2col) followed by one matmul per image and group and a bias add.
 * `unfold`'s backward is `fold` (col2im) and `fold`'s is `unfold`: both are linear and
 * each is the other's adjoint. So conv2d's gradients, and theirs in turn, are made of
 * unfold, fold and matmul, and derivatives of any order work. Max pooling records the
 * argmax of each window; its backward scatters to those positions and the scatter's
 * backward gathers from them. Average pooling and its backward are likewise each other's
 * adjoints.
 * @module
 */

import {
  avgPoolKernel,
  avgSpreadKernel,
  biasAddKernel,
  channelSumKernel,
  col2imKernel,
  type Float,
  im2colKernel,
  maxGatherKernel,
  maxPoolKernel,
  maxScatterKernel,
  outputSize,
  type Strided4,
  type Window2d,
} from "../cpu/conv.ts";
import { isFloat } from "../dtype.ts";
import { fmt, type Shape } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { record } from "./record.ts";
import { checkSameDevice } from "../device.ts";
import { gpuOperand } from "./elementwise.ts";
import * as GC from "../webgpu/conv.ts";

/**
 * Options of `unfold` and `fold`: how a kernel window slides over the image.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones, unfold, type UnfoldOptions } from "@adamant/core";
 * const options: UnfoldOptions = { stride: 2, padding: [1, 0] };
 * assert.deepEqual(unfold(ones([1, 1, 4, 4]), 2, options).shape, [1, 4, 6]);
 * ```
 */
export interface UnfoldOptions {
  /** Step between windows, one number or [height, width] (default 1). */
  stride?: number | readonly [number, number];
  /** Zeros added on both sides of each spatial axis (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between kernel taps (default 1). */
  dilation?: number | readonly [number, number];
}

/**
 * Options of `conv2d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Conv2dOptions, conv2d, ones } from "@adamant/core";
 * const options: Conv2dOptions = { stride: 2, padding: 1, groups: 2 };
 * const y = conv2d(ones([1, 4, 8, 8]), ones([6, 2, 3, 3]), undefined, options);
 * assert.deepEqual(y.shape, [1, 6, 4, 4]);
 * ```
 */
export interface Conv2dOptions extends UnfoldOptions {
  /**
   * Splits the input and output channels into this many groups, each convolved with its
   * own filters; it must divide both (default 1; the input's channel count gives a
   * depthwise convolution).
   */
  groups?: number;
}

/**
 * Options of `maxPool2d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d, type MaxPool2dOptions, ones } from "@adamant/core";
 * const options: MaxPool2dOptions = { stride: 1, padding: 1 };
 * assert.deepEqual(maxPool2d(ones([1, 1, 4, 4]), 3, options).shape, [1, 1, 4, 4]);
 * ```
 */
export interface MaxPool2dOptions {
  /** Step between windows (default: the kernel size, so windows do not overlap). */
  stride?: number | readonly [number, number];
  /** Implicit -Infinity added on both sides, at most half the kernel size (default 0). */
  padding?: number | readonly [number, number];
  /** Spacing between window taps (default 1). */
  dilation?: number | readonly [number, number];
}

/**
 * Options of `avgPool2d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avgPool2d, type AvgPool2dOptions, ones } from "@adamant/core";
 * const options: AvgPool2dOptions = { padding: 1, countIncludePad: false };
 * assert.equal(avgPool2d(ones([1, 1, 2, 2]), 2, options).sum().item(), 4);
 * ```
 */
export interface AvgPool2dOptions {
  /** Step between windows (default: the kernel size, so windows do not overlap). */
  stride?: number | readonly [number, number];
  /** Zeros added on both sides, at most half the kernel size (default 0). */
  padding?: number | readonly [number, number];
  /** Whether padding cells count in each window's divisor (default true, as in PyTorch). */
  countIncludePad?: boolean;
}

type Size2 = number | readonly [number, number];

// ---- argument checks ----------------------------------------------------------------------

function show(v: unknown): string {
  return Array.isArray(v) ? `[${v.join(", ")}]` : String(v);
}

/** `v` as [height, width] integers of at least `min`, or an error naming the op and option. */
function pair(op: string, name: string, v: Size2, min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d))) {
    throw new TypeError(`${op}: ${name} must be an integer or a pair of integers, got ${show(v)}`);
  }
  if (p[0] < min || p[1] < min) {
    const what = min === 0 ? "non-negative" : "positive";
    throw new RangeError(`${op}: ${name} must be ${what}, got ${show(v)}`);
  }
  return [p[0], p[1]];
}

/** Checks a float input of rank 4, or 3 (one unbatched image) when `unbatched` allows it. */
function checkImage(op: string, x: Tensor, unbatched: boolean): void {
  if (!(x instanceof Tensor)) throw new TypeError(`${op}: input must be a Tensor, got ${x}`);
  if (x.ndim !== 4 && !(unbatched && x.ndim === 3)) {
    const want = unbatched ? "4-D [N, C, H, W] or 3-D [C, H, W]" : "4-D [N, C, H, W]";
    throw new TypeError(`${op}: input must be ${want}, got ${x.ndim}-D ${fmt(x.shape)}`);
  }
  if (!isFloat(x.dtype)) {
    throw new TypeError(`${op}: needs a floating input, got ${x.dtype} (convert with .float())`);
  }
}

/** The window geometry of `kernel` over `shape` ([n, c, h, w]); throws when it does not fit. */
function windowOf(
  op: string,
  shape: Shape,
  kernel: [number, number],
  stride: [number, number],
  padding: [number, number],
  dilation: [number, number],
): Window2d {
  const [n, c, h, w] = shape, [kh, kw] = kernel, [ph, pw] = padding, [dh, dw] = dilation;
  const spanH = dh * (kh - 1) + 1, spanW = dw * (kw - 1) + 1;
  if (h + 2 * ph < spanH || w + 2 * pw < spanW) {
    const dilated = dh > 1 || dw > 1
      ? ` (spanning ${spanH}x${spanW} with dilation ${dh}x${dw})`
      : "";
    throw new TypeError(
      `${op}: kernel ${kh}x${kw}${dilated} is larger than the padded input ` +
        `${h + 2 * ph}x${w + 2 * pw} (input ${fmt(shape)}, padding ${ph}x${pw})`,
    );
  }
  return {
    n,
    c,
    h,
    w,
    kh,
    kw,
    sh: stride[0],
    sw: stride[1],
    ph,
    pw,
    dh,
    dw,
    oh: outputSize(h, kh, stride[0], ph, dh),
    ow: outputSize(w, kw, stride[1], pw, dw),
  };
}

/** PyTorch's rule for pooling: padding may be at most half the kernel. */
function checkPoolPadding(op: string, kernel: [number, number], padding: [number, number]): void {
  if (2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1]) {
    throw new RangeError(
      `${op}: padding ${show(padding)} must be at most half the kernel size ${show(kernel)}`,
    );
  }
}

function strided4(x: Tensor): Strided4 {
  return { data: x.data as Float, offset: x.offset, strides: x.strides };
}

/** The elements of a contiguous tensor, from index 0. */
function flat(x: Tensor): Float {
  const d = x.data as Float;
  return x.offset === 0 && d.length === x.size ? d : d.subarray(x.offset, x.offset + x.size);
}

/** Disposes `temps` when `out` is outside the graph (nothing saved them for backward). */
function disposeUnlessRecorded(out: Tensor, temps: readonly Tensor[]): void {
  if (out.requiresGrad) return;
  for (const t of temps) if (t !== out) t.dispose();
}

// ---- im2col and col2im as ops -------------------------------------------------------------

/** The columns of `x` ([n, c, h, w]): [n, c*kh*kw, oh*ow], in a pooled buffer. */
function im2col(x: Tensor, g: Window2d): Tensor {
  const out = Tensor.empty([g.n, g.c * g.kh * g.kw, g.oh * g.ow], x.dtype, x.device, "unfold");
  if (x.device === "gpu") GC.im2col(gpuOperand(x), g, out.buffer);
  else im2colKernel(strided4(x), g, out.data as Float);
  return record(out, "unfold", [x], [], (grad) => [col2im(grad, g)]);
}

/** Columns [n, c*kh*kw, oh*ow] summed back into an image [n, c, h, w]. */
function col2im(cols: Tensor, g: Window2d): Tensor {
  const out = Tensor.empty([g.n, g.c, g.h, g.w], cols.dtype, cols.device, "fold");
  if (cols.device === "gpu") GC.col2im(gpuOperand(cols), g, out.buffer);
  else {
    col2imKernel(
      { data: cols.data as Float, offset: cols.offset, strides: cols.strides },
      g,
      flat(out),
    );
  }
  return record(out, "fold", [cols], [], (grad) => [im2col(grad, g)]);
}

/**
 * Extracts sliding local blocks (im2col), as PyTorch's `F.unfold`: each column of the
 * result holds one kernel-sized window of every channel, flattened channel-major.
 *
 * @param x A 4-D [N, C, H, W] input.
 * @param kernelSize The window, one number or [height, width].
 * @param options `stride`, `padding`, `dilation`.
 * @returns [N, C * KH * KW, L] where L = OH * OW is the number of windows.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { arange, unfold } from "@adamant/core";
 * const x = arange(9).reshape([1, 1, 3, 3]);
 * const cols = unfold(x, 2); // 4 windows of 2x2
 * assert.deepEqual(cols.shape, [1, 4, 4]);
 * assert.deepEqual([...cols.select(2, 0).toArray()], [0, 1, 3, 4]);
 * ```
 */
export function unfold(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: UnfoldOptions = {},
): Tensor {
  checkImage("unfold", x, false);
  const k = pair("unfold", "kernelSize", kernelSize, 1);
  const s = pair("unfold", "stride", options.stride ?? 1, 1);
  const p = pair("unfold", "padding", options.padding ?? 0, 0);
  const d = pair("unfold", "dilation", options.dilation ?? 1, 1);
  return im2col(x, windowOf("unfold", x.shape, k, s, p, d));
}

/**
 * Sums sliding local blocks back into an image (col2im), as PyTorch's `F.fold`: the
 * adjoint of `unfold`, so `fold(unfold(x))` multiplies each pixel by the number of windows
 * that cover it.
 *
 * @param cols [N, C * KH * KW, L] blocks, L being the number of windows.
 * @param outputSize The image's [height, width] (or one number for both).
 * @param kernelSize The window, one number or [height, width].
 * @param options `stride`, `padding`, `dilation`.
 * @returns The [N, C, H, W] image.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fold, ones, unfold } from "@adamant/core";
 * const counts = fold(unfold(ones([1, 1, 3, 3]), 2), 3, 2);
 * assert.deepEqual([...counts.toArray()], [1, 2, 1, 2, 4, 2, 1, 2, 1]);
 * ```
 */
export function fold(
  cols: Tensor,
  outputSize: number | readonly [number, number],
  kernelSize: number | readonly [number, number],
  options: UnfoldOptions = {},
): Tensor {
  if (!(cols instanceof Tensor) || cols.ndim !== 3) {
    throw new TypeError(
      `fold: input must be 3-D [N, C * KH * KW, L], got ${
        cols instanceof Tensor ? fmt(cols.shape) : cols
      }`,
    );
  }
  if (!isFloat(cols.dtype)) {
    throw new TypeError(`fold: needs a floating input, got ${cols.dtype}`);
  }
  const size = pair("fold", "outputSize", outputSize, 1);
  const k = pair("fold", "kernelSize", kernelSize, 1);
  const s = pair("fold", "stride", options.stride ?? 1, 1);
  const p = pair("fold", "padding", options.padding ?? 0, 0);
  const d = pair("fold", "dilation", options.dilation ?? 1, 1);
  const [n, rows, l] = cols.shape, kk = k[0] * k[1];
  if (rows % kk !== 0) {
    throw new TypeError(
      `fold: input ${fmt(cols.shape)} has ${rows} rows, not a multiple of the kernel's ` +
        `${k[0]}x${k[1]} = ${kk}`,
    );
  }
  const g = windowOf("fold", [n, rows / kk, size[0], size[1]], k, s, p, d);
  if (g.oh * g.ow !== l) {
    throw new TypeError(
      `fold: input ${fmt(cols.shape)} has ${l} blocks, but a ${k[0]}x${k[1]} kernel over ` +
        `${size[0]}x${size[1]} makes ${g.oh}x${g.ow} = ${g.oh * g.ow}`,
    );
  }
  return col2im(cols, g);
}

// ---- convolution --------------------------------------------------------------------------

/**
 * `y` ([N, O, ...]) plus `bias[o]` on channel o, in one pass over contiguous planes: about
 * 1 ms at [128, 16, 28, 28], where the generic broadcast add and the sum over [0, 2, 3]
 * for its gradient measured about 7 ms each.
 */
function addBias(y: Tensor, bias: Tensor): Tensor {
  // on the GPU a broadcast add: its backward sums the gradient over N, H and W
  if (y.device === "gpu") return y.add(bias.reshape([1, bias.size, 1, 1]));
  const yc = y.contiguous();
  const [n, o] = y.shape, plane = y.size / Math.max(1, n * o);
  const out = Tensor.empty(y.shape, y.dtype);
  const b = { data: bias.data as Float, offset: bias.offset, stride: bias.strides[0] };
  biasAddKernel(flat(yc), b, n, o, plane, flat(out));
  if (yc !== y) yc.dispose();
  return record(out, "conv2dBias", [y, bias], [], (g) => [
    y.requiresGrad ? g : null,
    bias.requiresGrad ? channelSum(g) : null,
  ]);
}

/** The sum of `g` ([N, O, ...]) over every axis but the channel: [O]. */
function channelSum(g: Tensor): Tensor {
  const gc = g.contiguous();
  const [n, o] = g.shape, plane = g.size / Math.max(1, n * o);
  const out = Tensor.empty([o], g.dtype);
  channelSumKernel(flat(gc), n, o, plane, out.data as Float);
  if (gc !== g) gc.dispose();
  const shape = g.shape, kept = shape.map((d, i) => (i === 1 ? d : 1));
  return record(out, "conv2dBiasBackward", [g], [], (gg) => [gg.reshape(kept).expand(shape)]);
}

/**
 * 2-D convolution (strictly, cross-correlation, as in every framework) of a batch of
 * images with a bank of filters, as PyTorch's `F.conv2d`: unfolds the input into columns
 * (im2col, in a pooled buffer) and multiplies each image's columns by each group's
 * filters. Gradients reach the input, the weight and the bias, and since the backward is
 * made of differentiable ops, gradients of gradients work too.
 *
 * @param x The input, [N, C, H, W] (or one image [C, H, W]).
 * @param weight The filters, [O, C / groups, KH, KW].
 * @param bias Optional, [O].
 * @param options `stride`, `padding`, `dilation` (each one number or [height, width]) and
 * `groups`.
 * @returns [N, O, OH, OW] (or [O, OH, OW]), where OH = floor((H + 2 padding - dilation
 * (KH - 1) - 1) / stride) + 1 and likewise OW.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { conv2d, ones, tensor } from "@adamant/core";
 * const x = ones([1, 1, 3, 3], { requiresGrad: true });
 * const w = tensor([[[[1, 2], [3, 4]]]], { requiresGrad: true }); // one 2x2 filter
 * const y = conv2d(x, w, tensor([0.5]), { padding: 1 });
 * assert.deepEqual(y.shape, [1, 1, 4, 4]);
 * assert.equal(y.select(2, 1).select(2, 1).item(), 10.5); // a window inside: 1+2+3+4 + 0.5
 * y.sum().backward();
 * assert.deepEqual([...w.grad!.toArray()], [9, 9, 9, 9]); // each tap sees all 9 pixels
 * ```
 */
export function conv2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  options: Conv2dOptions = {},
): Tensor {
  const op = "conv2d";
  checkImage(op, x, true);
  if (!(weight instanceof Tensor) || weight.ndim !== 4) {
    throw new TypeError(
      `conv2d: weight must be 4-D [out channels, in channels / groups, KH, KW], got ${
        weight instanceof Tensor ? fmt(weight.shape) : weight
      }`,
    );
  }
  checkSameDevice("conv2d", x, weight);
  if (bias) checkSameDevice("conv2d", x, bias);
  if (weight.dtype !== x.dtype) {
    throw new TypeError(
      `conv2d: dtype mismatch, input ${x.dtype} ${fmt(x.shape)} and weight ${weight.dtype} ` +
        `${fmt(weight.shape)}`,
    );
  }
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) {
    throw new RangeError(`conv2d: groups must be a positive integer, got ${groups}`);
  }
  const [o, cg, kh, kw] = weight.shape, c = x.shape[x.ndim - 3];
  if (cg * groups !== c) {
    throw new TypeError(
      `conv2d: input ${fmt(x.shape)} has ${c} channels, but weight ${fmt(weight.shape)} ` +
        `with groups=${groups} expects ${cg * groups} (${cg} per group)`,
    );
  }
  if (o % groups !== 0 || o === 0) {
    throw new TypeError(
      `conv2d: weight ${fmt(weight.shape)} has ${o} output channels, which groups=${groups} ` +
        `does not divide into equal non-empty groups`,
    );
  }
  if (kh < 1 || kw < 1) {
    throw new TypeError(`conv2d: weight ${fmt(weight.shape)} has an empty kernel`);
  }
  if (bias !== undefined && bias !== null) {
    if (!(bias instanceof Tensor) || bias.ndim !== 1 || bias.shape[0] !== o) {
      throw new TypeError(
        `conv2d: bias must be [${o}] for weight ${fmt(weight.shape)}, got ${
          bias instanceof Tensor ? fmt(bias.shape) : bias
        }`,
      );
    }
    if (bias.dtype !== x.dtype) {
      throw new TypeError(`conv2d: dtype mismatch, input ${x.dtype} and bias ${bias.dtype}`);
    }
  }
  const s = pair(op, "stride", options.stride ?? 1, 1);
  const p = pair(op, "padding", options.padding ?? 0, 0);
  const d = pair(op, "dilation", options.dilation ?? 1, 1);

  const x4 = x.ndim === 3 ? x.unsqueeze(0) : x;
  const g = windowOf(op, x4.shape, [kh, kw], s, p, d);
  const ck = cg * kh * kw, l = g.oh * g.ow;
  const cols = im2col(x4, g); // [N, C*KH*KW, L]
  const colsG = cols.reshape([g.n, groups, ck, l]);
  const w = weight.reshape([groups, o / groups, ck]);
  const y = w.matmul(colsG); // [N, groups, O/groups, L]: one product per image and group
  const image = y.reshape([g.n, o, g.oh, g.ow]);
  const biased = bias ? addBias(image, bias) : image;
  const out = x.ndim === 3 ? biased.squeeze(0) : biased;
  // outside the graph nothing else reads the columns: hand their buffer back to the pool now
  const temps = [cols, colsG, w, y, image, biased];
  if (x4 !== x) temps.push(x4);
  disposeUnlessRecorded(out, temps);
  return out;
}

// ---- max pooling --------------------------------------------------------------------------

/** Gradient of max pooling: `grad` [n, c, oh, ow] added at the argmax positions of [n, c, h, w]. */
function maxScatter(grad: Tensor, index: Tensor, g: Window2d): Tensor {
  const gc = grad.contiguous();
  const out = Tensor.empty([g.n, g.c, g.h, g.w], grad.dtype, grad.device, "maxPool2dBackward");
  if (grad.device === "gpu") GC.maxScatter(gc.buffer, index.buffer, g, out.buffer);
  else {
    maxScatterKernel(
      flat(gc),
      index.data as Int32Array,
      g.n * g.c,
      g.h * g.w,
      g.oh * g.ow,
      flat(out),
    );
  }
  if (gc !== grad) gc.dispose();
  return record(out, "maxPool2dBackward", [grad], [index], (gg) => [maxGather(gg, index, g)]);
}

/** `src` [n, c, h, w] read at the argmax positions: [n, c, oh, ow]. */
function maxGather(src: Tensor, index: Tensor, g: Window2d): Tensor {
  const sc = src.contiguous();
  const out = Tensor.empty([g.n, g.c, g.oh, g.ow], src.dtype, src.device, "maxPool2dGather");
  if (src.device === "gpu") GC.maxGather(sc.buffer, index.buffer, g, out.buffer);
  else {
    const planes = g.n * g.c;
    maxGatherKernel(flat(sc), index.data as Int32Array, planes, g.h * g.w, g.oh * g.ow, flat(out));
  }
  if (sc !== src) sc.dispose();
  return record(out, "maxPool2dGather", [src], [index], (grad) => [maxScatter(grad, index, g)]);
}

/**
 * 2-D max pooling, as PyTorch's `F.max_pool2d`: the maximum of each window. The gradient
 * goes to the position of each window's maximum (the first one in row-major order on
 * ties, as in PyTorch); windows that share their maximum add up there.
 *
 * @param x The input, [N, C, H, W] (or [C, H, W]).
 * @param kernelSize The window, one number or [height, width].
 * @param options `stride` (default `kernelSize`), `padding` (at most half the kernel,
 * never chosen as a maximum), `dilation`.
 * @returns [N, C, OH, OW] (or [C, OH, OW]).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxPool2d, tensor } from "@adamant/core";
 * const x = tensor([[[[1, 5, 2, 0], [3, 4, 8, 1]]]], { requiresGrad: true }); // [1, 1, 2, 4]
 * const y = maxPool2d(x, 2);
 * assert.deepEqual([...y.toArray()], [5, 8]);
 * y.sum().backward();
 * assert.deepEqual([...x.grad!.toArray()], [0, 1, 0, 0, 0, 0, 1, 0]);
 * ```
 */
export function maxPool2d(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: MaxPool2dOptions = {},
): Tensor {
  const op = "maxPool2d";
  checkImage(op, x, true);
  const k = pair(op, "kernelSize", kernelSize, 1);
  const s = pair(op, "stride", options.stride ?? k, 1);
  const p = pair(op, "padding", options.padding ?? 0, 0);
  const d = pair(op, "dilation", options.dilation ?? 1, 1);
  checkPoolPadding(op, k, p);
  const x4 = x.ndim === 3 ? x.unsqueeze(0) : x;
  const g = windowOf(op, x4.shape, k, s, p, d);
  const pooled = Tensor.empty([g.n, g.c, g.oh, g.ow], x.dtype, x.device, op);
  const index = Tensor.empty(pooled.shape, "int32", x.device, op);
  if (x.device === "gpu") GC.maxPool(gpuOperand(x4), g, pooled.buffer, index.buffer);
  else maxPoolKernel(strided4(x4), g, pooled.data as Float, index.data as Int32Array);
  record(pooled, op, [x4], [index], (grad) => [maxScatter(grad, index, g)]);
  const out = x.ndim === 3 ? pooled.squeeze(0) : pooled;
  disposeUnlessRecorded(out, [index, ...(x4 === x ? [] : [x4, pooled])]);
  return out;
}

// ---- average pooling ----------------------------------------------------------------------

function avgPool(x: Tensor, g: Window2d, includePad: boolean): Tensor {
  const out = Tensor.empty([g.n, g.c, g.oh, g.ow], x.dtype, x.device, "avgPool2d");
  if (x.device === "gpu") GC.avgPool(gpuOperand(x), g, includePad, out.buffer);
  else avgPoolKernel(strided4(x), g, includePad, out.data as Float);
  return record(out, "avgPool2d", [x], [], (grad) => [avgSpread(grad, g, includePad)]);
}

function avgSpread(grad: Tensor, g: Window2d, includePad: boolean): Tensor {
  const gc = grad.contiguous();
  const out = Tensor.empty([g.n, g.c, g.h, g.w], grad.dtype, grad.device, "avgPool2dBackward");
  if (grad.device === "gpu") GC.avgSpread(gc.buffer, g, includePad, out.buffer);
  else avgSpreadKernel(flat(gc), g, includePad, flat(out));
  if (gc !== grad) gc.dispose();
  return record(out, "avgPool2dBackward", [grad], [], (gg) => [avgPool(gg, g, includePad)]);
}

/**
 * 2-D average pooling, as PyTorch's `F.avg_pool2d`: the mean of each window. With
 * `countIncludePad` (the default) the zero padding counts in each window's divisor;
 * without it only the input cells do.
 *
 * @param x The input, [N, C, H, W] (or [C, H, W]).
 * @param kernelSize The window, one number or [height, width].
 * @param options `stride` (default `kernelSize`), `padding` (at most half the kernel),
 * `countIncludePad`.
 * @returns [N, C, OH, OW] (or [C, OH, OW]).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { avgPool2d, tensor } from "@adamant/core";
 * const x = tensor([[[[1, 3, 2, 0], [3, 5, 8, 2]]]], { requiresGrad: true }); // [1, 1, 2, 4]
 * const y = avgPool2d(x, 2);
 * assert.deepEqual([...y.toArray()], [3, 3]);
 * y.sum().backward();
 * assert.deepEqual([...x.grad!.toArray()], [0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25, 0.25]);
 * ```
 */
export function avgPool2d(
  x: Tensor,
  kernelSize: number | readonly [number, number],
  options: AvgPool2dOptions = {},
): Tensor {
  const op = "avgPool2d";
  checkImage(op, x, true);
  const k = pair(op, "kernelSize", kernelSize, 1);
  const s = pair(op, "stride", options.stride ?? k, 1);
  const p = pair(op, "padding", options.padding ?? 0, 0);
  checkPoolPadding(op, k, p);
  const includePad = options.countIncludePad ?? true;
  if (typeof includePad !== "boolean") {
    throw new TypeError(`avgPool2d: countIncludePad must be a boolean, got ${includePad}`);
  }
  const x4 = x.ndim === 3 ? x.unsqueeze(0) : x;
  const pooled = avgPool(x4, windowOf(op, x4.shape, k, s, p, [1, 1]), includePad);
  const out = x.ndim === 3 ? pooled.squeeze(0) : pooled;
  if (x4 !== x) disposeUnlessRecorded(out, [x4, pooled]);
  return out;
}
