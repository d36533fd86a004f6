/**
 * Softmax, log-softmax and cross-entropy over the rows of a matrix (the last axis), with
 * their backward passes, in WGSL.
 *
 * A workgroup of 64 threads takes 64 / T rows, T threads per row (T a power of two
 * chosen from the row length, so short rows such as 10 classes do not leave most threads
 * idle); each row's maximum and sum are combined in a tree through workgroup memory.
 * Results match the CPU kernels: the maximum ignores NaN (which then spreads through the
 * sum), a row of -Infinity gives NaN, and cross-entropy is log-softmax followed by the
 * negative log-likelihood of int32 labels with mean reduction over the labels that are
 * not `ignoreIndex`. A label outside [0, cols) that is not `ignoreIndex` makes the loss
 * (and its gradient row) NaN, since a kernel cannot throw.
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

/** A row-major matrix: `rows` rows of `cols` contiguous elements. */
export interface RowsParams {
  /** Number of rows. */
  rows: number;
  /** Elements per row (the softmax axis). */
  cols: number;
}

/** Parameters of `softmax`. */
export interface SoftmaxParams extends RowsParams {
  /** Log-softmax instead of softmax. */
  log: boolean;
  /** Element index of the input's first element (default 0). */
  offset?: number;
}

/** Parameters of `crossEntropy` and `crossEntropyBackward`. */
export interface CrossEntropyParams extends RowsParams {
  /** Element index of the logits' first element (default 0). */
  offset?: number;
  /** A label that contributes nothing and is not counted (default -100, as in PyTorch). */
  ignoreIndex?: number;
}

const THREADS = 64;

/** Threads per row: enough to give each about four elements, at most the workgroup. */
function threadsPerRow(cols: number): number {
  let t = 1;
  while (t < THREADS && t * 4 < cols) t *= 2;
  return t;
}

function check(kernel: string, p: RowsParams, offsets: readonly number[]): void {
  checkU32(kernel, "rows", p.rows);
  checkU32(kernel, "cols", p.cols);
  for (const o of offsets) checkU32(kernel, "offset", o);
}

const HEAD = `struct P { rows: u32, cols: u32, off: u32, ignore: i32 }
@group(0) @binding(0) var<uniform> p: P;
var<workgroup> sh: array<f32, ${THREADS}>;

fn isNegInf(x: f32) -> bool { return bitcast<u32>(x) == 0xff800000u; }
`;

/**
 * WGSL of the row helpers for T threads per row: `rowMax` and `rowSum` combine one value
 * per thread across the threads of its row (every thread of the workgroup must call them).
 */
function rowHelpers(t: number): string {
  const tree = (name: string, op: string) => `
fn ${name}(l: u32, v: f32) -> f32 {
  let lane = l % ${t}u;
  sh[l] = v;
  for (var s = ${t >> 1}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (lane < s) { let a = sh[l]; let b = sh[l + s]; sh[l] = ${op}; }
  }
  workgroupBarrier();
  let r = sh[l - lane];
  workgroupBarrier();
  return r;
}`;
  return tree("rowMax", "select(a, b, b > a)") + tree("rowSum", "a + b") + `
struct Row { row: u32, lane: u32, live: bool }
fn rowOf(wg: vec3<u32>, nw: vec3<u32>, l: u32) -> Row {
  let row = (wg.x + wg.y * nw.x) * ${THREADS / t}u + l / ${t}u;
  return Row(row, l % ${t}u, row < p.rows);
}`;
}

/** WGSL of `stats`, which reads the rows of a binding named `x`. */
function statsHelper(t: number): string {
  return `
// the row's maximum (0 when it is -Infinity, as on the CPU) and its sum of exp(x - max)
fn stats(l: u32, live: bool, base: u32, lane: u32) -> vec2<f32> {
  var m = bitcast<f32>(0xff800000u);
  if (live) {
    for (var c = lane; c < p.cols; c += ${t}u) { let v = x[base + c]; m = select(m, v, v > m); }
  }
  m = rowMax(l, m);
  if (isNegInf(m)) { m = 0.0; }
  var s = 0.0;
  if (live) { for (var c = lane; c < p.cols; c += ${t}u) { s += exp(x[base + c] - m); } }
  return vec2<f32>(m, rowSum(l, s));
}`;
}

const ENTRY = `@compute @workgroup_size(${THREADS})
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nw: vec3<u32>,
  @builtin(local_invocation_index) l: u32,
) {
  let r = rowOf(wg, nw, l);`;

function rowGroups(rows: number, t: number): [number, number, number] {
  return foldGroups(Math.ceil(rows / (THREADS / t)));
}

