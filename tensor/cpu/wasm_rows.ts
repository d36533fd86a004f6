/**
 * `copyRows` and `addRows(src, dst, rows, len, srcStride, dstStride)` as WebAssembly SIMD:
 * copy, or add, `rows` runs of `len` floats at `src` (runs `srcStride` bytes apart) into the
 * runs at `dst`. They are the inner loops of im2col and col2im (convolution's forward and
 * its backward to the input) for stride-1 windows over tensors in the heap: each (channel,
 * tap) moves a shifted block of rows at once, four floats per instruction.
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
  F32_ADD,
  F32_LOAD,
  F32_STORE,
  F32X4_ADD,
  GE_U,
  get,
  heapFunction,
  heapModule,
  I32,
  i32,
  I32_AND,
  LOOP,
  MUL,
  set,
  SHR_U,
  SUB,
  uleb,
  v128Load,
  v128Store,
} from "./wasm_asm.ts";

function rowsBody(add: boolean): number[] {
  const [src, dst, rows, len, srcStride, dstStride] = [0, 1, 2, 3, 4, 5];
  const [r, k, s, d, vectors] = [6, 7, 8, 9, 10];
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(len), i32(2), SHR_U, set(vectors), i32(0), set(r));
  emit(BLOCK, LOOP, get(r), get(rows), GE_U, BR_IF(1));
  emit(get(src), get(r), get(srcStride), MUL, ADD, set(s));
  emit(get(dst), get(r), get(dstStride), MUL, ADD, set(d), get(vectors), set(k));
  emit(BLOCK, LOOP, get(k), EQZ, BR_IF(1)); // four floats at a time
  if (add) emit(get(d), get(d), v128Load(0), get(s), v128Load(0), F32X4_ADD, v128Store(0));
  else emit(get(d), get(s), v128Load(0), v128Store(0));
  emit(get(s), i32(16), ADD, set(s), get(d), i32(16), ADD, set(d));
  emit(get(k), i32(1), SUB, set(k), BR(0), END, END);
  emit(get(len), i32(3), I32_AND, set(k));
  emit(BLOCK, LOOP, get(k), EQZ, BR_IF(1)); // the rest one by one
  if (add) emit(get(d), get(d), F32_LOAD, get(s), F32_LOAD, F32_ADD, F32_STORE);
  else emit(get(d), get(s), F32_LOAD, F32_STORE);
  emit(get(s), i32(4), ADD, set(s), get(d), i32(4), ADD, set(d));
  emit(get(k), i32(1), SUB, set(k), BR(0), END, END);
  emit(get(r), i32(1), ADD, set(r), BR(0), END, END, END);
  return [...uleb(1), ...uleb(5), I32, ...code];
}

/** A compiled `copyRows` or `addRows`. */
export type RowsLoop = (
  src: number,
  dst: number,
  rows: number,
  len: number,
  srcStride: number,
  dstStride: number,
) => void;

const loops = new Map<boolean, RowsLoop | null>();

function rows(add: boolean): RowsLoop | null {
  let loop = loops.get(add);
  if (loop === undefined) {
    loop = heapFunction<RowsLoop>(heapModule(6, 0, rowsBody(add)));
    loops.set(add, loop);
  }
  return loop;
}

/** The compiled add, or null where the heap or WebAssembly SIMD is unavailable. */
export function addRows(): RowsLoop | null {
  return rows(true);
}

/** The compiled copy, or null where the heap or WebAssembly SIMD is unavailable. */
export function copyRows(): RowsLoop | null {
  return rows(false);
}
