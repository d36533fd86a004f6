/**
 * A reduction where each GPU thread folds the whole reduced extent of one output element
 * over a strided input: sum, max, min, and the first arg-max / arg-min. It takes any
 * rank, so it serves the tensors of more than 4 dimensions that the tree reductions of
 * reduce.ts (faster, but limited to 4 merged dimensions) cannot.
 *
 * Words: outputs, reduced count, x offset, then size and stride of each kept dimension,
 * then of each reduced dimension.
 * @module
 */

import type { DType } from "../dtype.ts";
import { dispatch, groupsFor } from "./commands.ts";
import { gpuDevice } from "./device.ts";
import type { GpuOperand } from "./elementwise.ts";
import { pipeline } from "./pipelines.ts";

/** The folds this kernel knows. */
export type LoopFold = "sum" | "max" | "min" | "argmax" | "argmin";

const TYPE: Record<DType, string> = { float32: "f32", int32: "i32", float64: "f64" };

const STEP: Record<LoopFold, string> = {
  sum: "acc += v;",
  max: "if (v > acc || v != v) { acc = v; }",
  min: "if (v < acc || v != v) { acc = v; }",
  argmax: "if (r == 0u || v > acc || (v != v && acc == acc)) { acc = v; at = i32(r); }",
  argmin: "if (r == 0u || v < acc || (v != v && acc == acc)) { acc = v; at = i32(r); }",
};

function init(fold: LoopFold, dtype: DType): string {
  if (fold === "sum" || fold === "argmax" || fold === "argmin") return "T(0)";
  if (dtype === "int32") return fold === "max" ? "i32(-2147483648)" : "i32(2147483647)";
  return fold === "max" ? "bitcast<f32>(0xff800000u)" : "bitcast<f32>(0x7f800000u)";
}

/**
 * Folds `x` (indexed over `shape`) along `axes` into the contiguous `out`, one element
 * per combination of the other dimensions (an int32 index for the arg folds).
 */
export function reduceLoop(
  fold: LoopFold,
  x: GpuOperand,
  shape: readonly number[],
  axes: readonly number[],
  out: GPUBuffer,
): void {
  const kept = shape.map((_, d) => d).filter((d) => !axes.includes(d));
  const outputs = kept.reduce((s, d) => s * shape[d], 1);
  const count = axes.reduce((s, d) => s * shape[d], 1);
  if (outputs === 0) return;
  const key = `reduceLoop|${fold}|${x.dtype}|${kept.length}|${axes.length}`;
  const pipe = pipeline(gpuDevice(fold), key, () => {
    const lines = [
      `alias T = ${TYPE[x.dtype]};`,
      "@group(0) @binding(0) var<storage, read> M: array<u32>;",
      `@group(0) @binding(1) var<storage, read_write> O: array<${
        fold.startsWith("arg") ? "i32" : "T"
      }>;`,
      "@group(0) @binding(2) var<storage, read> X: array<T>;",
      "@compute @workgroup_size(256)",
      "fn main(@builtin(global_invocation_id) g: vec3<u32>, " +
      "@builtin(num_workgroups) nw: vec3<u32>) {",
      "  let i = g.x + g.y * nw.x * 256u;",
      "  if (i >= M[0]) { return; }",
      "  var rem = i; var base = M[2];",
    ];
    for (let k = kept.length - 1; k >= 0; k--) {
      const at = 3 + 2 * k;
      lines.push(`  { let c = rem % M[${at}]; rem = rem / M[${at}]; base += c * M[${at + 1}]; }`);
    }
    lines.push(`  var acc = ${init(fold, x.dtype)}; var at = 0;`);
    lines.push("  for (var r = 0u; r < M[1]; r++) {", "    var q = r; var o = base;");
    const red0 = 3 + 2 * kept.length;
    for (let k = axes.length - 1; k >= 0; k--) {
      const at = red0 + 2 * k;
      lines.push(`    { let c = q % M[${at}]; q = q / M[${at}]; o += c * M[${at + 1}]; }`);
    }
    lines.push(`    let v = X[o]; ${STEP[fold]}`, "  }");
    lines.push(fold.startsWith("arg") ? "  O[i] = at;" : "  O[i] = acc;", "}");
    return lines.join("\n");
  });
  const words = new Uint32Array(3 + 2 * shape.length);
  words.set([outputs, count, x.offset]);
  [...kept, ...axes].forEach((d, k) => words.set([shape[d], x.strides[d]], 3 + 2 * k));
  dispatch(fold, pipe, words, [out, x.buffer], groupsFor(outputs));
}