/**
 * Encodes softmax (or log-softmax) of each row of `x` into `out` (contiguous, from 0).
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute pass; nothing is submitted.
 * @param x Storage buffer holding the float32 input rows from `params.offset`.
 * @param out Storage buffer receiving `rows * cols` float32 results.
 * @param params Rows, columns, `log`, and the input's offset.
 * @returns Destroys this call's uniform buffer; call it after submitting `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmax } from "./softmax.ts";
 * import { currentDevice, initGpu } from "./device.ts";
 * if (await initGpu()) {
 *   const device = currentDevice()!;
 *   const x = device.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
 *   new Float32Array(x.getMappedRange()).set([0, Math.log(3)]);
 *   x.unmap();
 *   const out = device.createBuffer({ size: 8, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
 *   const read = device.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
 *   const encoder = device.createCommandEncoder();
 *   const release = softmax(device, encoder, x, out, { rows: 1, cols: 2, log: false });
 *   encoder.copyBufferToBuffer(out, 0, read, 0, 8);
 *   device.queue.submit([encoder.finish()]);
 *   release();
 *   await read.mapAsync(GPUMapMode.READ);
 *   const [a, b] = new Float32Array(read.getMappedRange());
 *   assert(Math.abs(a - 0.25) < 1e-6 && Math.abs(b - 0.75) < 1e-6);
 * }
 * ```
 */
export function softmax(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  x: GPUBuffer,
  out: GPUBuffer,
  params: SoftmaxParams,
): Release {
  const name = params.log ? "logSoftmax" : "softmax";
  const offset = params.offset ?? 0;
  check(name, params, [offset]);
  checkBindable(device, name, { x, out });
  const scratch = new Scratch(device, name);
  if (params.rows === 0 || params.cols === 0) return scratch.release();
  const size = params.rows * params.cols;
  checkExtent(name, "x", x, offset + size - 1);
  checkExtent(name, "out", out, size - 1);
  const t = threadsPerRow(params.cols);
  const pipe = pipeline(device, `${name}|f32|${t}`, () => softmaxSource(t, params.log));
  const uniforms = scratch.uniform([params.rows, params.cols, offset, 0]);
  scratch.pass(encoder, pipe, [uniforms, x, out], rowGroups(params.rows, t));
  return scratch.release();
}

function softmaxSource(t: number, log: boolean): string {
  const write = log
    ? "let ls = st.x + log(st.y); for (var c = r.lane; c < p.cols; c += TPRu) { out[q + c] = x[base + c] - ls; }"
    : "let inv = 1.0 / st.y; for (var c = r.lane; c < p.cols; c += TPRu) { out[q + c] = exp(x[base + c] - st.x) * inv; }";
  return `${HEAD}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
${rowHelpers(t)}
${statsHelper(t)}
${ENTRY}
  let base = p.off + r.row * p.cols;
  let q = r.row * p.cols;
  let st = stats(l, r.live, base, r.lane);
  if (r.live) { ${write.replaceAll("TPR", String(t))} }
}
`;
}

/**
 * Encodes the backward pass of `softmax`: from its output `y` and the gradient `dy`,
 * writes `dx = y * (dy - sum(dy * y))` (softmax) or `dx = dy - exp(y) * sum(dy)`
 * (log-softmax) per row. All three are contiguous from element 0.
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute pass; nothing is submitted.
 * @param y The forward output.
 * @param dy The gradient with respect to `y`.
 * @param dx Receives the gradient with respect to the input.
 * @param params Rows, columns and `log` (as in the forward call).
 * @returns Destroys this call's uniform buffer; call it after submitting `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { softmaxBackward } from "./softmax.ts";
 * assert.equal(typeof softmaxBackward, "function"); // see tests/tensor/webgpu/softmax_test.ts
 * ```
 */
export function softmaxBackward(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  y: GPUBuffer,
  dy: GPUBuffer,
  dx: GPUBuffer,
  params: RowsParams & { log: boolean },
): Release {
  const name = params.log ? "logSoftmax backward" : "softmax backward";
  check(name, params, []);
  checkBindable(device, name, { y, dy, dx });
  const scratch = new Scratch(device, name);
  if (params.rows === 0 || params.cols === 0) return scratch.release();
  for (const [label, b] of [["y", y], ["dy", dy], ["dx", dx]] as const) {
    checkExtent(name, label, b, params.rows * params.cols - 1);
  }
  const t = threadsPerRow(params.cols);
  const key = `${params.log ? "logSoftmax" : "softmax"}Backward|f32|${t}`;
  const pipe = pipeline(device, key, () => backwardSource(t, params.log));
  const uniforms = scratch.uniform([params.rows, params.cols, 0, 0]);
  scratch.pass(encoder, pipe, [uniforms, y, dy, dx], rowGroups(params.rows, t));
  return scratch.release();
}

