/**
 * Fused elementwise loops as WebAssembly SIMD, for operands that live in the heap
 * (`../heap.ts`). A JavaScript loop spends 1-2 ns per element on scalar doubles, whatever
 * the memory can do; here each instruction works on two lanes and a loop iteration on four
 * elements, so a large `a*b + a` runs at memory speed.
 *
 * The lanes are `f64x2`, even for float32 tensors (which are widened on load and rounded
 * on store): JavaScript evaluates the same expression in doubles and rounds once, so both
 * paths give the same bits, and which one ran never shows in a result. Only ops with an
 * exact SIMD form are here; an expression with any other op runs as JavaScript.
 * @module
 */

import {
  ABS,
  ADD,
  AND,
  BITSELECT,
  DEMOTE,
  emitter,
  EQ,
  F64X2_SPLAT,
  FADD,
  FDIV,
  FMUL,
  FSUB,
  GE,
  GE_U,
  get,
  GT,
  heapFunction,
  heapModule,
  HIGH_HALF,
  I32,
  i32,
  JOIN,
  LE,
  LT,
  NE,
  NEG,
  OR,
  PROMOTE,
  set,
  SHL,
  splat,
  SQRT,
  tee,
  uleb,
  V128,
  v128Load,
  v128Store,
  vec,
} from "./wasm_asm.ts";

/**
 * A fused expression by position: `leaf` and `scalar` index the loop's operand pointers
 * and scalar arguments; an op's `params` are scalar indices too.
 */
export type SimdNode =
  | { readonly leaf: number }
  | { readonly scalar: number }
  | { readonly op: string; readonly args: readonly SimdNode[]; readonly params: readonly number[] };

/** A compiled loop: `out` and the operands are byte addresses, `n` a multiple of 4. */
export type SimdLoop = (out: number, n: number, ...rest: number[]) => void;

const ZERO = splat(0), ONE = splat(1), MINUS_ONE = splat(-1);

type OpCode = (x: number[], y: number[], p0: number[], p1: number[]) => (readonly number[])[];

/**
 * Each op's SIMD form, matching the JavaScript expression of the op table bit for bit
 * (NaN and signed zero included). `x`, `y` push the arguments, `p0`, `p1` the parameters.
 */
const OPS: Record<string, OpCode> = {
  add: (x, y) => [x, y, FADD],
  sub: (x, y) => [x, y, FSUB],
  mul: (x, y) => [x, y, FMUL],
  div: (x, y) => [x, y, FDIV],
  neg: (x) => [x, NEG],
  abs: (x) => [x, ABS],
  sqrt: (x) => [x, SQRT],
  rsqrt: (x) => [ONE, x, SQRT, FDIV],
  // x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x
  sign: (
    x,
  ) => [
    ONE,
    MINUS_ONE,
    ZERO,
    x,
    x,
    ZERO,
    EQ,
    BITSELECT,
    x,
    ZERO,
    LT,
    BITSELECT,
    x,
    ZERO,
    GT,
    BITSELECT,
  ],
  relu: (x) => [x, ZERO, x, ZERO, GT, BITSELECT],
  leakyRelu: (x, _y, p0) => [x, x, p0, FMUL, x, ZERO, GT, BITSELECT],
  // (x > y || x !== x) ? x : y, and the mirror for the minimum
  maximum: (x, y) => [x, y, x, y, GT, x, x, NE, OR, BITSELECT],
  minimum: (x, y) => [x, y, x, y, LT, x, x, NE, OR, BITSELECT],
  // x < p0 ? p0 : x > p1 ? p1 : x
  clamp: (x, _y, p0, p1) => [p0, p1, x, x, p1, GT, BITSELECT, x, p0, LT, BITSELECT],
  eq: (x, y) => [x, y, EQ, ONE, AND],
  ne: (x, y) => [x, y, NE, ONE, AND],
  lt: (x, y) => [x, y, LT, ONE, AND],
  le: (x, y) => [x, y, LE, ONE, AND],
  gt: (x, y) => [x, y, GT, ONE, AND],
  ge: (x, y) => [x, y, GE, ONE, AND],
};

