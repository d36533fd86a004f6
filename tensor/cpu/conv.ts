/**
 * CPU kernels of the 2-D window ops: im2col and its adjoint col2im (convolution runs as
 * im2col + matmul), max pooling with its argmax scatter and gather, average pooling and
 * its adjoint, the per-channel bias and its gradient, and a naive direct convolution that
 * tests compare against.
 *
 * Every kernel is written once, as a self-contained function, and compiled again from its
 * source for each dtype (`forDType`): V8 then sees a single typed-array type in each copy's
 * loops. One copy shared by float32 and float64 callers would turn its type feedback
 * polymorphic, which elementwise.ts measured as several times slower. Loops allocate
 * nothing; padding is handled by clipping each row's column range once, not by a test per
 * element.
 * @module
 */

import { heapAddress } from "../heap.ts";
import { maxPool2x2 } from "./wasm_pool.ts";
import { addRows, copyRows, type RowsLoop } from "./wasm_rows.ts";
/** Calls served by the WebAssembly SIMD kernels since the process started (tests read it). */
export const simdCalls = { maxPool: 0, im2col: 0, col2im: 0 };

/** A floating typed array, as the kernels read and write. */
export type Float = Float32Array | Float64Array;

/**
 * The geometry of a 2-D sliding window over an [n, c, h, w] input: kernel (kh, kw),
 * stride (sh, sw), zero padding (ph, pw), dilation (dh, dw) and the output size (oh, ow).
 */
export interface Window2d {
  /** Batch size. */
  n: number;
  /** Channels. */
  c: number;
  /** Input height. */
  h: number;
  /** Input width. */
  w: number;
  /** Kernel height. */
  kh: number;
  /** Kernel width. */
  kw: number;
  /** Vertical stride. */
  sh: number;
  /** Horizontal stride. */
  sw: number;
  /** Padding above and below. */
  ph: number;
  /** Padding left and right. */
  pw: number;
  /** Vertical dilation. */
  dh: number;
  /** Horizontal dilation. */
  dw: number;
  /** Output height. */
  oh: number;
  /** Output width. */
  ow: number;
}

/** A strided 4-D operand: element [a, b, c, d] is `data[offset + a*s[0] + b*s[1] + c*s[2] + d*s[3]]`. */
export interface Strided4 {
  /** The flat storage. */
  data: Float;
  /** Index of element [0, 0, 0, 0]. */
  offset: number;
  /** One stride per dimension. */
  strides: readonly number[];
}

/** Output size along one axis: `floor((size + 2 pad - dilation (k - 1) - 1) / stride) + 1`. */
export function outputSize(
  size: number,
  k: number,
  stride: number,
  pad: number,
  dilation: number,
): number {
  return Math.floor((size + 2 * pad - dilation * (k - 1) - 1) / stride) + 1;
}

// ---- one compiled copy per dtype ---------------------------------------------------------

const copies = new Map<string, unknown>();

/**
 * The copy of `kernel` for `dtype`, compiled once from the kernel's source so that it has
 * type feedback of its own. Kernels passed here must not refer to anything outside their
 * own body.
 */
function forDType<F extends (...args: never[]) => void>(kernel: F, dtype: Float): F {
  const key = `${kernel.name}:${dtype instanceof Float32Array ? "f32" : "f64"}`;
  let fn = copies.get(key) as F | undefined;
  if (fn === undefined) {
    fn = new Function(`"use strict";\nreturn (${kernel.toString()});`)() as F;
    copies.set(key, fn);
  }
  return fn;
}

// ---- im2col and col2im --------------------------------------------------------------------

/**
 * Writes the columns of `x` (strided [n, c, h, w]) to `out`, contiguous
 * [n, c*kh*kw, oh*ow]: row (ci*kh + i)*kw + j of image b holds input pixel
 * (y*sh - ph + i*dh, x*sw - pw + j*dw) of channel ci for each output position (y, x), or 0
 * where that falls in the padding.
 */
