/**
 * Single-threaded CPU matrix multiply on strided views of flat typed arrays.
 *
 * Float32 results go through the WebAssembly SIMD kernel of `wasm_gemm.ts` (f32x4 lanes,
 * float32 accumulation as in BLAS). Float64 results, and float32 ones where WebAssembly
 * SIMD is missing, use the TypeScript kernel below.
 *
 * `matmulKernel` is cache-blocked in the GotoBLAS style: a KC x NC slab of B is packed
 * into column panels NR wide, then each MR-row strip of A is packed in turn and a
 * register-tiled micro-kernel computes the strip's MR x NR tiles of the result. Packed panels and
 * the accumulator are all Float64Array, so the hot loop sees one array type whatever the
 * callers' dtypes are: float64 callers cannot make V8 deoptimise or go polymorphic in the
 * code float32 callers rely on. The source dtype is read only while packing, which is
 * O(n^2) work against the O(n^3) multiply.
 *
 * @module
 */

/** A strided 2-D view over a flat typed array: element (i, j) is data[offset + i*rowStride + j*colStride]. */
export interface MatrixView {
  /** The flat storage the view reads from. */
  data: Float32Array | Float64Array;
  /** Index in `data` of element (0, 0). */
  offset: number;
  /** Distance in `data` between consecutive rows; 0 broadcasts one row. */
  rowStride: number;
  /** Distance in `data` between consecutive columns; 0 broadcasts one column. */
  colStride: number;
}

import { gemmF32, gemmModule } from "./wasm_gemm.ts";
import { gemvF32 } from "./wasm_gemv.ts";

// Register tile. Measured on the dev box (Zen 5, one thread, V8 15.0): 4x3 beats 4x4 by
// ~6%, 2x4 and 2x8 pay for more loads per multiply-add, and unrolling the k loop by 2
// loses ~15%.
const MR = 4;
const NR = 3;
// Cache blocking. A scalar kernel does under 2 flop per cycle, so it is compute bound and
// the sizes barely matter (KC from 128 to 512 measured within noise). An A strip
// (MR x KC, 8 KiB of doubles) stays in L1 while the B slab (KC x NC, at most 6 MiB)
// streams from L2/L3; NC bounds the B buffer.
const KC = 256;
const NC = 3072;
// At or below this many multiply-adds, packing costs more than it saves (measured: 4x4x4
// is faster unpacked, 8x8x8 packed).
const SMALL = 256;
/**
 * Products with one row or one column (a vector times a matrix) below this many
 * multiply-adds take the direct loop; larger ones the SIMD vector kernel (`wasm_gemv.ts`)
 * where the operands lie in the heap, else the tiled kernel, which computes a whole
 * register tile for the one row but in SIMD and measured 2-5x faster than the direct loop
 * from here up (the direct loop was faster below about 6K).
 */
const VECTOR = 1 << 13;
// Scratch beyond this many doubles (32 MiB) is allocated for one call and dropped, so a
// single huge product does not pin its memory for the rest of the process.
const KEEP = 1 << 22;

// Module-level buffers, grown on demand: fresh pages cost ~10 µs per 4 KiB on first touch,
// which would dominate small products if they were allocated per call.
let packB: Float64Array = new Float64Array(0);
let acc: Float64Array = new Float64Array(0);
const aStrip = new Float64Array(MR * KC);

function grow(buf: Float64Array, need: number): Float64Array {
  if (buf.length >= need) return buf;
  // Doubling keeps a sequence of slowly growing shapes from reallocating every call.
  return new Float64Array(Math.max(need, Math.min(2 * buf.length, KEEP)));
}

/**
 * A multi-threaded product that may take over a call of `matmulKernel` (same arguments);
 * it returns false to decline (too small, say), and the single-thread kernel runs.
 */
export type MatmulExecutor = (
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
) => boolean;

// Set by parallel/ (which tensor/ must not import) when a worker pool serves matmuls.
let executor: MatmulExecutor | null = null;

/**
 * Registers the executor that `matmulKernel` offers each large product to (null: none);
 * returns the previous one so a caller can restore it.
 */
