/**
 * Adam's and AdamW's element loop as WebAssembly SIMD, for parameters, gradients and state
 * that live in the heap (`tensor/heap.ts`); `update.ts` runs it over the whole multiples
 * of 4 and its own loop over the rest. The lanes are `f32x4` for float32 arrays and `f64x2`
 * for float64 ones, and the operations are the JavaScript loop's in the same order and
 * precision, so both give the same bits (a NaN's sign and payload aside, which WebAssembly
 * leaves open): a step never depends on where its buffers happen to lie.
 * @module
 */

import { heapAddress } from "../tensor/heap.ts";
import {
  ADD,
  emitter,
  F32_DEMOTE,
  F32X4_ADD,
  F32X4_DIV,
  F32X4_MAX,
  F32X4_MUL,
  F32X4_SPLAT,
  F32X4_SQRT,
  F32X4_SUB,
  F64X2_SPLAT,
  FADD,
  FDIV,
  FMAX,
  FMUL,
  FSUB,
  GE_U,
  get,
  heapFunction,
  heapModule,
  I32,
  i32,
  set,
  SHL,
  SQRT,
  uleb,
  V128,
  v128Load,
  v128Store,
  vec,
} from "../tensor/cpu/wasm_asm.ts";
import type { AdamScalars, AdamState, FloatArray } from "./update.ts";

/** Which loop: the dtype, and the options that change its code. */
interface AdamVariant {
  f64: boolean;
  /** AdamW's decoupled decay instead of Adam's L2 term. */
  decoupled: boolean;
  /** Adam's L2 term is on (weight decay not 0). */
  l2: boolean;
  amsgrad: boolean;
}

// scalar arguments, in order
const SCALARS: readonly (keyof AdamScalars)[] = [
  "sign",
  "weightDecay",
  "beta1",
  "c1",
  "beta2",
  "c2",
  "bc2Sqrt",
  "eps",
  "stepSize",
  "decay",
];
const S = Object.fromEntries(SCALARS.map((k, i) => [k, i])) as Record<string, number>;

// the loops' parameters: the arrays' byte addresses, then n, then the scalars
const [P, G, M, V, X, N] = [0, 1, 2, 3, 4, 5];

/**
 * Where a loop keeps what: the arrays it walks, its end address (an i32 local), each
 * scalar splatted (v128 locals), and the first v128 local free for its own use.
 */
function layout(o: AdamVariant) {
  const first = 6 + SCALARS.length;
  return {
    pointers: o.amsgrad ? [P, G, M, V, X] : [P, G, M, V],
    end: first,
    splat: (k: string) => first + 1 + S[k],
    base: first + 1 + SCALARS.length,
  };
}

/**
 * The float64 loop's body: params `p, g, m, v, vMax, n` (byte addresses; n a multiple of 4),
 * then the scalars; four elements an iteration, as two `f64x2` halves.
 */
function adamBody(o: AdamVariant): number[] {
  const { pointers, end, splat, base } = layout(o);
  // per input array and half: the loaded pair; per output and half: the result
  const input = (a: number, h: number) => base + 2 * a + h;
  const result = (a: number, h: number) => base + 10 + 2 * a + h;
  const code: number[] = [];
  const emit = emitter(code);

  SCALARS.forEach((k) => emit(get(6 + S[k]), F64X2_SPLAT, set(splat(k))));
  emit(get(P), get(N), i32(3), SHL, ADD, set(end));
  emit(0x02, 0x40, 0x03, 0x40, get(P), get(end), GE_U, 0x0d, 1);
  for (const a of pointers) {
    emit(get(a), v128Load(0), set(input(a, 0)), get(a), v128Load(16), set(input(a, 1)));
  }
  for (const h of [0, 1]) {
    const g = result(G, h); // the gradient after sign and L2, kept in the unused G slot
    emit(get(splat("sign")), get(input(G, h)), FMUL, set(g));
    if (o.l2) emit(get(g), get(splat("weightDecay")), get(input(P, h)), FMUL, FADD, set(g));
    // mi = beta1 * m + c1 * g; vi = beta2 * v + c2 * g * g
    emit(get(splat("beta1")), get(input(M, h)), FMUL, get(splat("c1")), get(g), FMUL, FADD);
    emit(set(result(M, h)));
    emit(get(splat("beta2")), get(input(V, h)), FMUL, get(splat("c2")), get(g), FMUL, get(g), FMUL);
    emit(FADD, set(result(V, h)));
    let second = result(V, h);
    if (o.amsgrad) {
      emit(get(input(X, h)), get(result(V, h)), FMAX, set(result(X, h)));
      second = result(X, h);
    }
    // p - stepSize * (mi / (sqrt(second) / bc2Sqrt + eps)), or p * decay - … for AdamW
    emit(get(input(P, h)));
    if (o.decoupled) emit(get(splat("decay")), FMUL);
    emit(get(splat("stepSize")), get(result(M, h)), get(second), SQRT, get(splat("bc2Sqrt")), FDIV);
    emit(get(splat("eps")), FADD, FDIV, FMUL, FSUB, set(result(P, h)));
  }
  for (const a of pointers.filter((a) => a !== G)) {
    emit(get(a), get(result(a, 0)), v128Store(0), get(a), get(result(a, 1)), v128Store(16));
  }
  for (const a of pointers) emit(get(a), i32(32), ADD, set(a));
  emit(0x0c, 0, 0x0b, 0x0b, 0x0b);
  const locals = [[1, I32], [...uleb(SCALARS.length + 20), V128]];
  return [...vec(locals), ...code];
}