function im2col(
  x: Float,
  xo: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  g: Window2d,
  out: Float,
): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const plane = xo + b * s0 + ci * s1;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          // output columns whose input column ox*sw + shift lies inside [0, w)
          const shift = j * dw - pw;
          const lo = Math.min(ow, shift >= 0 ? 0 : ((sw - 1 - shift) / sw) | 0);
          const hi = Math.max(lo, Math.min(ow, shift >= w ? 0 : (((w - 1 - shift) / sw) | 0) + 1));
          const step = sw * s3;
          for (let y = 0; y < oh; y++, o += ow) {
            const row = y * sh - ph + i * dh;
            if (row < 0 || row >= h) {
              for (let k = 0; k < ow; k++) out[o + k] = 0;
              continue;
            }
            for (let k = 0; k < lo; k++) out[o + k] = 0;
            if (step === 1) {
              // the common case (stride 1 over contiguous rows): a plain copy, 1.5x faster
              const base = plane + row * s2 + shift;
              for (let k = lo; k < hi; k++) out[o + k] = x[base + k];
            } else {
              for (
                let k = lo, e = plane + row * s2 + (lo * sw + shift) * s3;
                k < hi;
                k++, e += step
              ) {
                out[o + k] = x[e];
              }
            }
            for (let k = hi; k < ow; k++) out[o + k] = 0;
          }
        }
      }
    }
  }
}

/**
 * The adjoint of `im2col`: adds each entry of `cols` (strided [n, c*kh*kw, oh*ow]) into
 * the input pixel it was read from, in `out` (contiguous [n, c, h, w], zeroed first).
 */
