/**
 * Column sums of a row-major float32 matrix into float64 accumulators, as WebAssembly
 * SIMD: each row is added into the accumulators four floats at a time. It is the sum over
 * leading axes (a bias's gradient: the sum over the batch), with the strided loop's
 * order and precision, row after row in double, so the bits are the same.
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
  F32_LOAD,
  F64_ADD,
  F64_LOAD,
  F64_PROMOTE,
  F64_STORE,
  FADD,
  GE_U,
  get,
  heapFunction,
  heapModule,
  HIGH_HALF,
  I32,
  i32,
  I32_AND,
  LOOP,
  PROMOTE,
  set,
  SHR_U,
  SUB,
  tee,
  uleb,
  V128,
  v128Load,
  v128Store,
} from "./wasm_asm.ts";

/** `f(x, acc, rows, cols)`: adds `rows` rows of `cols` floats at `x` into the doubles at `acc`. */
function colSumBody(): number[] {
  const [x, acc, rows, cols] = [0, 1, 2, 3];
  const [r, k, s, d, v] = [4, 5, 6, 7, 8];
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(x), set(s), i32(0), set(r)); // rows are contiguous: s runs on across them
  emit(BLOCK, LOOP, get(r), get(rows), GE_U, BR_IF(1));
  emit(get(acc), set(d), get(cols), i32(2), SHR_U, set(k));
  emit(BLOCK, LOOP, get(k), EQZ, BR_IF(1)); // four floats into two pairs of doubles
  emit(get(d), get(d), v128Load(0), get(s), v128Load(0), tee(v), PROMOTE, FADD, v128Store(0));
  emit(get(d), get(d), v128Load(16), get(v), get(v), HIGH_HALF, PROMOTE, FADD, v128Store(16));
  emit(get(s), i32(16), ADD, set(s), get(d), i32(32), ADD, set(d));
  emit(get(k), i32(1), SUB, set(k), BR(0), END, END);
  emit(get(cols), i32(3), I32_AND, set(k));
  emit(BLOCK, LOOP, get(k), EQZ, BR_IF(1)); // the rest one by one
  emit(get(d), get(d), F64_LOAD, get(s), F32_LOAD, F64_PROMOTE, F64_ADD, F64_STORE);
  emit(get(s), i32(4), ADD, set(s), get(d), i32(8), ADD, set(d));
  emit(get(k), i32(1), SUB, set(k), BR(0), END, END);
  emit(get(r), i32(1), ADD, set(r), BR(0), END, END, END);
  return [...uleb(2), ...uleb(4), I32, ...uleb(1), V128, ...code];
}

/** A compiled column sum: byte addresses of the floats and the doubles, then the sizes. */
export type ColSumLoop = (x: number, acc: number, rows: number, cols: number) => void;

let loop: ColSumLoop | null | undefined;

/** Column sums the SIMD loop has run since the thread started. */
export const colSumCalls = { count: 0 };

/** The compiled column sum, or null where the heap or WebAssembly SIMD is unavailable. */
export function colSum(): ColSumLoop | null {
  if (loop === undefined) loop = heapFunction<ColSumLoop>(heapModule(4, 0, colSumBody()));
  return loop;
}