function backwardSource(t: number, log: boolean): string {
  const dot = log ? "dy[q + c]" : "dy[q + c] * y[q + c]";
  const write = log ? "dy[q + c] - exp(y[q + c]) * s" : "y[q + c] * (dy[q + c] - s)";
  return `${HEAD}
@group(0) @binding(1) var<storage, read> y: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;
${rowHelpers(t)}
${ENTRY}
  let q = r.row * p.cols;
  var s = 0.0;
  if (r.live) { for (var c = r.lane; c < p.cols; c += ${t}u) { s += ${dot}; } }
  s = rowSum(l, s);
  if (r.live) { for (var c = r.lane; c < p.cols; c += ${t}u) { dx[q + c] = ${write}; } }
}
`;
}

/** WGSL that tells whether label `k` counts, and whether it is a valid class. */
const LABEL = `fn counted(k: i32) -> bool { return k != p.ignore; }
fn valid(k: i32) -> bool { return k >= 0 && u32(k) < p.cols; }
`;

/** WGSL of one workgroup summing `term(i)` over all rows into `total` (thread 0 holds it). */
function totalOver(term: string): string {
  return `var total = 0.0;
  for (var i = l; i < p.rows; i += ${THREADS}u) { total += ${term}; }
  sh[l] = total;
  for (var s = ${THREADS / 2}u; s > 0u; s = s >> 1u) {
    workgroupBarrier();
    if (l < s) { sh[l] = sh[l] + sh[l + s]; }
  }
  workgroupBarrier();
  total = sh[0];`;
}

/**
 * Encodes the mean cross-entropy of `logits` (rows of class scores) against int32
 * `labels`: `mean_i(logsumexp(x_i) - x_i[label_i])` over the rows whose label is not
 * `ignoreIndex`, written to `out[0]` (NaN when every label is ignored, as in PyTorch).
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute passes; nothing is submitted.
 * @param logits Storage buffer of float32 scores from `params.offset`.
 * @param labels Storage buffer of `rows` int32 class indices.
 * @param out Storage buffer whose first float32 receives the loss.
 * @param params Rows, classes (`cols`), offset and `ignoreIndex`.
 * @returns Destroys this call's uniform and per-row buffers; call it after submitting
 *   `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossEntropy } from "./softmax.ts";
 * assert.equal(typeof crossEntropy, "function"); // see tests/tensor/webgpu/softmax_test.ts
 * ```
 */
export function crossEntropy(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  logits: GPUBuffer,
  labels: GPUBuffer,
  out: GPUBuffer,
  params: CrossEntropyParams,
): Release {
  const offset = params.offset ?? 0;
  check("crossEntropy", params, [offset]);
  checkBindable(device, "crossEntropy", { logits, labels, out });
  const scratch = new Scratch(device, "crossEntropy");
  checkExtent("crossEntropy", "logits", logits, offset + params.rows * params.cols - 1);
  checkExtent("crossEntropy", "labels", labels, params.rows - 1, params.rows);
  checkExtent("crossEntropy", "out", out, 0);
  const t = threadsPerRow(params.cols);
  const uniforms = scratch.uniform([params.rows, params.cols, offset, ignoreOf(params)]);
  const perRow = scratch.storage(params.rows * 8);
  if (params.rows > 0) {
    const rows = pipeline(device, `crossEntropyRows|f32|${t}`, () => ceRowsSource(t));
    scratch.pass(encoder, rows, [uniforms, logits, labels, perRow], rowGroups(params.rows, t));
  }
  const total = pipeline(device, "crossEntropyMean|f32", ceMeanSource);
  scratch.pass(encoder, total, [uniforms, perRow, out], [1, 1, 1]);
  return scratch.release();
}

function ignoreOf(params: CrossEntropyParams): number {
  const ignore = params.ignoreIndex ?? -100;
  if (!Number.isInteger(ignore) || ignore < -(2 ** 31) || ignore >= 2 ** 31) {
    throw new RangeError(`crossEntropy: ignoreIndex must be an int32, got ${ignore}`);
  }
  return ignore >>> 0;
}