function col2im(
  cols: Float,
  co: number,
  t0: number,
  t1: number,
  t2: number,
  g: Window2d,
  out: Float,
): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  out.fill(0, 0, n * c * h * w);
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const plane = (b * c + ci) * h * w;
      for (let i = 0; i < kh; i++) {
        for (let j = 0; j < kw; j++) {
          const shift = j * dw - pw;
          const lo = Math.min(ow, shift >= 0 ? 0 : ((sw - 1 - shift) / sw) | 0);
          const hi = Math.max(lo, Math.min(ow, shift >= w ? 0 : (((w - 1 - shift) / sw) | 0) + 1));
          const r = (ci * kh + i) * kw + j;
          for (let y = 0; y < oh; y++) {
            const row = y * sh - ph + i * dh;
            if (row < 0 || row >= h) continue;
            const s0 = co + b * t0 + r * t1 + y * ow * t2, d0 = plane + row * w + shift;
            if (sw === 1 && t2 === 1) {
              for (let k = lo; k < hi; k++) out[d0 + k] += cols[s0 + k];
            } else {
              for (let k = lo, s = s0 + lo * t2, d = d0 + lo * sw; k < hi; k++, s += t2, d += sw) {
                out[d] += cols[s];
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Unfolds `x` into the columns of `out` (contiguous [n, c*kh*kw, oh*ow], the same dtype as
 * `x`): the im2col step of a convolution.
 *
 * @param x The strided [n, c, h, w] input.
 * @param g The window geometry.
 * @param out Destination of n*c*kh*kw*oh*ow elements.
 * @example
 * ```ts ignore
 * im2colKernel({ data: x, offset: 0, strides: [75, 25, 5, 1] }, window, cols);
 * ```
 */
export function im2colKernel(x: Strided4, g: Window2d, out: Float): void {
  const [s0, s1, s2, s3] = x.strides;
  const copy = out instanceof Float32Array && x.data instanceof Float32Array ? copyRows() : null;
  const src = heapAddress(x.data), dst = heapAddress(out);
  if (copy !== null && src >= 0 && dst >= 0 && s3 === 1 && g.sw === 1) {
    // without padding every window lies inside the input and the copies cover the columns
    if (g.ph > 0 || g.pw > 0) out.fill(0, 0, g.n * g.c * g.kh * g.kw * g.oh * g.ow);
    im2colRows(copy, src + 4 * x.offset, s0, s1, s2, g, dst);
    simdCalls.im2col++;
    return;
  }
  forDType(im2col, out)(x.data, x.offset, s0, s1, s2, s3, g, out);
}

/**
 * im2col for stride-1 rows through the SIMD `copyRows`: each (image, channel, tap) copies
 * the block of rows that lies inside the input at once. `src` and `dst` are byte addresses
 * of the input's element 0 and of the columns.
 */
function im2colRows(
  copy: RowsLoop,
  src: number,
  s0: number,
  s1: number,
  s2: number,
  g: Window2d,
  dst: number,
): void {
  const { n, c, kh, kw, oh, ow } = g;
  const taps = tapRanges(g);
  let r = 0;
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const plane = src + 4 * (b * s0 + ci * s1);
      for (let t = 0; t < kh * kw; t++, r++) {
        const [yLo, yHi, lo, hi, row0, shift] = taps[t];
        if (yHi <= yLo || hi <= lo) continue;
        const from = plane + 4 * (row0 * s2 + shift + lo);
        const to = dst + 4 * (r * oh * ow + yLo * ow + lo);
        copy(from, to, yHi - yLo, hi - lo, 4 * g.sh * s2, 4 * ow);
      }
    }
  }
}

/**
 * For each tap (i, j) of stride-1 rows, in row-major order: the output rows [yLo, yHi) and
 * columns [lo, hi) whose input lies inside the image, the input row of output row yLo, and
 * the tap's column shift. They depend on the tap alone, so a call works them out once.
 */
function tapRanges(g: Window2d): number[][] {
  const { h, w, kh, kw, sh, ph, pw, dh, dw, oh, ow } = g;
  const taps: number[][] = [];
  for (let i = 0; i < kh; i++) {
    const yLo = Math.max(0, Math.ceil((ph - i * dh) / sh));
    const yHi = Math.min(oh, Math.floor((h - 1 + ph - i * dh) / sh) + 1);
    for (let j = 0; j < kw; j++) {
      const shift = j * dw - pw;
      const lo = Math.min(ow, shift >= 0 ? 0 : -shift);
      const hi = Math.max(lo, Math.min(ow, w - shift));
      taps.push([yLo, yHi, lo, hi, yLo * sh - ph + i * dh, shift]);
    }
  }
  return taps;
}

/**
 * Folds columns back into an image, summing overlaps: the adjoint of `im2colKernel`.
 *
 * @param cols Strided [n, c*kh*kw, oh*ow] columns (strides as `data` indices).
 * @param g The window geometry.
 * @param out Contiguous [n, c, h, w] destination; overwritten.
 * @example
 * ```ts ignore
 * col2imKernel({ data: cols, offset: 0, strides: [225, 25, 1] }, window, image);
 * ```
 */
export function col2imKernel(
  cols: { data: Float; offset: number; strides: readonly number[] },
  g: Window2d,
  out: Float,
): void {
  const [t0, t1, t2] = cols.strides;
  const add = out instanceof Float32Array && cols.data instanceof Float32Array ? addRows() : null;
  const src = heapAddress(cols.data), dst = heapAddress(out);
  if (add !== null && src >= 0 && dst >= 0 && t2 === 1 && g.sw === 1) {
    out.fill(0, 0, g.n * g.c * g.h * g.w);
    col2imRows(add, src + 4 * cols.offset, t0, t1, g, dst);
    simdCalls.col2im++;
    return;
  }
  forDType(col2im, out)(cols.data, cols.offset, t0, t1, t2, g, out);
}

/**
 * col2im for stride-1 rows through the SIMD `addRows`: each (image, channel, tap) adds its
 * block of rows at once, in the loop's order, so every element gets the same sums. `src`
 * and `dst` are byte addresses of the columns' element 0 and of the image.
 */
function col2imRows(
  add: RowsLoop,
  src: number,
  t0: number,
  t1: number,
  g: Window2d,
  dst: number,
): void {
  const { n, c, h, w, kh, kw, sh, ow } = g;
  const taps = tapRanges(g);
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const plane = (b * c + ci) * h * w;
      for (let t = 0; t < kh * kw; t++) {
        const [yLo, yHi, lo, hi, row0, shift] = taps[t];
        if (yHi <= yLo || hi <= lo) continue;
        const r = ci * kh * kw + t;
        const from = src + 4 * (b * t0 + r * t1 + yLo * ow + lo);
        const to = dst + 4 * (plane + row0 * w + shift + lo);
        add(from, to, yHi - yLo, hi - lo, 4 * ow, 4 * sh * w);
      }
    }
  }
}

// ---- max pooling --------------------------------------------------------------------------

/**
 * Max over each window of `x` (strided [n, c, h, w]) into `out` (contiguous
 * [n, c, oh, ow]); `index` receives the position `row*w + col` of each maximum within its
 * plane. Padding never wins. On ties the first maximum in row-major window order wins; a
 * NaN wins over numbers, as in PyTorch.
 */
function maxPool(
  x: Float,
  xo: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  g: Window2d,
  out: Float,
  index: Int32Array,
): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  let o = 0;
  if (ph === 0 && pw === 0 && dh === 1 && dw === 1) {
    // every window lies inside the plane (no padding, and oh, ow only count whole windows):
    // no clipping, and the same comparisons in the same order as below
    for (let b = 0; b < n; b++) {
      for (let ci = 0; ci < c; ci++) {
        const plane = xo + b * s0 + ci * s1;
        for (let y = 0; y < oh; y++) {
          const r0 = y * sh;
          if (kh === 2 && kw === 2) {
            // the common 2 x 2 window, unrolled: twice as fast as the loops below
            const a = plane + r0 * s2, b2 = a + s2, ra = r0 * w, rb = ra + w;
            for (let ox = 0; ox < ow; ox++, o++) {
              const c0 = ox * sw, q = c0 * s3;
              let best = x[a + q], arg = ra + c0;
              let v = x[a + q + s3];
              if (v > best || v !== v) {
                best = v;
                arg = ra + c0 + 1;
              }
              v = x[b2 + q];
              if (v > best || v !== v) {
                best = v;
                arg = rb + c0;
              }
              v = x[b2 + q + s3];
              if (v > best || v !== v) {
                best = v;
                arg = rb + c0 + 1;
              }
              out[o] = best;
              index[o] = arg;
            }
            continue;
          }
          for (let ox = 0; ox < ow; ox++, o++) {
            const c0 = ox * sw;
            let best = x[plane + r0 * s2 + c0 * s3], arg = r0 * w + c0;
            for (let i = 0; i < kh; i++) {
              const row = plane + (r0 + i) * s2;
              for (let j = i === 0 ? 1 : 0; j < kw; j++) {
                const v = x[row + (c0 + j) * s3];
                if (v > best || v !== v) {
                  best = v;
                  arg = (r0 + i) * w + c0 + j;
                }
              }
            }
            out[o] = best;
            index[o] = arg;
          }
        }
      }
    }
    return;
  }
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const plane = xo + b * s0 + ci * s1;
      for (let y = 0; y < oh; y++) {
        const r0 = y * sh - ph;
        // taps whose row r0 + i*dh lies inside [0, h), in integer arithmetic
        const iLo = r0 >= 0 ? 0 : ((dh - 1 - r0) / dh) | 0;
        const iHi = r0 >= h ? 0 : Math.min(kh, (((h - 1 - r0) / dh) | 0) + 1);
        for (let ox = 0; ox < ow; ox++, o++) {
          const c0 = ox * sw - pw;
          const jLo = c0 >= 0 ? 0 : ((dw - 1 - c0) / dw) | 0;
          const jHi = c0 >= w ? 0 : Math.min(kw, (((w - 1 - c0) / dw) | 0) + 1);
          let best = -Infinity, arg = -1;
          for (let i = iLo; i < iHi; i++) {
            const row = r0 + i * dh;
            for (let j = jLo; j < jHi; j++) {
              const col = c0 + j * dw;
              const v = x[plane + row * s2 + col * s3];
              if (arg < 0 || v > best || v !== v) {
                best = v;
                arg = row * w + col;
              }
            }
          }
          out[o] = best;
          index[o] = arg;
        }
      }
    }
  }
}