/**
 * The float32 loop's body: four elements an iteration, every operation in `f32x4` on the
 * scalars rounded to float32, as the JavaScript loop does for float32 arrays.
 */
function adamBody32(o: AdamVariant): number[] {
  const { pointers, end, splat, base } = layout(o);
  const input = (a: number) => base + a, result = (a: number) => base + 5 + a;
  const code: number[] = [];
  const emit = emitter(code);
  SCALARS.forEach((k) => emit(get(6 + S[k]), F32_DEMOTE, F32X4_SPLAT, set(splat(k))));
  emit(get(P), get(N), i32(2), SHL, ADD, set(end));
  emit(0x02, 0x40, 0x03, 0x40, get(P), get(end), GE_U, 0x0d, 1);
  for (const a of pointers) emit(get(a), v128Load(0), set(input(a)));
  const g = result(G); // the gradient after sign and L2, kept in the unused G slot
  emit(get(splat("sign")), get(input(G)), F32X4_MUL, set(g));
  if (o.l2) emit(get(g), get(splat("weightDecay")), get(input(P)), F32X4_MUL, F32X4_ADD, set(g));
  emit(get(splat("beta1")), get(input(M)), F32X4_MUL, get(splat("c1")), get(g), F32X4_MUL);
  emit(F32X4_ADD, set(result(M)));
  emit(get(splat("beta2")), get(input(V)), F32X4_MUL, get(splat("c2")), get(g), F32X4_MUL);
  emit(get(g), F32X4_MUL, F32X4_ADD, set(result(V)));
  let second = result(V);
  if (o.amsgrad) {
    emit(get(input(X)), get(result(V)), F32X4_MAX, set(result(X)));
    second = result(X);
  }
  emit(get(input(P)));
  if (o.decoupled) emit(get(splat("decay")), F32X4_MUL);
  emit(get(splat("stepSize")), get(result(M)), get(second), F32X4_SQRT);
  emit(get(splat("bc2Sqrt")), F32X4_DIV, get(splat("eps")), F32X4_ADD, F32X4_DIV, F32X4_MUL);
  emit(F32X4_SUB, set(result(P)));
  for (const a of pointers.filter((a) => a !== G)) emit(get(a), get(result(a)), v128Store(0));
  for (const a of pointers) emit(get(a), i32(16), ADD, set(a));
  emit(0x0c, 0, 0x0b, 0x0b, 0x0b);
  const locals = [[1, I32], [...uleb(SCALARS.length + 10), V128]];
  return [...vec(locals), ...code];
}

/** The module of one variant's loop. */
function adamModuleBytes(o: AdamVariant): Uint8Array<ArrayBuffer> {
  return heapModule(6, SCALARS.length, o.f64 ? adamBody(o) : adamBody32(o));
}

type AdamLoop = (
  p: number,
  g: number,
  m: number,
  v: number,
  x: number,
  n: number,
  ...scalars: number[]
) => void;

const loops = new Map<string, AdamLoop | null>();

function loopFor(f64: boolean, decoupled: boolean, l2: boolean, amsgrad: boolean): AdamLoop | null {
  const key = `${f64}${decoupled}${l2}${amsgrad}`;
  let loop = loops.get(key);
  if (loop === undefined) {
    loop = heapFunction<AdamLoop>(adamModuleBytes({ f64, decoupled, l2, amsgrad }));
    loops.set(key, loop);
  }
  return loop;
}

/** Elements updated by the SIMD loop since the process started (tests read it). */
export const adamSimdElements = { count: 0 };

/**
 * Runs Adam's (or, `decoupled`, AdamW's) update over the largest multiple of 4 elements
 * from `from` when every array lies in the heap with the parameters' type; returns the
 * first element it left for the JavaScript loop.
 */
export function adamSimd(
  decoupled: boolean,
  param: FloatArray,
  grad: FloatArray,
  state: AdamState,
  amsgrad: boolean,
  s: AdamScalars,
  from: number,
  to: number,
): number {
  const n = to - from - (to - from) % 4;
  if (n <= 0) return from;
  const type = param.constructor, bytes = param.BYTES_PER_ELEMENT;
  const at = (a: FloatArray | undefined) =>
    a !== undefined && a.constructor === type && heapAddress(a) >= 0
      ? heapAddress(a) + from * bytes
      : -1;
  const p = at(param), g = at(grad), m = at(state.m), v = at(state.v);
  const x = amsgrad ? at(state.vMax) : 0;
  if (p < 0 || g < 0 || m < 0 || v < 0 || x < 0) return from;
  const l2 = !decoupled && s.weightDecay !== 0;
  const loop = loopFor(bytes === 8, decoupled, l2, amsgrad);
  if (loop === null) return from;
  // in the order of SCALARS
  loop(
    p,
    g,
    m,
    v,
    x,
    n,
    s.sign,
    s.weightDecay,
    s.beta1,
    s.c1,
    s.beta2,
    s.c2,
    s.bc2Sqrt,
    s.eps,
    s.stepSize,
    s.decay,
  );
  adamSimdElements.count += n;
  return from + n;
}