export function setMatmulExecutor(next: MatmulExecutor | null): MatmulExecutor | null {
  const previous = executor;
  executor = next;
  return previous;
}

/**
 * Computes the product of an m x k and a k x n matrix with a blocked, register-tiled
 * kernel, accumulating in double precision.
 *
 * The result overwrites `out[outOffset + i*n + j]` for every i < m, j < n (row-major,
 * contiguous). `a` and `b` may have any strides, including transposed (rowStride 1) and
 * broadcast (stride 0) views, and may be float32 or float64 independently of `out`.
 * `out` may share storage with `a` or `b`: every input is read before `out` is written.
 *
 * @param m Rows of A and of the result.
 * @param n Columns of B and of the result.
 * @param k Columns of A and rows of B; 0 gives a zero result.
 * @param a The m x k left operand.
 * @param b The k x n right operand.
 * @param out Destination; receives m*n values starting at `outOffset`.
 * @param outOffset Index in `out` of result element (0, 0).
 *
 * @example
 * ```ts ignore
 * const a = new Float32Array([1, 2, 3, 4, 5, 6]); // 2 x 3, row-major
 * const b = new Float32Array([1, 0, 0, 1, 1, 1]); // 3 x 2, row-major
 * const out = new Float32Array(4);
 * matmulKernel(
 *   2, 2, 3,
 *   { data: a, offset: 0, rowStride: 3, colStride: 1 },
 *   { data: b, offset: 0, rowStride: 2, colStride: 1 },
 *   out, 0,
 * );
 * // out is [4, 5, 10, 11]
 * ```
 */
export function matmulKernel(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    out.fill(0, outOffset, outOffset + m * n);
    return;
  }
  if (m * n * k <= SMALL || ((m === 1 || n === 1) && m * n * k < VECTOR)) {
    direct(m, n, k, a, b, out, outOffset);
    return;
  }
  const vector = (m === 1 || n === 1) && out instanceof Float32Array;
  if (vector && gemvF32(m, n, k, a, b, out, outOffset)) return;
  if (executor !== null && executor(m, n, k, a, b, out, outOffset)) return;
  tiledKernel(m, n, k, a, b, out, outOffset);
}

/**
 * The tiled kernel `matmulKernel` runs for all but the smallest products: WebAssembly SIMD
 * for float32 results, the TypeScript blocked kernel otherwise. A block of rows gives
 * exactly the rows of the whole product (same tiles, same k-blocks), which is what lets a
 * parallel executor split the rows between threads. Same contract as `matmulKernel` for
 * m, n >= 1 and k >= 1.
 *
 * @param m Rows of A and of the result.
 * @param n Columns of B and of the result.
 * @param k Columns of A and rows of B.
 * @param a The m x k left operand.
 * @param b The k x n right operand.
 * @param out Destination; receives m*n values starting at `outOffset`.
 * @param outOffset Index in `out` of result element (0, 0).
 * @example
 * ```ts ignore
 * tiledKernel(2, 2, 2, view, view, out, 0);
 * ```
 */
export function tiledKernel(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const simd = out instanceof Float32Array ? gemmModule() : null;
  if (simd === null || !gemmF32(simd, m, n, k, a, b, out as Float32Array, outOffset)) {
    blockedKernel(m, n, k, a, b, out, outOffset);
  }
}

/**
 * The TypeScript blocked kernel that `matmulKernel` uses for float64 results (and for
 * float32 where WebAssembly SIMD is missing); exported for benchmarks and tests. Same
 * contract as `matmulKernel` for m, n >= 1 and k >= 1.
 *
 * @param m Rows of A and of the result.
 * @param n Columns of B and of the result.
 * @param k Columns of A and rows of B.
 * @param a The m x k left operand.
 * @param b The k x n right operand.
 * @param out Destination; receives m*n values starting at `outOffset`.
 * @param outOffset Index in `out` of result element (0, 0).
 * @example
 * ```ts ignore
 * blockedKernel(2, 2, 2, view, view, out, 0);
 * ```
 */
