/**
 * The fused Adam / AdamW update in WGSL: one dispatch updates every parameter of a group.
 *
 * WebGPU cannot index a list of buffers at run time, and a bind group holds only a few
 * storage buffers, so one dispatch over many parameter tensors needs them packed: the
 * parameters, gradients and both moments of a group each live in one buffer (a flat
 * arena, each tensor a view at its own offset). `segments` lists the views; the kernel
 * finds each thread's segment in that table by binary search, so the gaps between views
 * (padding, or tensors of another group) are left alone. Where the tensors are separate
 * buffers the caller makes one call per tensor instead, each a one-segment dispatch.
 *
 * The arithmetic is `adamUpdate` / `adamwUpdate` of optim/update.ts line by line: the
 * bias corrections (step size `lr / (1 - beta1^t)` and `sqrt(1 - beta2^t)`) are computed
 * on the host in double, as there, then rounded to float32; eps is added after dividing
 * sqrt(v) by its correction; Adam's weight decay is added to the gradient (only when not
 * zero), AdamW's shrinks the weight by `1 - lr * weightDecay`; `maximize` negates the
 * gradient; `amsgrad` keeps the running maximum of v and divides by it.
 *
 * @module
 */

import type { AdamHyper } from "../../optim/update.ts";
import { pipeline } from "./pipelines.ts";
import { checkBindable, checkU32, foldGroups, type Release, Scratch } from "./scratch.ts";

/** The float32 buffers one Adam step reads and updates, all indexed alike. */
export interface AdamBuffers {
  /** Parameters, updated in place. */
  param: GPUBuffer;
  /** Gradients, read. */
  grad: GPUBuffer;
  /** First moments, updated in place. */
  m: GPUBuffer;
  /** Second moments, updated in place. */
  v: GPUBuffer;
  /** Running maximum of the second moments; required when `amsgrad` is on. */
  vMax?: GPUBuffer;
}

/** A run of elements updated by `adam`: elements `offset` to `offset + count - 1`. */
export interface AdamSegment {
  /** First element index (the same in every buffer). */
  offset: number;
  /** Number of elements. */
  count: number;
}

/** Hyper-parameters of one step, as for `adamUpdate`, plus which rule and what to update. */
export interface AdamParams extends AdamHyper {
  /** AdamW's decoupled weight decay instead of Adam's L2 term. */
  decoupled: boolean;
  /** The runs of elements to update (one per parameter tensor of the group). */
  segments: readonly AdamSegment[];
}

const THREADS = 256;

/**
 * Encodes one Adam (or AdamW, when `decoupled`) step over `segments` of the packed
 * buffers, in one dispatch.
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute pass; nothing is submitted.
 * @param buffers Parameters, gradients, moments (and `vMax` for amsgrad).
 * @param params Hyper-parameters (`step` counts from 1), the rule and the segments.
 * @returns Destroys this call's uniform and table buffers; call it after submitting
 *   `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adam } from "./adam.ts";
 * import { currentDevice, initGpu } from "./device.ts";
 * if (await initGpu()) {
 *   const device = currentDevice()!;
 *   const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
 *   const buf = (data: number[]) => {
 *     const b = device.createBuffer({ size: 8, usage });
 *     device.queue.writeBuffer(b, 0, new Float32Array(data));
 *     return b;
 *   };
 *   const param = buf([1, 2]), grad = buf([0.5, -0.5]), m = buf([0, 0]), v = buf([0, 0]);
 *   const read = device.createBuffer({ size: 8, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
 *   const encoder = device.createCommandEncoder();
 *   const release = adam(device, encoder, { param, grad, m, v }, {
 *     lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
 *     amsgrad: false, maximize: false, step: 1,
 *     decoupled: false, segments: [{ offset: 0, count: 2 }],
 *   });
 *   encoder.copyBufferToBuffer(param, 0, read, 0, 8);
 *   device.queue.submit([encoder.finish()]);
 *   release();
 *   await read.mapAsync(GPUMapMode.READ);
 *   const [p0, p1] = new Float32Array(read.getMappedRange());
 *   // the first step moves each element by lr against the sign of its gradient
 *   assert(Math.abs(p0 - 0.9) < 1e-6 && Math.abs(p1 - 2.1) < 1e-6);
 * }
 * ```
 */
