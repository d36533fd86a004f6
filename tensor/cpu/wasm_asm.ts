/**
 * Just enough of the WebAssembly binary format to assemble the SIMD kernels byte by byte:
 * LEB128 numbers, sections, vectors and the opcodes the kernels use. No toolchain, no
 * binary blob in the repo.
 * @module
 */

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
/** `f32.load` at a constant byte offset. */
export const f32Load = (offset: number): number[] => [0x2a, 2, ...uleb(offset)];

/** Appends instructions (single opcodes or byte runs) to `code`. */
export function emitter(code: number[]): (...parts: (number | readonly number[])[]) => void {
  return (...parts) => {
    for (const x of parts) typeof x === "number" ? code.push(x) : code.push(...x);
  };
}
