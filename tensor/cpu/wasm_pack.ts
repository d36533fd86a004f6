/**
 * The packing routines of the SIMD matmul (`wasm_gemm.ts`), assembled here: they copy
 * operands that lie in the heap into the kernel's panel layouts with SIMD loads, stores and
 * 4 x 4 transposes, instead of one element at a time in TypeScript.
 * @module
 */

import {
  ADD,
  BLOCK,
  BR,
  BR_IF,
  emitter,
  END,
  EQZ,
  GE_U,
  get,
  I32,
  i32,
  lanes32,
  LOOP,
  MUL,
  set,
  simd,
  SUB,
  tee,
  uleb,
  V128,
  v128Load,
  v128Store,
  vec,
} from "./wasm_asm.ts";
import { MR, NR } from "./gemm_tile.ts";

const LO_PAIRS = lanes32([0, 4, 1, 5]), HI_PAIRS = lanes32([2, 6, 3, 7]);
const LO_HALVES = lanes32([0, 1, 4, 5]), HI_HALVES = lanes32([2, 3, 6, 7]);

/** `packRows(src, dst, kc, panels, rs)`: panel t's row p is the 8 floats at `src + p*rs + t*32`. */
export function packRowsBody(): number[] {
  const [src, dst, kc, panels, rs, t, p, s, d] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const code: number[] = [];
  const emit = emitter(code);
  emit(i32(0), set(t), BLOCK, LOOP, get(t), get(panels), GE_U, BR_IF(1));
  emit(get(src), get(t), i32(NR * 4), MUL, ADD, set(s));
  emit(get(dst), get(t), get(kc), MUL, i32(NR * 4), MUL, ADD, set(d), get(kc), set(p));
  emit(BLOCK, get(p), EQZ, BR_IF(0), LOOP);
  emit(get(d), get(s), v128Load(0), v128Store(0), get(d), get(s), v128Load(16), v128Store(16));
  emit(get(s), get(rs), ADD, set(s), get(d), i32(NR * 4), ADD, set(d));
  emit(get(p), i32(1), SUB, tee(p), BR_IF(0), END, END);
  emit(get(t), i32(1), ADD, set(t), BR(0), END, END, END);
  return [...vec([[...uleb(4), I32]]), ...code];
}

/**
 * `packCols(src, dst, kc4, panels, cs, kc)`: element (p, j) of the column-major B is at
 * `src + p*4 + j*cs`; four rows of a panel come from eight 4-float column loads and two
 * 4 x 4 transposes.
 */
export function packColsBody(): number[] {
  const [src, dst, kc4, panels, cs, kc, t, q, s, d, col] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const v = (j: number) => 11 + j; // the eight column vectors
  const x = (i: number) => 19 + i; // transposition temps
  const code: number[] = [];
  const emit = emitter(code);
  emit(i32(0), set(t), BLOCK, LOOP, get(t), get(panels), GE_U, BR_IF(1));
  emit(get(src), get(t), get(cs), MUL, i32(NR), MUL, ADD, set(s)); // column t*NR, row 0
  emit(get(dst), get(t), get(kc), MUL, i32(NR * 4), MUL, ADD, set(d), i32(0), set(q));
  emit(BLOCK, LOOP, get(q), get(kc4), GE_U, BR_IF(1));
  emit(get(s), set(col));
  for (let j = 0; j < 8; j++) {
    emit(get(col), v128Load(0), set(v(j)));
    if (j < 7) emit(get(col), get(cs), ADD, set(col));
  }
  for (const half of [0, 1]) {
    const [a, b, c, e] = [v(4 * half), v(4 * half + 1), v(4 * half + 2), v(4 * half + 3)];
    emit(get(a), get(b), LO_PAIRS, set(x(0)), get(a), get(b), HI_PAIRS, set(x(1)));
    emit(get(c), get(e), LO_PAIRS, set(x(2)), get(c), get(e), HI_PAIRS, set(x(3)));
    // row i of this half's four columns, stored at row i of the panel
    const rows = [
      [x(0), x(2), LO_HALVES],
      [x(0), x(2), HI_HALVES],
      [x(1), x(3), LO_HALVES],
      [x(1), x(3), HI_HALVES],
    ] as const;
    rows.forEach(([l, r, pick], i) => {
      emit(get(d), get(l), get(r), pick, v128Store(i * NR * 4 + 16 * half));
    });
  }
  emit(get(s), i32(16), ADD, set(s), get(d), i32(4 * NR * 4), ADD, set(d));
  emit(get(q), i32(1), ADD, set(q), BR(0), END, END);
  emit(get(t), i32(1), ADD, set(t), BR(0), END, END, END);
  return [...vec([[...uleb(5), I32], [...uleb(12), V128]]), ...code];
}

