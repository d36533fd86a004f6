/**
 * Single-threaded CPU matrix multiply on strided views of flat typed arrays.
 *
 * `matmulKernel` is a cache-blocked kernel in the usual GotoBLAS shape: a k-slab of B is
 * packed into column panels of width NR, a block of A into row panels of height MR, and a
 * register-tiled micro-kernel computes each MR x NR tile of the result. All packed panels
 * and the accumulator are Float64Array, so the hot loop sees one array type whatever the
 * callers' dtypes are: float64 callers cannot make V8 deoptimise or go polymorphic in the
 * code that float32 callers depend on. Reading the source dtype happens only in packing,
 * which is O(n^2) against the O(n^3) multiply.
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

// Register tile. Measured on the dev box (Zen 5, one thread): 4x3 and 3x4 tie at the top,
// 4x4 spills and loses ~7%, 2x4 and 2x8 pay for more loads per multiply-add, and
// unrolling the k loop by 2 loses ~10%.
const MR = 4;
const NR = 3;
// A micro-panel (MR x KC) and a B micro-panel (KC x NR) are 8 KiB and 6 KiB of doubles,
// so both stay in L1 while the micro-kernel runs over KC.
const KC = 256;
// An MC x KC block of packed A is 512 KiB of doubles and stays in the 1 MiB L2 while
// every B micro-panel of the slab sweeps past it.
const MC = 256;
// A KC x NC slab of packed B is 6 MiB: sized for L3, and it bounds the B buffer.
const NC = 3072;
// Below this many multiply-adds, packing and the scratch pass cost more than they save.
const SMALL = 4096;
// Scratch beyond this many doubles (32 MiB) is allocated for one call and dropped, so a
// single huge product does not pin its memory for the rest of the process.
const KEEP = 1 << 22;

// Module-level buffers, grown on demand: fresh pages cost ~10 µs per 4 KiB on first touch,
// which would dominate small products if they were allocated per call.
let packA: Float64Array = new Float64Array(0);
let packB: Float64Array = new Float64Array(0);
let acc: Float64Array = new Float64Array(0);
const edge = new Float64Array(MR * NR);

function grow(buf: Float64Array, need: number): Float64Array {
  if (buf.length >= need) return buf;
  // Doubling keeps a sequence of slowly growing shapes from reallocating every call.
  return new Float64Array(Math.max(need, Math.min(2 * buf.length, KEEP)));
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
  if (m * n * k <= SMALL) {
    direct(m, n, k, a, b, out, outOffset);
    return;
  }
  const mn = m * n;
  // The whole result accumulates in double and is written to `out` once at the end: this
  // keeps full precision across k-blocks for float32 and makes aliasing of out with a or
  // b harmless.
  const c = mn > KEEP ? new Float64Array(mn) : (acc = grow(acc, mn));
  c.fill(0, 0, mn);
  const kcMax = Math.min(k, KC);
  const mcMax = Math.min(m, MC);
  const ncMax = Math.min(n, NC);
  const ap = packA = grow(packA, Math.ceil(mcMax / MR) * MR * kcMax);
  const bp = packB = grow(packB, Math.ceil(ncMax / NR) * NR * kcMax);

  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanelsB(b, pc, jc, kc, nc, bp);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packPanelsA(a, ic, pc, mc, kc, ap);
        macro(mc, nc, kc, ap, bp, c, ic * n + jc, n);
      }
    }
  }
  for (let i = 0; i < mn; i++) out[outOffset + i] = c[i];
}

// Computes every MR x NR tile of an mc x nc block of the result from packed panels. The
// B micro-panel is the outer loop so it stays in L1 while the A panels stream past it.
// The register-tiled micro-kernel is written inline. TurboFan's register allocation of
// this loop nest is touchy: moving the micro-kernel into its own function, or handling
// the edge tiles in a separate pass so that this function makes no calls, each measured
// 5-8% slower on V8 15.0, so re-measure after restructuring it.
function macro(
  mc: number,
  nc: number,
  kc: number,
  ap: Float64Array,
  bp: Float64Array,
  c: Float64Array,
  cOff: number,
  ldc: number,
): void {
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = Math.min(NR, nc - jr);
    const pb0 = jr * kc;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = Math.min(MR, mc - ir);
      const co = cOff + ir * ldc + jr;
      if (mr === MR && nr === NR) {
        // Twelve accumulators are about what V8's 15 allocatable double registers on x64
        // hold next to the seven operands of a step.
        let c00 = 0, c01 = 0, c02 = 0;
        let c10 = 0, c11 = 0, c12 = 0;
        let c20 = 0, c21 = 0, c22 = 0;
        let c30 = 0, c31 = 0, c32 = 0;
        let pa = ir * kc, pb = pb0;
        const end = pa + kc * MR;
        for (; pa < end; pa += MR, pb += NR) {
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
        // A partial tile at the bottom or right edge, at most one row and one column of
        // tiles per block: the whole tile is summed over the zero-padded panels into a
        // spare tile, and only the part that exists is added to the result.
        edge.fill(0);
        for (let p = 0, pa = ir * kc, pb = pb0; p < kc; p++, pa += MR, pb += NR) {
          for (let i = 0; i < MR; i++) {
            const ai = ap[pa + i];
            for (let j = 0; j < NR; j++) edge[i * NR + j] += ai * bp[pb + j];
          }
        }
        for (let i = 0; i < mr; i++) {
          for (let j = 0; j < nr; j++) c[co + i * ldc + j] += edge[i * NR + j];
        }
      }
    }
  }
}

// Packs rows [i0, i0+mc) x columns [p0, p0+kc) of A as MR-row panels: panel r holds
// A(i0 + r*MR + ii, p0 + p) at r*MR*kc + p*MR + ii, zero-padded to a multiple of MR rows.
function packPanelsA(
  a: MatrixView,
  i0: number,
  p0: number,
  mc: number,
  kc: number,
  dst: Float64Array,
): void {
  const d = a.data, rs = a.rowStride, cs = a.colStride;
  for (let ir = 0; ir < mc; ir += MR) {
    const rows = Math.min(MR, mc - ir);
    let s = a.offset + (i0 + ir) * rs + p0 * cs;
    let o = ir * kc;
    if (rows === MR) {
      const rs2 = 2 * rs, rs3 = 3 * rs;
      for (let p = 0; p < kc; p++, s += cs, o += MR) {
        dst[o] = d[s];
        dst[o + 1] = d[s + rs];
        dst[o + 2] = d[s + rs2];
        dst[o + 3] = d[s + rs3];
      }
    } else {
      for (let p = 0; p < kc; p++, s += cs, o += MR) {
        for (let ii = 0; ii < MR; ii++) dst[o + ii] = ii < rows ? d[s + ii * rs] : 0;
      }
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

// Tiny products: one dot product per result element straight from the views. Reading a
// and b may be polymorphic here, but this path is never the bulk of any large product.
function direct(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array | Float64Array,
  outOffset: number,
): void {
  // Results go to scratch first because out may alias a or b: all reads must finish
  // before any write.
  const c = acc = grow(acc, m * n);
  const ad = a.data, ars = a.rowStride, acs = a.colStride;
  const bd = b.data, brs = b.rowStride, bcs = b.colStride;
  for (let i = 0; i < m; i++) {
    const ai = a.offset + i * ars;
    for (let j = 0; j < n; j++) {
      let s = 0;
      let pa = ai, pb = b.offset + j * bcs;
      for (let p = 0; p < k; p++, pa += acs, pb += brs) s += ad[pa] * bd[pb];
      c[i * n + j] = s;
    }
  }
  const mn = m * n;
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
