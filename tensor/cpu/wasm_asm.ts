/**
 * Just enough of the WebAssembly binary format to assemble the SIMD kernels byte by byte:
 * LEB128 numbers, sections, vectors and the opcodes the kernels use. No toolchain, no
 * binary blob in the repo.
 * @module
 */

import { heapMemory } from "../heap.ts";

/** Unsigned LEB128. */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (the immediate of `i32.const`). */
export function sleb(n: number): number[] {
  const out: number[] = [];
  while (true) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

/** A section: its id, then its body's length. */
export function section(id: number, body: number[]): number[] {
  return [id, ...uleb(body.length), ...body];
}

/** A vector: its length, then its items. */
export function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}

/** A name as the format writes it. */
export function name(s: string): number[] {
  const bytes = new TextEncoder().encode(s);
  return [...uleb(bytes.length), ...bytes];
}

/** The module header: magic and version. */
export const HEADER: readonly number[] = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];

/** Value types. */
export const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;
/** `local.get i`. */
export const get = (i: number): number[] => [0x20, ...uleb(i)];
/** `local.set i`. */
export const set = (i: number): number[] => [0x21, ...uleb(i)];
/** `local.tee i`. */
export const tee = (i: number): number[] => [0x22, ...uleb(i)];
/** `i32.const n`. */
export const i32 = (n: number): number[] => [0x41, ...sleb(n)];
/** i32 arithmetic and comparison opcodes. */
export const ADD = 0x6a, SUB = 0x6b, MUL = 0x6c, GE_U = 0x4f;
/** A SIMD instruction: the 0xfd prefix and its opcode. */
export const simd = (op: number): number[] => [0xfd, ...uleb(op)];
/** `v128.load` at a constant byte offset (16-byte alignment hint). */
export const v128Load = (offset: number): number[] => [...simd(0), 4, ...uleb(offset)];
/** `v128.store` at a constant byte offset. */
export const v128Store = (offset: number): number[] => [...simd(11), 4, ...uleb(offset)];

/** `f64x2.splat`. */
export const F64X2_SPLAT: readonly number[] = simd(0x14);
/** `f64x2` comparisons, giving all-ones lanes where they hold. */
export const [EQ, NE, LT, GT, LE, GE]: readonly number[][] = [0x47, 0x48, 0x49, 0x4a, 0x4b, 0x4c]
  .map(simd);
/** Bitwise `v128` ops; `BITSELECT` takes `a`, `b`, `mask` and gives `a` where the mask is set. */
export const AND: readonly number[] = simd(0x4e), OR: readonly number[] = simd(0x50);
export const BITSELECT: readonly number[] = simd(0x52);
/** `f32x4.demote_f64x2_zero` and `f64x2.promote_low_f32x4`. */
export const DEMOTE: readonly number[] = simd(0x5e), PROMOTE: readonly number[] = simd(0x5f);
/** `f64x2` unary arithmetic. */
export const ABS: readonly number[] = simd(0xec), NEG: readonly number[] = simd(0xed);
export const SQRT: readonly number[] = simd(0xef);
/** `f64x2` binary arithmetic. */
export const [FADD, FSUB, FMUL, FDIV]: readonly number[][] = [0xf0, 0xf1, 0xf2, 0xf3].map(simd);
/** `f64x2.max` (NaN wins, -0 below +0: as `Math.max`). */
export const FMAX: readonly number[] = simd(0xf5);
/** `f32x4` arithmetic, and `f32x4.splat` of an f32. */
export const [F32X4_ADD, F32X4_SUB, F32X4_MUL, F32X4_DIV]: readonly number[][] = [
  0xe4,
  0xe5,
  0xe6,
  0xe7,
].map(simd);
export const F32X4_SPLAT: readonly number[] = simd(0x13),
  F32X4_SQRT: readonly number[] = simd(0xe3);