/**
 * `packStripRows(src, dst, kc4, rs)`: an MR-row strip of a row-major A, four columns at a
 * time: rows 0-3 through a 4 x 4 transpose, rows 4-5 as interleaved pairs.
 */
export function packStripRowsBody(): number[] {
  const [src, dst, kc4, rs, q, s, d, row] = [0, 1, 2, 3, 4, 5, 6, 7];
  const v = (r: number) => 8 + r; // the MR row vectors
  const x = (i: number) => 8 + MR + i; // temps
  const store64 = (offset: number, lane: number) => [...simd(0x5b), 3, ...uleb(offset), lane];
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(src), set(s), get(dst), set(d), i32(0), set(q));
  emit(BLOCK, LOOP, get(q), get(kc4), GE_U, BR_IF(1), get(s), set(row));
  for (let r = 0; r < MR; r++) {
    emit(get(row), v128Load(0), set(v(r)));
    if (r < MR - 1) emit(get(row), get(rs), ADD, set(row));
  }
  emit(get(v(0)), get(v(1)), LO_PAIRS, set(x(0)), get(v(0)), get(v(1)), HI_PAIRS, set(x(1)));
  emit(get(v(2)), get(v(3)), LO_PAIRS, set(x(2)), get(v(2)), get(v(3)), HI_PAIRS, set(x(3)));
  const columns = [[0, LO_HALVES], [0, HI_HALVES], [1, LO_HALVES], [1, HI_HALVES]] as const;
  columns.forEach(([h, pick], i) => {
    emit(get(d), get(x(h)), get(x(h + 2)), pick, v128Store(i * MR * 4));
  });
  emit(get(v(4)), get(v(5)), LO_PAIRS, set(x(0)), get(v(4)), get(v(5)), HI_PAIRS, set(x(1)));
  for (let i = 0; i < 4; i++) emit(get(d), get(x(i >> 1)), store64(i * MR * 4 + 16, i & 1));
  emit(get(s), i32(16), ADD, set(s), get(d), i32(4 * MR * 4), ADD, set(d));
  emit(get(q), i32(1), ADD, set(q), BR(0), END, END, END);
  return [...vec([[...uleb(4), I32], [...uleb(MR + 4), V128]]), ...code];
}

/** `packStripCols(src, dst, kc, cs)`: an MR-row strip of a column-major A, one column at a time. */
export function packStripColsBody(): number[] {
  const [src, dst, kc, cs, p, s, d] = [0, 1, 2, 3, 4, 5, 6];
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(src), set(s), get(dst), set(d), get(kc), set(p));
  emit(BLOCK, LOOP, get(p), EQZ, BR_IF(1));
  emit(get(d), get(s), v128Load(0), v128Store(0));
  emit(get(d), get(s), 0x29, 3, ...uleb(16), 0x37, 3, ...uleb(16)); // i64 rows 4-5
  emit(get(s), get(cs), ADD, set(s), get(d), i32(MR * 4), ADD, set(d));
  emit(get(p), i32(1), SUB, set(p), BR(0), END, END, END);
  return [...vec([[...uleb(3), I32]]), ...code];
}