export function blockedKernel(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const mn = m * n;
  // The whole result accumulates in double and is written to `out` once at the end: this
  // keeps full precision across k-blocks for float32 and makes aliasing of out with a or
  // b harmless.
  const c = mn > KEEP ? new Float64Array(mn) : (acc = grow(acc, mn));
  c.fill(0, 0, mn);
  const bp = packB = grow(packB, Math.ceil(Math.min(n, NC) / NR) * NR * Math.min(k, KC));

  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanelsB(b, pc, jc, kc, nc, bp);
      for (let i = 0; i < m; i += MR) {
        const mr = Math.min(MR, m - i);
        packStripA(a, i, pc, mr, kc);
        strip(mr, nc, kc, bp, c, i * n + jc, n);
      }
    }
  }
  for (let i = 0; i < mn; i++) out[outOffset + i] = c[i];
}

// Adds the product of the packed A strip (mr rows, zero-padded to MR) and every NR-column
// panel of the packed B slab into c, with the register-tiled micro-kernel written inline.
// TurboFan's code for this is sensitive to its shape. Earlier versions measured 5-15%
// slower on V8 15.0 with a micro-kernel function called per tile, with a GotoBLAS
// MC x KC block of packed A and the B panel as the outer loop, or with edge tiles routed
// through the inline kernel into a spare tile. Re-measure after restructuring it.
function strip(
  mr: number,
  nc: number,
  kc: number,
  bp: Float64Array,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  const ap = aStrip;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const co = cOff + jr;
    if (mr === MR && nr === NR) {
      let c00 = 0, c01 = 0, c02 = 0;
      let c10 = 0, c11 = 0, c12 = 0;
      let c20 = 0, c21 = 0, c22 = 0;
      let c30 = 0, c31 = 0, c32 = 0;
      for (let pa = 0, pb = jr * kc; pa < MR * kc; pa += MR, pb += NR) {
        const a0 = ap[pa], a1 = ap[pa + 1], a2 = ap[pa + 2], a3 = ap[pa + 3];
        const b0 = bp[pb], b1 = bp[pb + 1], b2 = bp[pb + 2];
        c00 += a0 * b0;
        c01 += a0 * b1;
        c02 += a0 * b2;
        c10 += a1 * b0;
        c11 += a1 * b1;
        c12 += a1 * b2;
        c20 += a2 * b0;
        c21 += a2 * b1;
        c22 += a2 * b2;
        c30 += a3 * b0;
        c31 += a3 * b1;
        c32 += a3 * b2;
      }
      let o = co;
      c[o] += c00;
      c[o + 1] += c01;
      c[o + 2] += c02;
      o += ldc;
      c[o] += c10;
      c[o + 1] += c11;
      c[o + 2] += c12;
      o += ldc;
      c[o] += c20;
      c[o + 1] += c21;
      c[o + 2] += c22;
      o += ldc;
      c[o] += c30;
      c[o + 1] += c31;
      c[o + 2] += c32;
    } else {
      // A partial tile at the bottom or right edge: at most one column of tiles per strip
      // (plus the last strip), so plain dot products over the packed panels will do.
      for (let i = 0; i < mr; i++) {
        for (let j = 0; j < nr; j++) {
          let s = 0;
          for (let p = 0, x = i, y = jr * kc + j; p < kc; p++, x += MR, y += NR) {
            s += ap[x] * bp[y];
          }
          c[co + i * ldc + j] += s;
        }
      }
    }
  }
}

// Packs rows [i0, i0+rows) x columns [p0, p0+kc) of A into aStrip: A(i0 + ii, p0 + p) at
// p*MR + ii, zero-padded to MR rows.
function packStripA(a: MatrixView, i0: number, p0: number, rows: number, kc: number): void {
  const dst = aStrip;
  const d = a.data, rs = a.rowStride, cs = a.colStride;
  let s = a.offset + i0 * rs + p0 * cs;
  if (rows === MR) {
    const rs2 = 2 * rs, rs3 = 3 * rs;
    for (let o = 0; o < MR * kc; o += MR, s += cs) {
      dst[o] = d[s];
      dst[o + 1] = d[s + rs];
      dst[o + 2] = d[s + rs2];
      dst[o + 3] = d[s + rs3];
    }
  } else {
    for (let o = 0; o < MR * kc; o += MR, s += cs) {
      for (let ii = 0; ii < MR; ii++) dst[o + ii] = ii < rows ? d[s + ii * rs] : 0;
    }
  }
}

