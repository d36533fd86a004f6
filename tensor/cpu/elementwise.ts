/**
 * Elementwise CPU kernels, generated from one expression per op. Each (op, dtype, layout)
 * gets a function of its own so that V8 sees one typed-array type per loop: a loop shared
 * by float32 and float64 callers, or by several ops through a callback, runs several
 * times slower once its type feedback turns polymorphic.
 * @module
 */

import type { TypedArray } from "../dtype.ts";

/** Helpers the generated code may call as `H.name(x)`. */
export const HELPERS = { erf };

/** The error function (W. J. Cody's rational approximations; float64-accurate, as gradcheck needs). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 0.5) {
    const t = x * x;
    const num = (((0.185777706184603153 * t + 3.16112374387056560) * t + 113.864154151050156) *
            t + 377.485237685302021) * t + 3209.37758913846947;
    const den = (((t + 23.6012909523441209) * t + 244.024637934444173) * t +
          1282.61652607737228) * t + 2844.23683333670241;
    return x * num / den;
  }
  return x < 0 ? erfc(ax) - 1 : 1 - erfc(ax);
}

function erfc(ax: number): number {
  if (ax < 4) {
    const num = (((((((2.15311535474403846e-8 * ax + 0.564188496988670089) * ax +
                              8.88314979438837594) * ax + 66.1191906371416295) * ax +
                      298.635138197400131) * ax +
                  881.952221241769090) * ax + 1712.04761263407058) * ax + 2051.07837782607147) *
        ax +
      1230.33935479799725;
    const den = (((((((ax + 15.7449261107098347) * ax + 117.693950891312499) * ax +
                          537.181101862009858) * ax + 1621.38957456669019) * ax +
                  3290.79923573345963) * ax +
              4362.61909014324716) * ax + 3439.36767414372164) * ax + 1230.33935480374942;
    return Math.exp(-ax * ax) * num / den;
  }
  const z = 1 / (ax * ax);
  const num = ((((0.0163153871373020978 * z + 0.305326634961232344) * z + 0.360344899949804439) *
              z + 0.125781726111229246) * z + 0.0160837851487422766) * z + 0.000658749161529837803;
  const den = ((((z + 2.56852019228982242) * z + 1.87295284992346725) * z +
            0.527905102951428412) * z + 0.0605183413124413191) * z + 0.00233520497626869185;
  return Math.exp(-ax * ax) / ax * (0.564189583547756287 - z * num / den);
}

/** Generated kernels, keyed by expression, dtypes and layout. */
const cache = new Map<string, unknown>();

/** Compiles (once per key) a kernel with its own type feedback. */
export function compile<F>(key: string, params: string[], body: string): F {
  let fn = cache.get(key) as F | undefined;
  if (fn === undefined) {
    fn = new Function(...params, `"use strict";\n${body}`) as F;
    cache.set(key, fn);
  }
  return fn;
}

/**
 * Source of a loop over a strided n-d index space. Each operand `v` is read as `v[jv]`;
 * `out` is written at `out[jo]`. The innermost dimension runs as a plain strided loop and
 * an odometer advances the outer ones, so no index is divided per element.
 */
function stridedLoop(operands: readonly string[], body: string): string {
  const all = [...operands, "out"];
  const j = (v: string) => (v === "out" ? "o" : v);
  return `
const r = shape.length, n = r === 0 ? 1 : shape[r - 1];
${all.map((v) => `const s${j(v)}n = r === 0 ? 0 : s${j(v)}[r - 1];`).join("\n")}
let outer = 1;
for (let d = 0; d < r - 1; d++) outer *= shape[d];
if (n === 0) return;
const idx = new Int32Array(r > 0 ? r : 1);
${all.map((v) => `let i${j(v)} = ${j(v)}o;`).join(" ")}
for (let q = 0; q < outer; q++) {
  ${all.map((v) => `let j${j(v)} = i${j(v)};`).join(" ")}
  for (let i = 0; i < n; i++) {
    ${body}
    ${all.map((v) => `j${j(v)} += s${j(v)}n;`).join(" ")}
  }
  for (let d = r - 2; d >= 0; d--) {
    ${all.map((v) => `i${j(v)} += s${j(v)}[d];`).join(" ")}
    if (++idx[d] < shape[d]) break;
    ${all.map((v) => `i${j(v)} -= s${j(v)}[d] * shape[d];`).join(" ")}
    idx[d] = 0;
  }
}`;
}

/**
 * The `n` elements of a contiguous operand as a zero-offset array: V8 compiles `x[i]`
 * to tighter code than `x[xo + i]` (measured 1.3-1.5x on a 16M-element loop).
 */
