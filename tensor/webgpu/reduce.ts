/**
 * Reductions in WGSL: sum, mean, max, min, argmax and argmin over a set of axes of a
 * strided input, written contiguous over the kept axes (in their order).
 *
 * Three kernels share one generator. The usual one gives each output a workgroup of 64
 * threads that fold a strided share of the reduced elements each and then combine in a
 * tree through workgroup memory. When there are few outputs and many elements (the sum
 * of a whole large tensor), each output's range is split among several workgroups that
 * write partial results, and a second pass combines them. When the outputs are many and
 * adjacent in memory while the reduced elements are far apart (a column sum), one thread
 * per output folds its elements in order, so neighbouring threads read neighbouring
 * addresses.
 *
 * Semantics follow the CPU kernels: max and min propagate NaN; argmax and argmin give
 * the first index of the extreme, a NaN counting as the extreme; mean is the sum divided
 * by the count (NaN for an empty reduction). Float sums accumulate in float32.
 *
 * @module
 */

import { pipeline } from "./pipelines.ts";
import {
  checkBindable,
  checkExtent,
  checkU32,
  foldGroups,
  type Release,
  Scratch,
} from "./scratch.ts";

/** The reductions `reduce` computes. */
export type ReduceOp = "sum" | "mean" | "max" | "min" | "argmax" | "argmin";

/** What to reduce: a strided input, its element type and the axes. */
export interface ReduceParams {
  /** The reduction; arg-reductions write int32 indices into the reduced axes' flat order. */
  op: ReduceOp;
  /** Element type of the input (and of the output, except for mean and the arg ops). */
  dtype: "float32" | "int32";
  /** Shape of the input. */
  shape: readonly number[];
  /** Element strides of the input, one per dimension. */
  strides: readonly number[];
  /** Element index of the input's first element. */
  offset: number;
  /** The axes reduced, each in [0, rank). */
  axes: readonly number[];
}

// 64 threads: enough to hide latency, and a software adapter compiles the zero-initialisation
// of workgroup memory in time that grows with the square of its size
const THREADS = 64;
const MAX_RANK = 4;
/** Outputs at or above which a column-like reduction uses one thread per output. */
const MANY_OUTPUTS = 256;

interface Dims {
  shape: number[];
  strides: number[];
}

/** Drops size-1 dimensions and merges neighbours that step through memory as one. */
function merge(shape: readonly number[], strides: readonly number[]): Dims {
  const out: Dims = { shape: [], strides: [] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (last >= 0 && out.strides[last] === strides[d] * shape[d]) {
      out.shape[last] *= shape[d];
      out.strides[last] = strides[d];
    } else {
      out.shape.push(shape[d]);
      out.strides.push(strides[d]);
    }
  }
  return out;
}

/** The four lanes of a shape or stride uniform, dimensions right-aligned. */
function lanes(values: readonly number[], fill: number): number[] {
  return [...Array(MAX_RANK - values.length).fill(fill), ...values];
}

type Stage = "final" | "partial" | "combine" | "threads";

/**
 * Encodes a reduction of `input` into `out` (contiguous over the kept axes).
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute passes; nothing is submitted.
 * @param input Storage buffer holding the input.
 * @param out Storage buffer receiving one element per kept index: float32 for mean, int32
 *   for argmax/argmin, else the input's dtype.
 * @param params The op, dtype, input layout and axes.
 * @returns Destroys this call's uniform and partial-result buffers; call it after
 *   submitting `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reduce } from "./reduce.ts";
 * import { currentDevice, initGpu } from "./device.ts";
 * if (await initGpu()) {
 *   const device = currentDevice()!;
 *   const x = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
 *   new Float32Array(x.getMappedRange()).set([1, 5, 3, 4]);
 *   x.unmap();
 *   const out = device.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
 *   const read = device.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
 *   const encoder = device.createCommandEncoder();
 *   // argmax of each row of [[1, 5], [3, 4]]
 *   const release = reduce(device, encoder, x, out, {
 *     op: "argmax", dtype: "float32", shape: [2, 2], strides: [2, 1], offset: 0, axes: [1],
 *   });
 *   encoder.copyBufferToBuffer(out, 0, read, 0, 8);
 *   device.queue.submit([encoder.finish()]);
 *   release();
 *   await read.mapAsync(GPUMapMode.READ);
 *   assert.deepEqual([...new Int32Array(read.getMappedRange())], [1, 1]);
 * }
 * ```
 */