/** `f32x4.max`: NaN wins, -0 below +0, as `Math.max`. */
export const F32X4_MAX: readonly number[] = simd(0xe9);
/** Scalar f32: load and store (4-byte aligned, offset 0), add, and `f32.demote_f64`. */
export const F32_LOAD: readonly number[] = [0x2a, 2, 0],
  F32_STORE: readonly number[] = [0x38, 2, 0];
export const F32_ADD = 0x92, F32_DEMOTE = 0xb6;
/** Scalar f64: load and store (8-byte aligned, offset 0), add, and widening from f32. */
export const F64_LOAD: readonly number[] = [0x2b, 3, 0],
  F64_STORE: readonly number[] = [0x39, 3, 0];
export const F64_ADD = 0xa0, F64_PROMOTE = 0xbb;
/** `i32.shl`, `i32.shr_u` and `i32.and`. */
export const SHL = 0x74, SHR_U = 0x76, I32_AND = 0x71;
const shuffle = (lanes: number[]) => [...simd(0x0d), ...lanes];
const run = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
/** Moves the high 8 bytes down, so `PROMOTE` widens elements 2 and 3 of an `f32x4`. */
export const HIGH_HALF: readonly number[] = shuffle([...run(8, 16), ...run(8, 16)]);
/** Joins the low 8 bytes of two vectors: two demoted pairs into one `f32x4`. */
export const JOIN: readonly number[] = shuffle([...run(0, 8), ...run(16, 24)]);

/** `v128.const` with `value` in both `f64x2` lanes. */
export function splat(value: number): number[] {
  const bytes = new Uint8Array(new Float64Array([value, value]).buffer);
  return [...simd(0x0c), ...bytes];
}

/**
 * A module that imports the heap as `env.mem` (shared, so its views survive growth) and
 * exports one function `f` with i32 then f64 parameters and the given body.
 */
export function heapModule(
  i32Params: number,
  f64Params: number,
  body: number[],
): Uint8Array<ArrayBuffer> {
  const params = [
    ...Array.from({ length: i32Params }, () => [I32]),
    ...Array.from({ length: f64Params }, () => [F64]),
  ];
  const sharedMemory = [0x02, 0x03, 0, ...uleb(65536)]; // shared, min 0, max 4 GiB
  return new Uint8Array([
    ...HEADER,
    ...section(1, vec([[0x60, ...vec(params), 0]])),
    ...section(2, vec([[...name("env"), ...name("mem"), ...sharedMemory]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name("f"), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

/** Structured control flow: blocks, loops, branches (`depth` counts enclosing labels). */
export const BLOCK: readonly number[] = [0x02, 0x40], LOOP: readonly number[] = [0x03, 0x40];
export const IF: readonly number[] = [0x04, 0x40];
export const ELSE = 0x05, END = 0x0b;
export const BR = (depth: number): number[] => [0x0c, depth];
export const BR_IF = (depth: number): number[] => [0x0d, depth];
/** i32 tests: equal to zero, unsigned less than. */
export const EQZ = 0x45, LT_U = 0x49;

/** `i8x16.shuffle` picking 32-bit lanes: 0-3 from the first vector, 4-7 from the second. */
export function lanes32(l: number[]): number[] {
  return [...simd(0x0d), ...l.flatMap((x) => [0, 1, 2, 3].map((b) => 4 * x + b))];
}

/**
 * Compiles `bytes` (a `heapModule`) against the heap and returns its function `f`, or null
 * where the heap, or an instruction the module uses (SIMD, relaxed SIMD), is unavailable.
 */
export function heapFunction<F>(bytes: Uint8Array<ArrayBuffer>): F | null {
  const mem = heapMemory();
  if (mem === null || !WebAssembly.validate(bytes)) return null;
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }).exports.f as F;
}

/** Appends instructions (single opcodes or byte runs) to `code`. */
export function emitter(code: number[]): (...parts: (number | readonly number[])[]) => void {
  return (...parts) => {
    for (const x of parts) typeof x === "number" ? code.push(x) : code.push(...x);
  };
}