/**
 * `out[b, c, index[p]] += g[p]` for every output position p: max pooling's backward. An
 * index of -1 (a window with no input cell, possible only with large dilation) gets nothing.
 */
function maxScatter(
  gr: Float,
  index: Int32Array,
  planes: number,
  inPlane: number,
  outPlane: number,
  out: Float,
): void {
  out.fill(0, 0, planes * inPlane);
  for (let q = 0, p = 0; q < planes; q++) {
    const base = q * inPlane;
    for (const e = p + outPlane; p < e; p++) if (index[p] >= 0) out[base + index[p]] += gr[p];
  }
}

/** `out[p] = src[b, c, index[p]]`: the adjoint of `maxScatter`. */
function maxGather(
  src: Float,
  index: Int32Array,
  planes: number,
  inPlane: number,
  outPlane: number,
  out: Float,
): void {
  for (let q = 0, p = 0; q < planes; q++) {
    const base = q * inPlane;
    for (const e = p + outPlane; p < e; p++) out[p] = index[p] >= 0 ? src[base + index[p]] : 0;
  }
}

/**
 * Max pooling of a strided [n, c, h, w] input into contiguous `out` [n, c, oh, ow], with the
 * in-plane position of each maximum (`row * w + col`) in `index`.
 *
 * @param x The input.
 * @param g The window geometry.
 * @param out The maxima.
 * @param index Where each maximum was.
 * @example
 * ```ts ignore
 * maxPoolKernel(input, window, out, index);
 * ```
 */