// Packs rows [p0, p0+kc) x columns [j0, j0+nc) of B as NR-column panels: panel r holds
// B(p0 + p, j0 + r*NR + jj) at r*NR*kc + p*NR + jj, zero-padded to a multiple of NR.
function packPanelsB(
  b: MatrixView,
  p0: number,
  j0: number,
  kc: number,
  nc: number,
  dst: Float64Array,
): void {
  const d = b.data, rs = b.rowStride, cs = b.colStride;
  for (let jr = 0; jr < nc; jr += NR) {
    const cols = Math.min(NR, nc - jr);
    let s = b.offset + p0 * rs + (j0 + jr) * cs;
    let o = jr * kc;
    if (cols === NR) {
      const cs2 = 2 * cs;
      for (let p = 0; p < kc; p++, s += rs, o += NR) {
        dst[o] = d[s];
        dst[o + 1] = d[s + cs];
        dst[o + 2] = d[s + cs2];
      }
    } else {
      for (let p = 0; p < kc; p++, s += rs, o += NR) {
        for (let jj = 0; jj < NR; jj++) dst[o + jj] = jj < cols ? d[s + jj * cs] : 0;
      }
    }
  }
}

// Tiny products and matrix-vector shapes (m or n = 1), where packing costs more than it
// saves or most of each register tile would be padding. The reads here go polymorphic
// once both dtypes have been seen, but this path never carries the bulk of a large
// product. Results go to scratch first because out may alias a or b.
function direct(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const mn = m * n;
  const c = acc = grow(acc, mn);
  const ad = a.data, ars = a.rowStride, acs = a.colStride;
  const bd = b.data, brs = b.rowStride, bcs = b.colStride;
  if (n === 1) {
    // One dot product per row: walks a row of A and the column of B together.
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let p = 0, x = a.offset + i * ars, y = b.offset; p < k; p++, x += acs, y += brs) {
        s += ad[x] * bd[y];
      }
      c[i] = s;
    }
  } else {
    // i-p-j order: each step streams a row of B into a row of the result.
    c.fill(0, 0, mn);
    for (let i = 0; i < m; i++) {
      const row = i * n;
      for (let p = 0; p < k; p++) {
        const aip = ad[a.offset + i * ars + p * acs];
        for (let j = 0, y = b.offset + p * brs; j < n; j++, y += bcs) c[row + j] += aip * bd[y];
      }
    }
  }
  for (let i = 0; i < mn; i++) out[outOffset + i] = c[i];
}

/**
 * The plain reference product (i-p-j loop order, double accumulation) that tests compare
 * `matmulKernel` against. Same contract as `matmulKernel`; slow, and allocates a row.
 *
 * @param m Rows of A and of the result.
 * @param n Columns of B and of the result.
 * @param k Columns of A and rows of B; 0 gives a zero result.
 * @param a The m x k left operand.
 * @param b The k x n right operand.
 * @param out Destination; receives m*n values starting at `outOffset`.
 * @param outOffset Index in `out` of result element (0, 0).
 *
 * @example
 * ```ts ignore
 * const a = new Float64Array([1, 2, 3, 4]); // 2 x 2
 * const out = new Float64Array(4);
 * const view = { data: a, offset: 0, rowStride: 2, colStride: 1 };
 * matmulReference(2, 2, 2, view, view, out, 0);
 * // out is [7, 10, 15, 22]
 * ```
 */
export function matmulReference(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  const res = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    const row = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a.data[a.offset + i * a.rowStride + p * a.colStride];
      const bp = b.offset + p * b.rowStride;
      for (let j = 0; j < n; j++) res[row + j] += aip * b.data[bp + j * b.colStride];
    }
  }
  for (let i = 0; i < m * n; i++) out[outOffset + i] = res[i];
}
