/**
 * Elementwise WGSL kernels generated from the op tables' WGSL expressions (the same rows
 * that generate the CPU loops). One kernel per (expression, dtypes, rank, layout): the
 * rank and whether every operand is contiguous are baked in, while sizes, offsets and
 * strides travel in the metadata words, so a training loop compiles each kernel once.
 * Strides already encode broadcasting (stride 0).
 * @module
 */

import type { DType } from "../dtype.ts";
import { dispatch, groupsFor } from "./commands.ts";
import { gpuDevice } from "./device.ts";
import { pipeline } from "./pipelines.ts";

/** A tensor operand of a GPU kernel: its buffer and how to index it. */
export interface GpuOperand {
  buffer: GPUBuffer;
  dtype: DType;
  offset: number;
  /** One per dimension of the kernel's shape (0 along broadcast dimensions). */
  strides: readonly number[];
}

/** An input: a tensor operand, or a scalar of the compute type. */
export type GpuInput = GpuOperand | number;

/** WGSL helpers the expressions may call; `T` is the compute type. */
const PRELUDE = `
fn ftanh(x: f32) -> f32 { return tanh(clamp(x, -15.0, 15.0)); }
fn fsigmoid(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}
fn ferf(x: f32) -> f32 {
  // Abramowitz and Stegun 7.1.26 (absolute error below 1.5e-7)
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let p = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027
    + t * 1.061405429))));
  let r = 1.0 - p * exp(-a * a);
  return select(r, -r, x < 0.0);
}
fn fpow(x: f32, y: f32) -> f32 {
  if (y == 0.0) { return 1.0; }
  if (x == 0.0) { return select(0.0, bitcast<f32>(0x7f800000u), y < 0.0); }
  if (y == trunc(y) && abs(y) <= 16.0) {
    // small integer exponents by repeated multiplication: exact where the CPU is
    var r = 1.0;
    for (var k = 0.0; k < abs(y); k += 1.0) { r *= x; }
    return select(r, 1.0 / r, y < 0.0);
  }
  if (x > 0.0) { return exp2(y * log2(x)); }
  if (y != trunc(y)) { return bitcast<f32>(0x7fc00000u); }
  let r = exp2(y * log2(-x));
  return select(r, -r, (abs(y) % 2.0) == 1.0);
}
`;

const WGSL_TYPE: Record<DType, string> = { float32: "f32", int32: "i32", float64: "f64" };
const NAMES = ["x", "y", "z"];

/** The kernel's source: see the module comment for the metadata layout. */
function source(
  expr: string,
  compute: DType,
  out: DType,
  inputs: readonly (DType | null)[],
  inPlace: boolean,
  rank: number,
  contiguous: boolean,
): string {
  const tensors = inputs.map((t, k) => (t === null || (inPlace && k === 0) ? -1 : k));
  const bound = tensors.filter((k) => k >= 0);
  // words: n, then per operand (out first, then tensor inputs) offset + rank strides,
  // then shape, params p0 p1, and the scalar inputs
  const opCount = 1 + bound.length;
  const shapeAt = 1 + opCount * (1 + rank);
  const paramAt = shapeAt + rank;
  const lines: string[] = [];
  lines.push(`alias T = ${WGSL_TYPE[compute]};`, `alias TO = ${WGSL_TYPE[out]};`, PRELUDE);
  lines.push("@group(0) @binding(0) var<storage, read> M: array<u32>;");
  lines.push("@group(0) @binding(1) var<storage, read_write> O: array<TO>;");
  bound.forEach((k, j) => {
    lines.push(
      `@group(0) @binding(${j + 2}) var<storage, read> I${k}: array<${WGSL_TYPE[inputs[k]!]}>;`,
    );
  });
  const body: string[] = [];
  body.push("let i = g.x + g.y * nw.x * 256u;", "if (i >= M[0]) { return; }");
  body.push(`let p0 = bitcast<f32>(M[${paramAt}]); let p1 = bitcast<f32>(M[${paramAt + 1}]);`);
  const operandAt = (j: number) => 1 + j * (1 + rank);
  if (contiguous) {
    body.push(`let oo = M[1] + i;`);
    bound.forEach((k, j) => body.push(`let o${k} = M[${operandAt(j + 1)}] + i;`));
  } else {
    body.push(`var rem = i; var oo = M[1];`);
    bound.forEach((k, j) => body.push(`var o${k} = M[${operandAt(j + 1)}];`));
    for (let d = rank - 1; d >= 0; d--) {
      body.push(`{ let c = rem % M[${shapeAt + d}]; rem = rem / M[${shapeAt + d}];`);
      body.push(`  oo += c * M[${operandAt(0) + 1 + d}];`);
      bound.forEach((k, j) => body.push(`  o${k} += c * M[${operandAt(j + 1) + 1 + d}];`));
      body.push("}");
    }
  }
  let scalar = 0;
  inputs.forEach((t, k) => {
    const name = NAMES[k];
    if (inPlace && k === 0) body.push(`let ${name} = O[oo];`);
    else if (t === null) body.push(`let ${name} = bitcast<T>(M[${paramAt + 2 + scalar++}]);`);
    else body.push(`let ${name} = I${k}[o${k}];`);
  });
  body.push(`O[oo] = TO(${expr});`);
  lines.push(
    "@compute @workgroup_size(256)",
    "fn main(@builtin(global_invocation_id) g: vec3<u32>, " +
      "@builtin(num_workgroups) nw: vec3<u32>) {",
    ...body.map((l) => "  " + l),
    "}",
  );
  return lines.join("\n");
}