export function maxPoolKernel(x: Strided4, g: Window2d, out: Float, index: Int32Array): void {
  const [s0, s1, s2, s3] = x.strides;
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  const simd = out instanceof Float32Array && x.data instanceof Float32Array ? maxPool2x2() : null;
  const at = heapAddress(x.data), outAt = heapAddress(out), indexAt = heapAddress(index);
  if (
    simd !== null && at >= 0 && outAt >= 0 && indexAt >= 0 && ow >= 4 &&
    kh === 2 && kw === 2 && sh === 2 && sw === 2 && ph === 0 && pw === 0 && dh === 1 &&
    dw === 1 && s3 === 1 && s2 === w && s1 === h * w && (n === 1 || s0 === c * s1)
  ) {
    simd(at + 4 * x.offset, outAt, indexAt, n * c, 4 * h * w, w, oh, ow);
    simdCalls.maxPool++;
    return;
  }
  forDType(maxPool, out)(x.data, x.offset, s0, s1, s2, s3, g, out, index);
}

/**
 * Routes contiguous output gradients `grad` ([n*c planes of outPlane]) to the positions in
 * `index`, into `out` (contiguous, n*c planes of inPlane; overwritten), summing where two
 * windows chose the same input.
 *
 * @param grad The gradient of the pooled output, contiguous.
 * @param index The argmax positions from `maxPoolKernel`.
 * @param planes n * c.
 * @param inPlane h * w.
 * @param outPlane oh * ow.
 * @param out The gradient of the input.
 * @example
 * ```ts ignore
 * maxScatterKernel(grad, index, n * c, h * w, oh * ow, out);
 * ```
 */
export function maxScatterKernel(
  grad: Float,
  index: Int32Array,
  planes: number,
  inPlane: number,
  outPlane: number,
  out: Float,
): void {
  forDType(maxScatter, out)(grad, index, planes, inPlane, outPlane, out);
}

/**
 * Reads `src` (contiguous, n*c planes of inPlane) at the positions in `index`, into `out`
 * (n*c planes of outPlane): the adjoint of `maxScatterKernel`.
 *
 * @param src The contiguous source.
 * @param index The positions.
 * @param planes n * c.
 * @param inPlane h * w.
 * @param outPlane oh * ow.
 * @param out The gathered values.
 * @example
 * ```ts ignore
 * maxGatherKernel(src, index, n * c, h * w, oh * ow, out);
 * ```
 */
export function maxGatherKernel(
  src: Float,
  index: Int32Array,
  planes: number,
  inPlane: number,
  outPlane: number,
  out: Float,
): void {
  forDType(maxGather, out)(src, index, planes, inPlane, outPlane, out);
}

// ---- average pooling ----------------------------------------------------------------------

