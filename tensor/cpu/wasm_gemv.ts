/**
 * Vector-matrix products (one row of A, or one column of B) as WebAssembly SIMD over
 * operands in the heap. The tiled kernel would pack all of the matrix and compute a whole
 * register tile for the one row; these stream the matrix once, four lanes at a time:
 * - `rows(x, xs, w, ldw, y, k, n4)`: `y[j] = Σ_p x[p] · w[p][j]` for `j < n4` (a multiple of
 *   4), the matrix rows `ldw` bytes apart with unit stride along them, the vector's
 *   elements `xs` bytes apart; `y` is overwritten;
 * - `cols(x, w, ldw, y, k4, n)`: `y[j] = Σ_{p < k4} x[p] · w[j][p]` for `j < n`, each
 *   column of the matrix contiguous and `ldw` bytes after the one before, the vector
 *   contiguous; four partial sums per column, added pairwise at the end.
 * Sums are in float32, as the tiled kernel's are, and in a fixed order.
 * @module
 */

import type { MatrixView } from "./matmul.ts";
import { heapAddress } from "../heap.ts";
import { clearOf, heapSpan } from "./wasm_gemm.ts";
import {
  ADD,
  BLOCK,
  BR,
  BR_IF,
  emitter,
  END,
  EQZ,
  F32_ADD,
  F32_LOAD,
  F32_STORE,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  GE_U,
  get,
  heapFunction,
  heapModule,
  I32,
  i32,
  LOOP,
  set,
  SHL,
  simd,
  splat,
  SUB,
  uleb,
  V128,
  v128Load,
  v128Store,
  vec,
} from "./wasm_asm.ts";

const lane = (i: number) => [...simd(0x1f), i];

function rowsBody(): number[] {
  // params: 0 x, 1 xs, 2 w, 3 ldw, 4 y, 5 k, 6 n4; locals: 7 end, 8 yj, 9 wj, 10 s (v128)
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(4), get(6), i32(2), SHL, ADD, set(7));
  // y = 0
  emit(get(4), set(8), BLOCK, LOOP, get(8), get(7), GE_U, BR_IF(1));
  emit(get(8), splat(0), v128Store(0), get(8), i32(16), ADD, set(8), BR(0), END, END);
  // for each row p: y += x[p] * w[p]
  emit(BLOCK, LOOP, get(5), EQZ, BR_IF(1));
  emit(get(0), F32_LOAD, F32X4_SPLAT, set(10), get(4), set(8), get(2), set(9));
  emit(BLOCK, LOOP, get(8), get(7), GE_U, BR_IF(1));
  emit(get(8), get(8), v128Load(0), get(10), get(9), v128Load(0), F32X4_MUL, F32X4_ADD);
  emit(v128Store(0), get(8), i32(16), ADD, set(8), get(9), i32(16), ADD, set(9), BR(0), END, END);
  emit(get(0), get(1), ADD, set(0), get(2), get(3), ADD, set(2));
  emit(get(5), i32(1), SUB, set(5), BR(0), END, END, END); // loop, block, function
  return [...vec([[...uleb(3), I32], [1, V128]]), ...code];
}

function colsBody(): number[] {
  // params: 0 x, 1 w, 2 ldw, 3 y, 4 k4, 5 n; locals: 6 end, 7 xp, 8 wp, 9 acc (v128)
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(0), get(4), i32(2), SHL, ADD, set(6));
  emit(BLOCK, LOOP, get(5), EQZ, BR_IF(1));
  emit(splat(0), set(9), get(0), set(7), get(1), set(8));
  emit(BLOCK, LOOP, get(7), get(6), GE_U, BR_IF(1));
  emit(get(9), get(7), v128Load(0), get(8), v128Load(0), F32X4_MUL, F32X4_ADD, set(9));
  emit(get(7), i32(16), ADD, set(7), get(8), i32(16), ADD, set(8), BR(0), END, END);
  // (lanes 0 + 1) + (lanes 2 + 3)
  emit(get(3), get(9), lane(0), get(9), lane(1), F32_ADD, get(9), lane(2), get(9), lane(3));
  emit(F32_ADD, F32_ADD, F32_STORE);
  emit(get(3), i32(4), ADD, set(3), get(1), get(2), ADD, set(1));
  emit(get(5), i32(1), SUB, set(5), BR(0), END, END, END); // loop, block, function
  return [...vec([[...uleb(3), I32], [1, V128]]), ...code];
}