export function reduce(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  input: GPUBuffer,
  out: GPUBuffer,
  params: ReduceParams,
): Release {
  const { op, dtype, shape, strides } = params;
  const scratch = new Scratch(device, op);
  if (strides.length !== shape.length) {
    throw new RangeError(`${op}: ${strides.length} strides for a shape of rank ${shape.length}`);
  }
  if (op === "mean" && dtype !== "float32") {
    throw new TypeError(`mean: needs a float32 input, got ${dtype}`);
  }
  checkU32(op, "offset", params.offset);
  shape.forEach((d, i) => checkU32(op, `shape[${i}]`, d));
  strides.forEach((s, i) => checkU32(op, `strides[${i}]`, s));
  const reduced = new Set<number>();
  for (const a of params.axes) {
    if (!Number.isInteger(a) || a < 0 || a >= shape.length || reduced.has(a)) {
      throw new RangeError(
        `${op}: axes [${params.axes.join(", ")}] must be distinct integers in [0, ${shape.length})`,
      );
    }
    reduced.add(a);
  }
  checkBindable(device, op, { input, out });
  const pick = (keep: boolean) => shape.map((_, d) => d).filter((d) => reduced.has(d) !== keep);
  const kept = merge(pick(true).map((d) => shape[d]), pick(true).map((d) => strides[d]));
  const red = merge(pick(false).map((d) => shape[d]), pick(false).map((d) => strides[d]));
  const outputs = kept.shape.reduce((a, b) => a * b, 1);
  const count = red.shape.reduce((a, b) => a * b, 1);
  if (outputs === 0) return scratch.release();
  checkExtent(op, "out", out, outputs - 1);
  if (count > 0) {
    const last = shape.reduce((sum, d, i) => sum + (d - 1) * strides[i], params.offset);
    checkExtent(op, "input", input, last);
  }
  if (count === 0 && op !== "sum" && op !== "mean") {
    throw new RangeError(`${op}: cannot reduce an empty dimension of shape [${shape.join(", ")}]`);
  }
  for (const [what, d] of [["kept", kept], ["reduced", red]] as const) {
    if (d.shape.length > MAX_RANK) {
      throw new RangeError(
        `${op}: the ${what} axes of shape [${shape.join(", ")}] with strides ` +
          `[${strides.join(", ")}] do not merge into ${MAX_RANK} dimensions`,
      );
    }
  }
  const columnLike = kept.shape.length > 0 && red.shape.length > 0 &&
    kept.strides[kept.strides.length - 1] < red.strides[red.strides.length - 1];
  const threads = count <= 16 || (columnLike && outputs >= MANY_OUTPUTS);
  let groups = 1;
  if (!threads && count >= 8 * THREADS && outputs < 1024) {
    groups = Math.min(Math.ceil(count / (8 * THREADS)), Math.max(1, Math.floor(1024 / outputs)));
  }
  const chunk = Math.ceil(count / groups);
  groups = Math.max(1, Math.ceil(count / chunk));
  const base = {
    op,
    dtype,
    keptRank: kept.shape.length,
    redRank: red.shape.length,
  };
  const uniforms = scratch.uniform([
    params.offset,
    outputs,
    count,
    groups,
    chunk,
    0,
    0,
    0,
    ...lanes(kept.shape, 1),
    ...lanes(kept.strides, 0),
    ...lanes(red.shape, 1),
    ...lanes(red.strides, 0),
  ]);
  const arg = op === "argmax" || op === "argmin";
  const run = (stage: Stage, buffers: GPUBuffer[], workgroups: number) => {
    const v = { ...base, stage };
    const key = `reduce|${op}|${dtype}|${v.keptRank}|${v.redRank}|${stage}`;
    const pipe = pipeline(device, key, () => reduceSource(v));
    scratch.pass(encoder, pipe, [uniforms, ...buffers], foldGroups(workgroups));
  };
  if (threads) {
    run("threads", [input, out], Math.ceil(outputs / THREADS));
  } else if (groups === 1) {
    run("final", [input, out], outputs);
  } else {
    const partialValues = scratch.storage(outputs * groups * 4);
    const partialIndices = arg ? [scratch.storage(outputs * groups * 4)] : [];
    run("partial", [input, partialValues, ...partialIndices], outputs * groups);
    run("combine", [partialValues, ...partialIndices, out], outputs);
  }
  return scratch.release();
}

interface Variant {
  op: ReduceOp;
  dtype: "float32" | "int32";
  keptRank: number;
  redRank: number;
  stage: Stage;
}

/** WGSL expression for the memory offset of flat index `i` over the last `rank` lanes. */
function offsetCode(i: string, shape: string, strides: string, rank: number): string {
  if (rank === 0) return "0u";
  const parts: string[] = [];
  let rest = i;
  for (let d = 0; d < rank; d++) {
    const lane = "wzyx"[d];
    const outer = d === rank - 1;
    parts.push(
      outer ? `${rest} * ${strides}.${lane}` : `(${rest} % ${shape}.${lane}) * ${strides}.${lane}`,
    );
    rest = `(${rest} / ${shape}.${lane})`;
  }
  return parts.join(" + ");
}