function ceRowsSource(t: number): string {
  return `${HEAD}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> perRow: array<vec2<f32>>;
${LABEL}
${rowHelpers(t)}
${statsHelper(t)}
${ENTRY}
  let base = p.off + r.row * p.cols;
  let st = stats(l, r.live, base, r.lane);
  if (r.live && r.lane == 0u) {
    let k = labels[r.row];
    var loss = 0.0;
    if (counted(k)) {
      loss = bitcast<f32>(0x7fc00000u);
      if (valid(k)) { loss = st.x + log(st.y) - x[base + u32(k)]; }
    }
    perRow[r.row] = vec2<f32>(loss, select(0.0, 1.0, counted(k)));
  }
}
`;
}

function ceMeanSource(): string {
  return `${HEAD}
@group(0) @binding(1) var<storage, read> perRow: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_index) l: u32) {
  ${totalOver("perRow[i].x")}
  workgroupBarrier();
  let loss = total;
  ${totalOver("perRow[i].y").replace("var total", "total")}
  if (l == 0u) { out[0] = loss / total; }
}
`;
}

/**
 * Encodes the gradient of `crossEntropy` with respect to the logits:
 * `dx[i] = gradOut[0] * (softmax(x_i) - onehot(label_i)) / count` for the counted rows and
 * zero for the ignored ones, `count` being the number of counted rows.
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute passes; nothing is submitted.
 * @param logits Storage buffer of float32 scores from `params.offset`.
 * @param labels Storage buffer of `rows` int32 class indices.
 * @param gradOut Storage buffer whose first float32 is the loss's gradient.
 * @param dx Storage buffer receiving `rows * cols` float32 gradients (from 0).
 * @param params As given to `crossEntropy`.
 * @returns Destroys this call's uniform and count buffers; call it after submitting
 *   `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossEntropyBackward } from "./softmax.ts";
 * assert.equal(typeof crossEntropyBackward, "function"); // see tests/tensor/webgpu/softmax_test.ts
 * ```
 */
export function crossEntropyBackward(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  logits: GPUBuffer,
  labels: GPUBuffer,
  gradOut: GPUBuffer,
  dx: GPUBuffer,
  params: CrossEntropyParams,
): Release {
  const offset = params.offset ?? 0;
  check("crossEntropy backward", params, [offset]);
  checkBindable(device, "crossEntropy backward", { logits, labels, gradOut, dx });
  const scratch = new Scratch(device, "crossEntropy backward");
  if (params.rows === 0 || params.cols === 0) return scratch.release();
  const name = "crossEntropy backward", size = params.rows * params.cols;
  checkExtent(name, "logits", logits, offset + size - 1);
  checkExtent(name, "labels", labels, params.rows - 1);
  checkExtent(name, "gradOut", gradOut, 0);
  checkExtent(name, "dx", dx, size - 1);
  const t = threadsPerRow(params.cols);
  const uniforms = scratch.uniform([params.rows, params.cols, offset, ignoreOf(params)]);
  const scale = scratch.storage(4);
  const count = pipeline(device, "crossEntropyScale|f32", ceScaleSource);
  scratch.pass(encoder, count, [uniforms, labels, gradOut, scale], [1, 1, 1]);
  const rows = pipeline(device, `crossEntropyBackward|f32|${t}`, () => ceBackwardSource(t));
  scratch.pass(encoder, rows, [uniforms, logits, labels, scale, dx], rowGroups(params.rows, t));
  return scratch.release();
}

function ceScaleSource(): string {
  return `${HEAD}
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read> gradOut: array<f32>;
@group(0) @binding(3) var<storage, read_write> scale: array<f32>;
${LABEL}
@compute @workgroup_size(${THREADS})
fn main(@builtin(local_invocation_index) l: u32) {
  ${totalOver("select(0.0, 1.0, counted(labels[i]))")}
  if (l == 0u) { scale[0] = gradOut[0] / total; }
}
`;
}

function ceBackwardSource(t: number): string {
  return `${HEAD}
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read> scale: array<f32>;
@group(0) @binding(4) var<storage, read_write> dx: array<f32>;
${LABEL}
${rowHelpers(t)}
${statsHelper(t)}
${ENTRY}
  let base = p.off + r.row * p.cols;
  let q = r.row * p.cols;
  let st = stats(l, r.live, base, r.lane);
  if (r.live) {
    let k = labels[r.row];
    var g = scale[0] / st.y;
    if (!counted(k)) { g = 0.0; } else if (!valid(k)) { g = bitcast<f32>(0x7fc00000u); }
    for (var c = r.lane; c < p.cols; c += ${t}u) {
      let hot = select(0.0, scale[0], i32(c) == k && counted(k));
      dx[q + c] = exp(x[base + c] - st.x) * g - hot;
    }
  }
}
`;
}