/**
 * Mean over each window of `x` (strided [n, c, h, w]) into `out` (contiguous
 * [n, c, oh, ow]). With `includePad` the divisor counts padding cells (clipped to the
 * padded input), otherwise only real ones; PyTorch's rule.
 */
function avgPool(
  x: Float,
  xo: number,
  s0: number,
  s1: number,
  s2: number,
  s3: number,
  g: Window2d,
  includePad: boolean,
  out: Float,
): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let ci = 0; ci < c; ci++) {
      const plane = xo + b * s0 + ci * s1;
      for (let y = 0; y < oh; y++) {
        const r0 = y * sh - ph, r1 = Math.min(r0 + kh, h + ph);
        const rLo = Math.max(r0, 0), rHi = Math.min(r1, h);
        for (let ox = 0; ox < ow; ox++, o++) {
          const c0 = ox * sw - pw, c1 = Math.min(c0 + kw, w + pw);
          const cLo = Math.max(c0, 0), cHi = Math.min(c1, w);
          if (rLo >= rHi || cLo >= cHi) {
            out[o] = 0;
            continue;
          }
          let s = 0;
          for (let row = rLo; row < rHi; row++) {
            for (let col = cLo, e = plane + row * s2 + col * s3; col < cHi; col++, e += s3) {
              s += x[e];
            }
          }
          out[o] = s / (includePad ? (r1 - r0) * (c1 - c0) : (rHi - rLo) * (cHi - cLo));
        }
      }
    }
  }
}

/**
 * The adjoint of `avgPool`: spreads each entry of `grad` (contiguous [n, c, oh, ow]),
 * divided by its window's divisor, over that window's cells of `out` (contiguous
 * [n, c, h, w], zeroed first).
 */
function avgSpread(grad: Float, g: Window2d, includePad: boolean, out: Float): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, oh, ow } = g;
  out.fill(0, 0, n * c * h * w);
  let o = 0;
  for (let q = 0; q < n * c; q++) {
    const plane = q * h * w;
    for (let y = 0; y < oh; y++) {
      const r0 = y * sh - ph, r1 = Math.min(r0 + kh, h + ph);
      const rLo = Math.max(r0, 0), rHi = Math.min(r1, h);
      for (let ox = 0; ox < ow; ox++, o++) {
        const c0 = ox * sw - pw, c1 = Math.min(c0 + kw, w + pw);
        const cLo = Math.max(c0, 0), cHi = Math.min(c1, w);
        if (rLo >= rHi || cLo >= cHi) continue;
        const v = grad[o] /
          (includePad ? (r1 - r0) * (c1 - c0) : (rHi - rLo) * (cHi - cLo));
        for (let row = rLo; row < rHi; row++) {
          for (let e = plane + row * w + cLo, end = e + cHi - cLo; e < end; e++) out[e] += v;
        }
      }
    }
  }
}

/**
 * Average pooling of a strided [n, c, h, w] input into contiguous `out` [n, c, oh, ow].
 *
 * @param x The input.
 * @param g The window geometry (dilation must be 1).
 * @param includePad Whether padding cells count in each window's divisor.
 * @param out The means.
 * @example
 * ```ts ignore
 * avgPoolKernel(input, window, true, out);
 * ```
 */
export function avgPoolKernel(x: Strided4, g: Window2d, includePad: boolean, out: Float): void {
  const [s0, s1, s2, s3] = x.strides;
  forDType(avgPool, out)(x.data, x.offset, s0, s1, s2, s3, g, includePad, out);
}

/**
 * The adjoint of `avgPoolKernel`: average pooling's backward.
 *
 * @param grad Contiguous [n, c, oh, ow] gradient of the pooled output.
 * @param g The window geometry.
 * @param includePad As in the forward call.
 * @param out Contiguous [n, c, h, w] gradient of the input; overwritten.
 * @example
 * ```ts ignore
 * avgSpreadKernel(grad, window, true, out);
 * ```
 */
export function avgSpreadKernel(grad: Float, g: Window2d, includePad: boolean, out: Float): void {
  forDType(avgSpread, out)(grad, g, includePad, out);
}

// ---- per-channel bias ---------------------------------------------------------------------