type Rows = (
  x: number,
  xs: number,
  w: number,
  ldw: number,
  y: number,
  k: number,
  n4: number,
) => void;
type Cols = (x: number, w: number, ldw: number, y: number, k4: number, n: number) => void;

let kernels: { rows: Rows; cols: Cols } | null | undefined;

function gemv(): { rows: Rows; cols: Cols } | null {
  if (kernels === undefined) {
    const rows = heapFunction<Rows>(heapModule(7, 0, rowsBody()));
    const cols = heapFunction<Cols>(heapModule(6, 0, colsBody()));
    kernels = rows === null || cols === null ? null : { rows, cols };
  }
  return kernels;
}

/** Products `gemvF32` has computed since the thread started (tests read it). */
export const gemvCalls = { count: 0 };

/**
 * `out = A @ B` for a float32 product with one row (`m` 1) or one column (`n` 1), when the
 * operands and `out` lie in the heap and the matrix has unit stride along one side (and,
 * for the column form, the vector too). Returns false, having done nothing, otherwise.
 */
export function gemvF32(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array,
  outOffset: number,
): boolean {
  const g = gemv();
  if (g === null || (m !== 1 && n !== 1)) return false;
  const at = (v: MatrixView) =>
    v.data instanceof Float32Array && heapAddress(v.data) >= 0
      ? heapAddress(v.data) + 4 * v.offset
      : -1;
  const pa = at(a), pb = at(b), y = heapAddress(out);
  if (pa < 0 || pb < 0 || y < 0) return false;
  const py = y + 4 * outOffset, bytes = 4 * m * n;
  // the result is written as it is computed: it must not overlap what is still read
  if (!clearOf(heapSpan(a, m, k), py, bytes) || !clearOf(heapSpan(b, k, n), py, bytes)) {
    return false;
  }
  // the vector, its stride; the matrix, its strides along the result and along k
  const [x, xs, w, wr, wk, len] = m === 1
    ? [pa, a.colStride, pb, b.colStride, b.rowStride, n]
    : [pb, b.rowStride, pa, a.rowStride, a.colStride, m];
  const vector = m === 1 ? a : b, matrix = m === 1 ? b : a;
  const xAt = (p: number) => vector.data[vector.offset + p * xs];
  const wAt = (p: number, j: number) => matrix.data[matrix.offset + j * wr + p * wk];
  // the column form also serves results too short for a vector of four (a dot product)
  const columns = wk === 1 && xs === 1 && (wr !== 1 || len < 4);
  if (!columns && wr === 1) {
    // the matrix's rows (along k) hold the result's elements side by side
    const n4 = len - len % 4;
    if (n4 > 0) g.rows(x, 4 * xs, w, 4 * wk, py, k, n4);
    for (let j = n4; j < len; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s = Math.fround(s + Math.fround(xAt(p) * wAt(p, j)));
      out[outOffset + j] = s;
    }
  } else if (columns) {
    // each result element is a dot product of two contiguous runs
    const k4 = k - k % 4;
    g.cols(x, w, 4 * wr, py, k4, len);
    if (k4 < k) {
      for (let j = 0; j < len; j++) {
        let s = out[outOffset + j];
        for (let p = k4; p < k; p++) s = Math.fround(s + Math.fround(xAt(p) * wAt(p, j)));
        out[outOffset + j] = s;
      }
    }
  } else return false;
  gemvCalls.count++;
  return true;
}