function isContiguous(shape: readonly number[], strides: readonly number[]): boolean {
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== s) return false;
    s *= shape[i];
  }
  return true;
}

/**
 * Records `out = expr(x, y, z)` over `shape`. `expr` is WGSL in the inputs `x`, `y`, `z`
 * (in order), the f32 parameters `p0`, `p1` and the compute type `T` (the type scalar
 * inputs take). With `inPlace`, `x` is `out` itself and `inputs[0]` is ignored.
 */
export function elementwise(
  kernel: string,
  expr: string,
  shape: readonly number[],
  compute: DType,
  out: GpuOperand,
  inputs: readonly GpuInput[],
  params: readonly number[] = [],
  inPlace = false,
): void {
  let n = 1;
  for (const d of shape) n *= d;
  if (n === 0) return;
  const device = gpuDevice(kernel);
  const tensors = inputs.map((v, k) => typeof v === "number" || (inPlace && k === 0) ? null : v);
  const contiguous = isContiguous(shape, out.strides) &&
    tensors.every((t) => t === null || isContiguous(shape, t.strides));
  const rank = contiguous ? 0 : shape.length;
  const types = inputs.map((
    v,
    k,
  ) => (typeof v === "number" ? null : inPlace && k === 0 ? out.dtype : v.dtype));
  const key = `ew|${expr}|${compute}>${out.dtype}|${types.join(",")}|${inPlace}|` +
    (contiguous ? "c" : rank);
  const pipe = pipeline(
    device,
    key,
    () => source(expr, compute, out.dtype, types, inPlace, rank, contiguous),
  );
  const bound = tensors.filter((t): t is GpuOperand => t !== null);
  const scalars = inputs.filter((v, k) => typeof v === "number" && !(inPlace && k === 0));
  const words = new Uint32Array(1 + (1 + bound.length) * (1 + rank) + rank + 2 + scalars.length);
  const view = new DataView(words.buffer);
  words[0] = n;
  [out, ...bound].forEach((t, j) => {
    const at = 1 + j * (1 + rank);
    words[at] = t.offset;
    for (let d = 0; d < rank; d++) words[at + 1 + d] = t.strides[d];
  });
  const shapeAt = 1 + (1 + bound.length) * (1 + rank);
  for (let d = 0; d < rank; d++) words[shapeAt + d] = shape[d];
  const paramAt = shapeAt + rank;
  view.setFloat32(paramAt * 4, params[0] ?? 0, true);
  view.setFloat32((paramAt + 1) * 4, params[1] ?? 0, true);
  scalars.forEach((v, k) => {
    const at = (paramAt + 2 + k) * 4;
    if (compute === "int32") view.setInt32(at, v as number, true);
    else view.setFloat32(at, v as number, true);
  });
  dispatch(kernel, pipe, words, [out.buffer, ...bound.map((t) => t.buffer)], groupsFor(n));
}