/** `out[b, o, p] = src[b, o, p] + bias[o]` over contiguous [n, o, plane] arrays. */
function biasAdd(
  src: Float,
  bias: Float,
  bo: number,
  bs: number,
  n: number,
  o: number,
  plane: number,
  out: Float,
): void {
  for (let b = 0, q = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const v = bias[bo + oc * bs];
      for (const e = q + plane; q < e; q++) out[q] = src[q] + v;
    }
  }
}

/** `out[o] = sum over b, p of src[b, o, p]` for a contiguous [n, o, plane] array. */
function channelSum(src: Float, n: number, o: number, plane: number, out: Float): void {
  out.fill(0, 0, o);
  for (let b = 0, q = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      let s = 0;
      for (const e = q + plane; q < e; q++) s += src[q];
      out[oc] += s;
    }
  }
}

/**
 * Adds a per-channel bias: `out[b, o, p] = src[b, o, p] + bias[o]` for contiguous
 * [n, o, plane] `src` and `out`.
 *
 * @param src The input, contiguous from index 0.
 * @param bias The bias: element o is `bias.data[bias.offset + o * bias.stride]`.
 * @param n Batch size.
 * @param o Channels.
 * @param plane Elements per channel and image.
 * @param out The result (may be `src`).
 * @example
 * ```ts ignore
 * biasAddKernel(y, { data: b, offset: 0, stride: 1 }, 128, 16, 784, out);
 * ```
 */
export function biasAddKernel(
  src: Float,
  bias: { data: Float; offset: number; stride: number },
  n: number,
  o: number,
  plane: number,
  out: Float,
): void {
  forDType(biasAdd, out)(src, bias.data, bias.offset, bias.stride, n, o, plane, out);
}

/**
 * Sums a contiguous [n, o, plane] array over everything but the channel: the gradient of
 * a per-channel bias. Each plane is summed in double precision.
 *
 * @param src The input, contiguous from index 0.
 * @param n Batch size.
 * @param o Channels.
 * @param plane Elements per channel and image.
 * @param out The o sums; overwritten.
 * @example
 * ```ts ignore
 * channelSumKernel(grad, 128, 16, 784, out);
 * ```
 */
export function channelSumKernel(
  src: Float,
  n: number,
  o: number,
  plane: number,
  out: Float,
): void {
  forDType(channelSum, out)(src, n, o, plane, out);
}

// ---- reference ----------------------------------------------------------------------------

/**
 * The plain direct convolution (seven nested loops, double accumulation) that tests and
 * benchmarks compare `conv2d` against. `x` is contiguous [n, c, h, w], `weight` contiguous
 * [o, c/groups, kh, kw], `bias` [o] or null; `out` receives contiguous [n, o, oh, ow].
 *
 * @param x The input.
 * @param weight The filters.
 * @param bias The bias, or null.
 * @param g The window geometry (its `c` is the input's channel count).
 * @param outChannels o.
 * @param groups How many groups the channels split into.
 * @param out The output.
 * @example
 * ```ts ignore
 * conv2dReference(x, weight, null, window, 16, 1, out);
 * ```
 */
export function conv2dReference(
  x: Float,
  weight: Float,
  bias: Float | null,
  g: Window2d,
  outChannels: number,
  groups: number,
  out: Float,
): void {
  const { n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  const cg = c / groups, og = outChannels / groups;
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < outChannels; oc++) {
      const first = Math.floor(oc / og) * cg;
      for (let y = 0; y < oh; y++) {
        for (let ox = 0; ox < ow; ox++, o++) {
          let s = bias === null ? 0 : bias[oc];
          for (let ci = 0; ci < cg; ci++) {
            for (let i = 0; i < kh; i++) {
              const row = y * sh - ph + i * dh;
              if (row < 0 || row >= h) continue;
              for (let j = 0; j < kw; j++) {
                const col = ox * sw - pw + j * dw;
                if (col < 0 || col >= w) continue;
                s += x[((b * c + first + ci) * h + row) * w + col] *
                  weight[((oc * cg + ci) * kh + i) * kw + j];
              }
            }
          }
          out[o] = s;
        }
      }
    }
  }
}