export function adam(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  buffers: AdamBuffers,
  params: AdamParams,
): Release {
  const name = params.decoupled ? "adamw" : "adam";
  const { param, grad, m, v, vMax } = buffers;
  if (params.amsgrad && vMax === undefined) {
    throw new TypeError(`${name}: amsgrad needs buffers.vMax, a buffer like buffers.v`);
  }
  checkBindable(device, name, { param, grad, m, v, ...(vMax ? { vMax } : {}) });
  checkU32(name, "step", params.step);
  if (params.step < 1) throw new RangeError(`${name}: step counts from 1, got ${params.step}`);
  const scratch = new Scratch(device, name);
  const table: number[] = [];
  let total = 0;
  for (const [i, s] of params.segments.entries()) {
    checkU32(name, `segments[${i}].offset`, s.offset);
    checkU32(name, `segments[${i}].count`, s.count);
    const end = (s.offset + s.count) * 4;
    const all = [["param", param], ["grad", grad], ["m", m], ["v", v], ["vMax", vMax]] as const;
    for (const [label, b] of all) {
      if (b === undefined || (label === "vMax" && !params.amsgrad)) continue;
      if (end > b.size) {
        throw new RangeError(
          `${name}: segments[${i}] ends at byte ${end}, past the ${b.size} bytes of ${label}`,
        );
      }
    }
    if (s.count === 0) continue;
    table.push(s.offset, total);
    total += s.count;
  }
  checkU32(name, "total count", total);
  if (total === 0) return scratch.release();
  const { lr, beta1, beta2, eps, weightDecay, step } = params;
  const floats = [
    beta1,
    beta2,
    1 - beta1,
    1 - beta2,
    eps,
    weightDecay,
    lr / (1 - beta1 ** step),
    Math.sqrt(1 - beta2 ** step),
    1 - lr * weightDecay,
    params.maximize ? -1 : 1,
  ];
  const uniforms = scratch.uniform([total, table.length / 2], floats);
  const segments = scratch.table(table);
  const decay = params.decoupled ? "decoupled" : weightDecay !== 0 ? "l2" : "none";
  const key = `${name}|f32|${decay}|${params.amsgrad ? "amsgrad" : "plain"}`;
  const pipe = pipeline(device, key, () => adamSource(decay, params.amsgrad));
  const bound = [uniforms, segments, param, grad, m, v, ...(params.amsgrad ? [vMax!] : [])];
  scratch.pass(encoder, pipe, bound, foldGroups(Math.ceil(total / THREADS)));
  return scratch.release();
}

function adamSource(decay: "decoupled" | "l2" | "none", amsgrad: boolean): string {
  const top = amsgrad ? "let top = max(vMax[i], vi);\n    vMax[i] = top;" : "let top = vi;";
  const update = decay === "decoupled"
    ? "param[i] = param[i] * p.decay - p.stepSize * (mi / (sqrt(top) / p.bc2Sqrt + p.eps));"
    : "param[i] = param[i] - p.stepSize * (mi / (sqrt(top) / p.bc2Sqrt + p.eps));";
  return `struct P {
  total: u32, segments: u32,
  beta1: f32, beta2: f32, c1: f32, c2: f32, eps: f32, weightDecay: f32,
  stepSize: f32, bc2Sqrt: f32, decay: f32, sign: f32,
}
@group(0) @binding(0) var<uniform> p: P;
// per segment: its first element and the number of elements in the segments before it
@group(0) @binding(1) var<storage, read> table: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> m: array<f32>;
@group(0) @binding(5) var<storage, read_write> v: array<f32>;
${amsgrad ? "@group(0) @binding(6) var<storage, read_write> vMax: array<f32>;" : ""}

@compute @workgroup_size(${THREADS})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let j = gid.x + gid.y * nw.x * ${THREADS}u;
  if (j >= p.total) { return; }
  // the last segment that starts at or before j
  var lo = 0u;
  var hi = p.segments;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (table[mid].y <= j) { lo = mid; } else { hi = mid; }
  }
  let i = table[lo].x + (j - table[lo].y);
  ${
    decay === "l2"
      ? "let g = p.sign * grad[i] + p.weightDecay * param[i];"
      : "let g = p.sign * grad[i];"
  }
  let mi = p.beta1 * m[i] + p.c1 * g;
  let vi = p.beta2 * v[i] + p.c2 * g * g;
  m[i] = mi;
  v[i] = vi;
  ${top}
  ${update}
}
`;
}