function span(v: Strided, n: number): TypedArray {
  return v.offset === 0 && v.data.length === n ? v.data : v.data.subarray(v.offset, v.offset + n);
}

/** A strided view of an operand: its data, offset and one stride per dimension. */
export interface Strided {
  data: TypedArray;
  offset: number;
  strides: readonly number[];
}

type UnaryContig = (
  x: TypedArray,
  out: TypedArray,
  n: number,
  p0: number,
  p1: number,
  h: typeof HELPERS,
) => void;
type UnaryStrided = (
  x: TypedArray,
  xo: number,
  sx: readonly number[],
  out: TypedArray,
  oo: number,
  so: readonly number[],
  shape: readonly number[],
  p0: number,
  p1: number,
  h: typeof HELPERS,
) => void;

/**
 * Applies `expr` (in `x`, parameters `p0`, `p1` and helpers `H`) to every element of `x`,
 * writing `out`. Shapes are equal; either side may be strided.
 */
export function unaryKernel(
  expr: string,
  shape: readonly number[],
  x: Strided,
  out: Strided,
  contiguous: boolean,
  p0 = 0,
  p1 = 0,
): void {
  const types = `${x.data.constructor.name}>${out.data.constructor.name}`;
  if (contiguous) {
    let n = 1;
    for (const d of shape) n *= d;
    if (expr === "x" && x.data.constructor === out.data.constructor) {
      // a copy (clone, contiguous) is a memmove, several times faster than a loop
      (out.data as Float32Array).set(span(x, n) as Float32Array, out.offset);
      return;
    }
    const k = compile<UnaryContig>(
      `u|${expr}|${types}|c`,
      ["x", "out", "n", "p0", "p1", "H"],
      `for (let i = 0; i < n; i++) { const x_ = x[i]; out[i] = ${
        expr.replaceAll(/\bx\b/g, "x_")
      }; }`,
    );
    k(span(x, n), span(out, n), n, p0, p1, HELPERS);
    return;
  }
  const k = compile<UnaryStrided>(
    `u|${expr}|${types}|s`,
    ["x", "xo", "sx", "out", "oo", "so", "shape", "p0", "p1", "H"],
    stridedLoop(["x"], `const x_ = x[jx]; out[jo] = ${expr.replaceAll(/\bx\b/g, "x_")};`),
  );
  k(x.data, x.offset, x.strides, out.data, out.offset, out.strides, shape, p0, p1, HELPERS);
}

type BinaryContig = (
  a: TypedArray,
  b: TypedArray,
  out: TypedArray,
  n: number,
  h: typeof HELPERS,
) => void;
type BinaryScalar = (
  a: TypedArray,
  s: number,
  out: TypedArray,
  n: number,
  h: typeof HELPERS,
) => void;
type BinaryStrided = (
  a: TypedArray,
  ao: number,
  sa: readonly number[],
  b: TypedArray,
  bo: number,
  sb: readonly number[],
  out: TypedArray,
  oo: number,
  so: readonly number[],
  shape: readonly number[],
  h: typeof HELPERS,
) => void;

function substitute(expr: string, x: string, y: string): string {
  return expr.replaceAll(/\bx\b/g, "x_").replaceAll(/\by\b/g, "y_")
    .replaceAll("x_", x).replaceAll("y_", y);
}

/**
 * Applies `expr` (in `x` and `y`) elementwise. `b` may be a number (a scalar operand on
 * the right, or on the left when `scalarFirst`); strides already encode broadcasting.
 */