/** The ops with a SIMD form. */
export const SIMD_OPS: readonly string[] = Object.keys(OPS);

/** Whether every op of `node` has a SIMD form. */
function simdCovers(node: SimdNode): boolean {
  return !("op" in node) || (node.op in OPS && node.args.every(simdCovers));
}

/** The loop's function body (locals, then code). */
function loopBody(node: SimdNode, leaves: number, scalars: number, f64: boolean): number[] {
  // params: 0 out, 1 n, then leaf pointers, then f64 scalars; locals: end, then v128s:
  // splatted scalars, each leaf's low and high pair, one load temp, then argument temps
  const ptr = (k: number) => 2 + k;
  const params = 2 + leaves + scalars;
  const end = params, splats = params + 1;
  const lo = (k: number) => splats + scalars + 2 * k;
  const load = splats + scalars + 2 * leaves;
  let temps = 0, nextTemp = 0;
  const code: number[] = [];
  const emit = emitter(code);

  const expr = (n: SimdNode, half: 0 | 1): number[] => {
    if ("leaf" in n) return get(lo(n.leaf) + half);
    if ("scalar" in n) return get(splats + n.scalar);
    const out: number[] = [];
    const args = n.args.map((a) => {
      const t = load + 1 + nextTemp++;
      out.push(...expr(a, half), ...set(t));
      return get(t);
    });
    temps = Math.max(temps, nextTemp);
    const p = n.params.map((s) => get(splats + s));
    out.push(...OPS[n.op](args[0], args[1] ?? [], p[0] ?? [], p[1] ?? []).flat());
    return out;
  };
  const half = (h: 0 | 1) => {
    nextTemp = 0;
    return expr(node, h);
  };

  const step = f64 ? 32 : 16;
  for (let s = 0; s < scalars; s++) emit(get(2 + leaves + s), F64X2_SPLAT, set(splats + s));
  emit(get(0), get(1), i32(f64 ? 3 : 2), SHL, ADD, set(end)); // end = out + n * bytes
  emit(0x02, 0x40, 0x03, 0x40); // block, loop
  emit(get(0), get(end), GE_U, 0x0d, 1); // br_if out of the block
  for (let k = 0; k < leaves; k++) {
    if (f64) emit(get(ptr(k)), v128Load(0), set(lo(k)), get(ptr(k)), v128Load(16), set(lo(k) + 1));
    else {
      emit(get(ptr(k)), v128Load(0), tee(load), PROMOTE, set(lo(k)));
      emit(get(load), get(load), HIGH_HALF, PROMOTE, set(lo(k) + 1));
    }
  }
  if (f64) emit(get(0), half(0), v128Store(0), get(0), half(1), v128Store(16));
  else emit(get(0), half(0), DEMOTE, half(1), DEMOTE, JOIN, v128Store(0));
  for (const p of [0, ...Array.from({ length: leaves }, (_, k) => ptr(k))]) {
    emit(get(p), i32(step), ADD, set(p));
  }
  emit(0x0c, 0, 0x0b, 0x0b, 0x0b); // br loop; end loop, block, function
  const locals = [[1, I32], [...uleb(scalars + 2 * leaves + 1 + temps), V128]];
  return [...vec(locals), ...code];
}

/** The module of the loop for `node`. */
export function simdModuleBytes(
  node: SimdNode,
  leaves: number,
  scalars: number,
  f64: boolean,
): Uint8Array<ArrayBuffer> {
  return heapModule(2 + leaves, scalars, loopBody(node, leaves, scalars, f64));
}

const loops = new Map<string, SimdLoop | null>();
/**
 * The compiled loop for `node` (cached under `key`), or null where it has an op without a
 * SIMD form, or where the heap or WebAssembly SIMD is unavailable.
 */
export function simdLoop(
  key: string,
  node: SimdNode,
  leaves: number,
  scalars: number,
  f64: boolean,
): SimdLoop | null {
  let loop = loops.get(key);
  if (loop === undefined) {
    loop = simdCovers(node)
      ? heapFunction<SimdLoop>(simdModuleBytes(node, leaves, scalars, f64))
      : null;
    loops.set(key, loop);
  }
  return loop;
}
