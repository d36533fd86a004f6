/**
 * 2 x 2 max pooling with stride 2 as WebAssembly SIMD, for inputs that lie in the heap:
 * the commonest pooling of CNNs, where the TypeScript loop spends some 20 ns per output on
 * unpredictable branches. Four outputs at a time: the two input rows of their windows are
 * split into even and odd columns, and the four candidates are compared in row-major
 * window order with the loop's own test (`v > best || v !== v`) as lane masks, so the
 * maximum and its index are the ones the loop picks, ties and NaN included.
 * @module
 */

import {
  ADD,
  BITSELECT,
  BLOCK,
  BR,
  BR_IF,
  emitter,
  END,
  GE_U,
  get,
  heapFunction,
  heapModule,
  I32,
  i32,
  lanes32,
  LOOP,
  MUL,
  OR,
  set,
  simd,
  SUB,
  uleb,
  V128,
  v128Load,
  v128Store,
  vec,
} from "./wasm_asm.ts";

const F32X4_NE = simd(0x42), F32X4_GT = simd(0x44);
const I32X4_SPLAT = simd(0x11), I32X4_ADD = simd(0xae);
const EVENS = lanes32([0, 2, 4, 6]), ODDS = lanes32([1, 3, 5, 7]);
const I32_SELECT = 0x1b; // `select`: a if c else b
const LT_S = 0x48;

/** `v128.const` of four i32 lanes. */
function i32x4(values: number[]): number[] {
  return [...simd(0x0c), ...new Uint8Array(new Int32Array(values).buffer)];
}

/**
 * `maxPool2x2(x, out, index, planes, plane, w, oh, ow)`: byte addresses of the input
 * (contiguous planes `plane` bytes apart, rows of `w` floats), the output and the int32
 * indices (contiguous [planes, oh, ow]); `ow` at least 4.
 */
function maxPoolBody(): number[] {
  const [x, out, idx, planes, plane, w, oh, ow] = [0, 1, 2, 3, 4, 5, 6, 7];
  const [p, y, g, ox, rowA, rowB, start, at] = [8, 9, 10, 11, 12, 13, 14, 15];
  const [best, arg, lo, hi, mask, base, aEven, aOdd, bEven, bOdd] = [
    16,
    17,
    18,
    19,
    20,
    21,
    22,
    23,
    24,
    25,
  ];
  const code: number[] = [];
  const emit = emitter(code);
  emit(i32(0), set(p));
  emit(BLOCK, LOOP, get(p), get(planes), GE_U, BR_IF(1)); // planes
  emit(i32(0), set(y));
  emit(BLOCK, LOOP, get(y), get(oh), GE_U, BR_IF(1)); // output rows
  // rowA = x + p * plane + 2y * w * 4; rowB = rowA + w * 4; start = 2y * w (an index)
  emit(get(y), i32(2), MUL, get(w), MUL, set(start));
  emit(get(x), get(p), get(plane), MUL, ADD, get(start), i32(4), MUL, ADD, set(rowA));
  emit(get(rowA), get(w), i32(4), MUL, ADD, set(rowB), i32(0), set(g));
  emit(BLOCK, LOOP, get(g), get(ow), GE_U, BR_IF(1)); // groups of 4 outputs
  // the last group overlaps the one before rather than running past the row
  emit(get(g), get(ow), i32(4), SUB, get(g), get(ow), i32(4), SUB, LT_S, I32_SELECT, set(ox));
  for (const [row, even, odd] of [[rowA, aEven, aOdd], [rowB, bEven, bOdd]]) {
    emit(get(row), get(ox), i32(8), MUL, ADD, set(at));
    emit(get(at), v128Load(0), set(lo), get(at), v128Load(16), set(hi));
    emit(get(lo), get(hi), EVENS, set(even), get(lo), get(hi), ODDS, set(odd));
  }
  // the index of candidate (0, 0) in each lane: start + 2 * (ox + lane)
  emit(get(start), get(ox), i32(2), MUL, ADD, I32X4_SPLAT, i32x4([0, 2, 4, 6]), I32X4_ADD);
  emit(set(base), get(aEven), set(best), get(base), set(arg));
  const offsets: [number, number[]][] = [
    [aOdd, [i32(1)].flat()],
    [bEven, [get(w)].flat()],
    [bOdd, [get(w), i32(1), ADD].flat()],
  ];
  for (const [c, offset] of offsets) {
    emit(get(c), get(best), F32X4_GT, get(c), get(c), F32X4_NE, OR, set(mask));
    emit(get(c), get(best), get(mask), BITSELECT, set(best));
    emit(get(base), offset, I32X4_SPLAT, I32X4_ADD, get(arg), get(mask), BITSELECT, set(arg));
  }
  // out and index at element (p * oh + y) * ow + ox
  emit(get(p), get(oh), MUL, get(y), ADD, get(ow), MUL, get(ox), ADD, i32(4), MUL, set(at));
  emit(get(at), get(out), ADD, get(best), v128Store(0));
  emit(get(at), get(idx), ADD, get(arg), v128Store(0));
  emit(get(g), i32(4), ADD, set(g), BR(0), END, END);
  emit(get(y), i32(1), ADD, set(y), BR(0), END, END);
  emit(get(p), i32(1), ADD, set(p), BR(0), END, END, END);
  return [...vec([[...uleb(8), I32], [...uleb(10), V128]]), ...code];
}

type MaxPool2x2 = (
  x: number,
  out: number,
  index: number,
  planes: number,
  plane: number,
  w: number,
  oh: number,
  ow: number,
) => void;

let loop: MaxPool2x2 | null | undefined;

/** The compiled kernel, or null where the heap or WebAssembly SIMD is unavailable. */
export function maxPool2x2(): MaxPool2x2 | null {
  if (loop === undefined) {
    loop = heapFunction<MaxPool2x2>(heapModule(8, 0, maxPoolBody()));
  }
  return loop;
}