export function binaryKernel(
  expr: string,
  shape: readonly number[],
  a: Strided,
  b: Strided | number,
  out: Strided,
  contiguous: boolean,
  scalarFirst = false,
): void {
  const bt = typeof b === "number" ? "num" : b.data.constructor.name;
  const types = `${a.data.constructor.name},${bt}>${out.data.constructor.name}`;
  let n = 1;
  for (const d of shape) n *= d;
  if (typeof b === "number") {
    const body = scalarFirst ? substitute(expr, "s", "a[i]") : substitute(expr, "a[i]", "s");
    if (contiguous) {
      const k = compile<BinaryScalar>(
        `b|${expr}|${types}|${scalarFirst ? "sa" : "sb"}`,
        ["a", "s", "out", "n", "H"],
        `for (let i = 0; i < n; i++) out[i] = ${body};`,
      );
      k(span(a, n), b, span(out, n), n, HELPERS);
      return;
    }
    const k = compile<UnaryStrided>(
      `b|${expr}|${types}|${scalarFirst ? "sa" : "sb"}|s`,
      ["x", "xo", "sx", "out", "oo", "so", "shape", "s", "p1", "H"],
      stridedLoop(
        ["x"],
        `out[jo] = ${
          scalarFirst ? substitute(expr, "s", "x[jx]") : substitute(expr, "x[jx]", "s")
        };`,
      ),
    );
    k(a.data, a.offset, a.strides, out.data, out.offset, out.strides, shape, b, 0, HELPERS);
    return;
  }
  if (contiguous) {
    const k = compile<BinaryContig>(
      `b|${expr}|${types}|c`,
      ["a", "b", "out", "n", "H"],
      `for (let i = 0; i < n; i++) out[i] = ${substitute(expr, "a[i]", "b[i]")};`,
    );
    k(span(a, n), span(b, n), span(out, n), n, HELPERS);
    return;
  }
  const k = compile<BinaryStrided>(
    `b|${expr}|${types}|s`,
    ["a", "ao", "sa", "b", "bo", "sb", "out", "oo", "so", "shape", "H"],
    stridedLoop(["a", "b"], `out[jo] = ${substitute(expr, "a[ja]", "b[jb]")};`),
  );
  k(
    a.data,
    a.offset,
    a.strides,
    b.data,
    b.offset,
    b.strides,
    out.data,
    out.offset,
    out.strides,
    shape,
    HELPERS,
  );
}

type TernaryStrided = (
  c: TypedArray,
  co: number,
  sc: readonly number[],
  a: TypedArray,
  ao: number,
  sa: readonly number[],
  b: TypedArray,
  bo: number,
  sb: readonly number[],
  out: TypedArray,
  oo: number,
  so: readonly number[],
  shape: readonly number[],
) => void;

/** `out = cond != 0 ? a : b`, all operands strided (broadcast through their strides). */
export function whereKernel(
  shape: readonly number[],
  cond: Strided,
  a: Strided,
  b: Strided,
  out: Strided,
): void {
  const types = [cond, a, b, out].map((v) => v.data.constructor.name).join(",");
  const k = compile<TernaryStrided>(
    `w|${types}`,
    ["c", "co", "sc", "a", "ao", "sa", "b", "bo", "sb", "out", "oo", "so", "shape"],
    stridedLoop(["c", "a", "b"], `out[jo] = c[jc] !== 0 ? a[ja] : b[jb];`),
  );
  k(
    cond.data,
    cond.offset,
    cond.strides,
    a.data,
    a.offset,
    a.strides,
    b.data,
    b.offset,
    b.strides,
    out.data,
    out.offset,
    out.strides,
    shape,
  );
}

type ReduceStrided = (
  x: TypedArray,
  xo: number,
  sx: readonly number[],
  out: TypedArray,
  oo: number,
  so: readonly number[],
  shape: readonly number[],
) => void;
type ReduceRows = (x: TypedArray, xo: number, out: TypedArray, rows: number, cols: number) => void;

/** How a reduction starts and folds one element `x` into the accumulator `acc`. */
export interface Reducer {
  /** The starting value. */
  init: number;
  /** A JavaScript expression for the new accumulator from `acc` and `x`. */
  fold: string;
}

/**
 * Reduces `x` (shape `shape`) into `out`, whose strides are 0 along the reduced axes.
 * Contiguous `x` reducing trailing axes takes a row loop with a register accumulator.
 */
export function reduceKernel(
  reducer: Reducer,
  shape: readonly number[],
  x: Strided,
  out: TypedArray,
  outStrides: readonly number[],
  trailing: { rows: number; cols: number } | null,
): void {
  const types = `${x.data.constructor.name}>${out.constructor.name}`;
  const fold = (acc: string, v: string) =>
    reducer.fold.replaceAll(/\bacc\b/g, "acc_").replaceAll(/\bx\b/g, "x_")
      .replaceAll("acc_", acc).replaceAll("x_", v);
  if (trailing !== null) {
    const k = compile<ReduceRows>(
      `r|${reducer.fold}|${types}|rows`,
      ["x", "xo", "out", "rows", "cols"],
      `for (let r = 0, p = xo; r < rows; r++) {
        let acc = ${reducer.init};
        for (let c = 0; c < cols; c++, p++) acc = ${fold("acc", "x[p]")};
        out[r] = acc;
      }`,
    );
    k(x.data, x.offset, out, trailing.rows, trailing.cols);
    return;
  }
  out.fill(reducer.init);
  const k = compile<ReduceStrided>(
    `r|${reducer.fold}|${types}|s`,
    ["x", "xo", "sx", "out", "oo", "so", "shape"],
    stridedLoop(["x"], `out[jo] = ${fold("out[jo]", "x[jx]")};`),
  );
  k(x.data, x.offset, x.strides, out, 0, outStrides, shape);
}
