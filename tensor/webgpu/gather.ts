/**
 * Index kernels in WGSL: `gather` along an axis, its adjoint `scatterAdd` (written as a
 * gather over the index, so each output element sums its own matches and no float atomics
 * are needed), and `oneHot`. The rank is baked into each pipeline; shapes, strides and
 * offsets travel in the metadata words. An index outside its axis reads NaN (float) or 0
 * (int32) on the GPU, where the range cannot be checked before the kernel runs.
 * @module
 */

import type { DType } from "../dtype.ts";
import { dispatch, groupsFor } from "./commands.ts";
import { gpuDevice } from "./device.ts";
import type { GpuOperand } from "./elementwise.ts";
import { pipeline } from "./pipelines.ts";

const TYPE: Record<DType, string> = { float32: "f32", int32: "i32", float64: "f64" };

function header(dtype: DType, inputs: string[]): string {
  return [
    `alias T = ${TYPE[dtype]};`,
    "@group(0) @binding(0) var<storage, read> M: array<u32>;",
    "@group(0) @binding(1) var<storage, read_write> O: array<T>;",
    ...inputs.map((decl, k) => `@group(0) @binding(${k + 2}) var<storage, read> ${decl};`),
    "@compute @workgroup_size(256)",
    "fn main(@builtin(global_invocation_id) g: vec3<u32>, " +
    "@builtin(num_workgroups) nw: vec3<u32>) {",
    "  let i = g.x + g.y * nw.x * 256u;",
    "  if (i >= M[0]) { return; }",
  ].join("\n");
}

function missing(dtype: DType): string {
  return dtype === "int32" ? "T(0)" : "bitcast<f32>(0x7fc00000u)";
}

/**
 * `out[p] = x[p with p[axis] = index[p]]` over the index's shape. Words: n, axis size,
 * x offset, index offset, then per dimension the index's size and stride and x's stride.
 */
export function gather(
  x: GpuOperand,
  xShape: readonly number[],
  axis: number,
  index: GpuOperand,
  indexShape: readonly number[],
  out: GPUBuffer,
): void {
  const n = indexShape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const r = indexShape.length;
  const key = `gather|${x.dtype}|${r}|${axis}`;
  const pipe = pipeline(gpuDevice("gather"), key, () => {
    const body = ["  var rem = i; var io = M[3]; var xo = M[2]; var k = 0;"];
    for (let d = r - 1; d >= 0; d--) {
      const at = 4 + 3 * d;
      body.push(`  { let c = rem % M[${at}]; rem = rem / M[${at}]; io += c * M[${at + 1}];`);
      body.push(d === axis ? "  }" : `    xo += c * M[${at + 2}]; }`);
    }
    body.push("  let j = I[io];");
    body.push(`  if (j < 0 || u32(j) >= M[1]) { O[i] = ${missing(x.dtype)}; return; }`);
    body.push(`  O[i] = X[xo + u32(j) * M[${4 + 3 * axis + 2}]];`, "}");
    return header(x.dtype, ["X: array<T>", "I: array<i32>"]) + "\n" + body.join("\n");
  });
  const words = new Uint32Array(4 + 3 * r);
  words.set([n, xShape[axis], x.offset, index.offset]);
  for (let d = 0; d < r; d++) {
    words.set([indexShape[d], index.strides[d], x.strides[d]], 4 + 3 * d);
  }
  dispatch("gather", pipe, words, [out, x.buffer, index.buffer], groupsFor(n));
}

/**
 * The adjoint of `gather`: a contiguous `out` of `shape` where each element sums the
 * elements of `src` (contiguous, the index's shape) whose index points at it. Words: n,
 * the index's size along the axis, src offset, index offset, then per dimension the
 * output's size, the index's size, and the index's and src's strides.
 */
export function scatterAdd(
  shape: readonly number[],
  axis: number,
  index: GpuOperand,
  indexShape: readonly number[],
  src: GpuOperand,
  out: GPUBuffer,
): void {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n === 0) return;
  const r = shape.length;
  const key = `scatterAdd|${src.dtype}|${r}|${axis}`;
  const pipe = pipeline(gpuDevice("scatterAdd"), key, () => {
    const body = ["  var rem = i; var io = M[3]; var so = M[2]; var inside = true; var p = 0u;"];
    for (let d = r - 1; d >= 0; d--) {
      const at = 4 + 4 * d;
      body.push(`  { let c = rem % M[${at}]; rem = rem / M[${at}];`);
      if (d === axis) body.push("    p = c; }");
      else {
        body.push(`    inside = inside && c < M[${at + 1}];`);
        body.push(`    io += c * M[${at + 2}]; so += c * M[${at + 3}]; }`);
      }
    }
    const at = 4 + 4 * axis;
    body.push("  var acc = T(0);");
    body.push("  if (inside) {");
    body.push("    for (var j = 0u; j < M[1]; j++) {");
    body.push(`      if (I[io + j * M[${at + 2}]] == i32(p)) { acc += S[so + j * M[${at + 3}]]; }`);
    body.push("    }", "  }", "  O[i] = acc;", "}");
    return header(src.dtype, ["S: array<T>", "I: array<i32>"]) + "\n" + body.join("\n");
  });
  const words = new Uint32Array(4 + 4 * r);
  words.set([n, indexShape[axis], src.offset, index.offset]);
  for (let d = 0; d < r; d++) {
    words.set([shape[d], indexShape[d], index.strides[d], src.strides[d]], 4 + 4 * d);
  }
  dispatch("scatterAdd", pipe, words, [out, src.buffer, index.buffer], groupsFor(n));
}

/**
 * float32 rows `out[q, c] = index[q] == c` for the index's elements q in row-major order.
 * Words: n, classes, index offset, then per dimension the index's size and stride.
 */
export function oneHot(
  index: GpuOperand,
  indexShape: readonly number[],
  classes: number,
  out: GPUBuffer,
): void {
  const n = indexShape.reduce((a, b) => a * b, 1) * classes;
  if (n === 0) return;
  const r = indexShape.length;
  const pipe = pipeline(gpuDevice("oneHot"), `oneHot|${r}`, () => {
    const body = ["  let c = i % M[1]; var rem = i / M[1]; var io = M[2];"];
    for (let d = r - 1; d >= 0; d--) {
      const at = 3 + 2 * d;
      body.push(`  { let q = rem % M[${at}]; rem = rem / M[${at}]; io += q * M[${at + 1}]; }`);
    }
    body.push("  O[i] = select(0.0, 1.0, I[io] == i32(c));", "}");
    return header("float32", ["I: array<i32>"]) + "\n" + body.join("\n");
  });
  const words = new Uint32Array(3 + 2 * r);
  words.set([n, classes, index.offset]);
  for (let d = 0; d < r; d++) words.set([indexShape[d], index.strides[d]], 3 + 2 * d);
  dispatch("oneHot", pipe, words, [out, index.buffer], groupsFor(n));
}