/** WGSL of one reduction variant. */
function reduceSource(v: Variant): string {
  const t = v.dtype === "float32" ? "f32" : "i32";
  const arg = v.op === "argmax" || v.op === "argmin";
  const big = v.op === "max" || v.op === "argmax";
  const init = v.op === "sum" || v.op === "mean"
    ? `${t}(0)`
    : t === "f32"
    ? `bitcast<f32>(${big ? "0xff800000u" : "0x7f800000u"})`
    : `bitcast<i32>(${big ? "0x80000000u" : "0x7fffffffu"})`;
  const nan = (x: string) => t === "f32" ? `isNan(${x})` : "false";
  const cmp = big ? ">" : "<";
  // does (x, xi) replace the running (v, vi)? later indices never win ties
  const better = (x: string, xi: string, val: string, vi: string) =>
    arg
      ? `(${xi} >= 0 && (${vi} < 0 || ${x} ${cmp} ${val} || (${nan(x)} && !${nan(val)}) || ` +
        `((${x} == ${val} || (${nan(x)} && ${nan(val)})) && ${xi} < ${vi})))`
      : `(${x} ${cmp} ${val} || ${nan(x)})`;
  const fold = (x: string, xi: string, val: string, vi: string) =>
    v.op === "sum" || v.op === "mean"
      ? `${val} = ${val} + ${x};`
      : `if ${better(x, xi, val, vi)} { ${val} = ${x};${arg ? ` ${vi} = ${xi};` : ""} }`;
  const outType = arg ? "i32" : v.op === "mean" ? "f32" : t;
  const result = arg ? "vi" : v.op === "mean" ? "v / f32(p.count)" : "v";
  const bindings: string[] = [];
  const bind = (name: string, type: string, write: boolean) =>
    bindings.push(
      `@group(0) @binding(${bindings.length + 1}) var<storage, ${
        write ? "read_write" : "read"
      }> ${name}: array<${type}>;`,
    );
  if (v.stage === "combine") {
    bind("pv", t, false);
    if (arg) bind("pi", "i32", false);
  } else {
    bind("x", t, false);
  }
  if (v.stage === "partial") {
    bind("pv", t, true);
    if (arg) bind("pi", "i32", true);
  } else {
    bind("out", outType, true);
  }
  const load = (r: string) =>
    `x[p.offset + koff + ${offsetCode(r, "p.rshape", "p.rstrides", v.redRank)}]`;
  const head = `struct P {
  offset: u32, outputs: u32, count: u32, groups: u32,
  chunk: u32, pad0: u32, pad1: u32, pad2: u32,
  kshape: vec4<u32>, kstrides: vec4<u32>, rshape: vec4<u32>, rstrides: vec4<u32>,
}
@group(0) @binding(0) var<uniform> p: P;
${bindings.join("\n")}

fn isNan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }
`;
  if (v.stage === "threads") {
    return `${head}
@compute @workgroup_size(${THREADS})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let o = gid.x + gid.y * nw.x * ${THREADS}u;
  if (o >= p.outputs) { return; }
  let koff = ${offsetCode("o", "p.kshape", "p.kstrides", v.keptRank)};
  var v = ${init};
  var vi = -1;
  for (var r = 0u; r < p.count; r++) {
    let x = ${load("r")};
    ${fold("x", "i32(r)", "v", "vi")}
  }
  out[o] = ${result};
}
`;
  }
  const gather = v.stage === "combine"
    ? `  for (var j = l; j < p.groups; j += ${THREADS}u) {
    let x = pv[o * p.groups + j];
    ${fold("x", arg ? "pi[o * p.groups + j]" : "0", "v", "vi")}
  }`
    : `  let koff = ${offsetCode("o", "p.kshape", "p.kstrides", v.keptRank)};
  let start = g * p.chunk;
  let end = min(start + p.chunk, p.count);
  for (var r = start + l; r < end; r += ${THREADS}u) {
    let x = ${load("r")};
    ${fold("x", "i32(r)", "v", "vi")}
  }`;
  const write = v.stage === "partial"
    ? `pv[w] = v;${arg ? " pi[w] = vi;" : ""}`
    : `out[o] = ${result};`;
  return `${head}
var<workgroup> sv: array<${t}, ${THREADS}>;
${arg ? `var<workgroup> si: array<i32, ${THREADS}>;` : ""}

@compute @workgroup_size(${THREADS})
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nw: vec3<u32>,
  @builtin(local_invocation_index) l: u32,
) {
  let w = wg.x + wg.y * nw.x;
  let groups = ${v.stage === "combine" ? "1u" : "p.groups"};
  if (w >= p.outputs * groups) { return; }
  let o = w / groups;
  let g = w % groups;
  var v = ${init};
  var vi = -1;
${gather}
  sv[l] = v;
  ${arg ? "si[l] = vi;" : ""}
  for (var s = ${THREADS / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (l < s) {
      var a = sv[l];
      var ai = ${arg ? "si[l]" : "0"};
      let b = sv[l + s];
      let bi = ${arg ? "si[l + s]" : "0"};
      ${fold("b", "bi", "a", "ai")}
      sv[l] = a;
      ${arg ? "si[l] = ai;" : ""}
    }
  }
  if (l == 0u) {
    v = sv[0];
    ${arg ? "vi = si[0];" : ""}
    ${write}
  }
}
`;
}
