/**
 * Layout kernels of convolution and max pooling in WGSL, mirroring tensor/cpu/conv.ts:
 * im2col and its adjoint col2im (so conv2d is im2col, then the tiled matmul), max pooling
 * with its argmax positions, and the scatter and gather of its backward. Every adjoint is
 * written as a gather (each output element sums what points at it), so no float atomics
 * are needed and results are deterministic.
 *
 * Metadata words: n, then the window's 14 integers (n, c, h, w, kh, kw, sh, sw, ph, pw,
 * dh, dw, oh, ow) at 1…14, then the kernel's offsets and strides.
 * @module
 */

import type { Window2d } from "../cpu/conv.ts";
import { dispatch, groupsFor } from "./commands.ts";
import { gpuDevice } from "./device.ts";
import type { GpuOperand } from "./elementwise.ts";
import { pipeline } from "./pipelines.ts";

const WINDOW = `
  let N = i32(M[1]); let C = i32(M[2]); let H = i32(M[3]); let W = i32(M[4]);
  let KH = i32(M[5]); let KW = i32(M[6]); let SH = i32(M[7]); let SW = i32(M[8]);
  let PH = i32(M[9]); let PW = i32(M[10]); let DH = i32(M[11]); let DW = i32(M[12]);
  let OH = i32(M[13]); let OW = i32(M[14]);`;

function source(inputs: string[], body: string): string {
  return [
    "@group(0) @binding(0) var<storage, read> M: array<u32>;",
    "@group(0) @binding(1) var<storage, read_write> O: array<f32>;",
    ...inputs.map((decl, k) => {
      const access = decl.startsWith("I: array<i32>") && decl.endsWith("rw")
        ? "read_write"
        : "read";
      return `@group(0) @binding(${k + 2}) var<storage, ${access}> ${decl.replace(" rw", "")};`;
    }),
    "@compute @workgroup_size(256)",
    "fn main(@builtin(global_invocation_id) g: vec3<u32>, " +
    "@builtin(num_workgroups) nw: vec3<u32>) {",
    "  let u = g.x + g.y * nw.x * 256u;",
    "  if (u >= M[0]) { return; }",
    "  let i = i32(u);",
    WINDOW,
    body,
    "}",
  ].join("\n");
}

function words(n: number, g: Window2d, rest: readonly number[]): Uint32Array {
  const { c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow } = g;
  return new Uint32Array([n, g.n, c, h, w, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, ...rest]);
}

function run(
  kernel: string,
  body: () => string,
  inputs: string[],
  n: number,
  meta: Uint32Array,
  buffers: GPUBuffer[],
): void {
  if (n === 0) return;
  const pipe = pipeline(gpuDevice(kernel), kernel, () => source(inputs, body()));
  dispatch(kernel, pipe, meta, buffers, groupsFor(n));
}

/** `out[n, (c, ki, kj), (oy, ox)]` = the input tap, or 0 in the padding. Words: x offset, strides. */
export function im2col(x: GpuOperand, g: Window2d, out: GPUBuffer): void {
  const total = g.n * g.c * g.kh * g.kw * g.oh * g.ow;
  run(
    "im2col",
    () => `
  let L = OH * OW; let R = C * KH * KW;
  let l = i % L; let row = (i / L) % R; let b = i / (L * R);
  let ci = row / (KH * KW); let ki = (row / KW) % KH; let kj = row % KW;
  let y = (l / OW) * SH - PH + ki * DH; let x = (l % OW) * SW - PW + kj * DW;
  if (y < 0 || y >= H || x < 0 || x >= W) { O[u] = 0.0; return; }
  O[u] = X[M[15] + u32(b) * M[16] + u32(ci) * M[17] + u32(y) * M[18] + u32(x) * M[19]];`,
    ["X: array<f32>"],
    total,
    words(total, g, [x.offset, ...x.strides]),
    [out, x.buffer],
  );
}

/** `out[n, c, y, x]` = the sum of the column entries that read it. Words: cols offset, strides. */
export function col2im(cols: GpuOperand, g: Window2d, out: GPUBuffer): void {
  const total = g.n * g.c * g.h * g.w;
  run(
    "col2im",
    () => `
  let x = i % W; let y = (i / W) % H; let ci = (i / (W * H)) % C; let b = i / (W * H * C);
  var acc = 0.0;
  for (var ki = 0; ki < KH; ki++) {
    let ty = y + PH - ki * DH;
    if (ty < 0 || ty % SH != 0 || ty / SH >= OH) { continue; }
    for (var kj = 0; kj < KW; kj++) {
      let tx = x + PW - kj * DW;
      if (tx < 0 || tx % SW != 0 || tx / SW >= OW) { continue; }
      let row = (ci * KH + ki) * KW + kj; let l = (ty / SH) * OW + tx / SW;
      acc += S[M[15] + u32(b) * M[16] + u32(row) * M[17] + u32(l) * M[18]];
    }
  }
  O[u] = acc;`,
    ["S: array<f32>"],
    total,
    words(total, g, [cols.offset, ...cols.strides]),
    [out, cols.buffer],
  );
}

/**
 * Max over each window into `out`, and the winner's position in its input plane (y·w + x)
 * into `index` (-1 for a window with no input cell); NaN wins, as on the CPU.
 */
export function maxPool(x: GpuOperand, g: Window2d, out: GPUBuffer, index: GPUBuffer): void {
  const total = g.n * g.c * g.oh * g.ow;
  run(
    "maxPool2d",
    () => `
  let ox = i % OW; let oy = (i / OW) % OH; let ci = (i / (OW * OH)) % C; let b = i / (OW * OH * C);
  let base = M[15] + u32(b) * M[16] + u32(ci) * M[17];
  var best = 0.0; var arg = -1;
  for (var ki = 0; ki < KH; ki++) {
    let y = oy * SH - PH + ki * DH;
    if (y < 0 || y >= H) { continue; }
    for (var kj = 0; kj < KW; kj++) {
      let x = ox * SW - PW + kj * DW;
      if (x < 0 || x >= W) { continue; }
      let v = X[base + u32(y) * M[18] + u32(x) * M[19]];
      if (arg < 0 || v > best || v != v) { best = v; arg = y * W + x; }
    }
  }
  O[u] = select(best, bitcast<f32>(0xff800000u), arg < 0);
  I[u] = arg;`,
    ["X: array<f32>", "I: array<i32> rw"],
    total,
    words(total, g, [x.offset, ...x.strides]),
    [out, x.buffer, index],
  );
}

/** The backward of max pooling: each input cell sums the gradients of the windows it won. */
export function maxScatter(grad: GPUBuffer, index: GPUBuffer, g: Window2d, out: GPUBuffer): void {
  const total = g.n * g.c * g.h * g.w;
  run(
    "maxPool2dBackward",
    () => `
  let x = i % W; let y = (i / W) % H; let plane = i / (W * H); let at = y * W + x;
  var acc = 0.0;
  for (var ki = 0; ki < KH; ki++) {
    let ty = y + PH - ki * DH;
    if (ty < 0 || ty % SH != 0 || ty / SH >= OH) { continue; }
    for (var kj = 0; kj < KW; kj++) {
      let tx = x + PW - kj * DW;
      if (tx < 0 || tx % SW != 0 || tx / SW >= OW) { continue; }
      let o = u32(plane * OH * OW + (ty / SH) * OW + tx / SW);
      if (I[o] == at) { acc += G[o]; }
    }
  }
  O[u] = acc;`,
    ["G: array<f32>", "I: array<i32>"],
    total,
    words(total, g, []),
    [out, grad, index],
  );
}

/** `out[p, o] = src[p, index[p, o]]` per plane p: the adjoint of `maxScatter`. */
export function maxGather(src: GPUBuffer, index: GPUBuffer, g: Window2d, out: GPUBuffer): void {
  const total = g.n * g.c * g.oh * g.ow;
  run(
    "maxPool2dGather",
    () => `
  let plane = i / (OW * OH); let at = I[u];
  O[u] = select(S[u32(plane * H * W + at)], 0.0, at < 0);`,
    ["S: array<f32>", "I: array<i32>"],
    total,
    words(total, g, []),
    [out, src, index],
  );
}

/** Average over each window (dilation 1) into `out`; word 15 says whether padding counts. */
export function avgPool(x: GpuOperand, g: Window2d, includePad: boolean, out: GPUBuffer): void {
  const total = g.n * g.c * g.oh * g.ow;
  run(
    "avgPool2d",
    () => `
  let ox = i % OW; let oy = (i / OW) % OH; let ci = (i / (OW * OH)) % C; let b = i / (OW * OH * C);
  let r0 = oy * SH - PH; let r1 = min(r0 + KH, H + PH); let rLo = max(r0, 0); let rHi = min(r1, H);
  let c0 = ox * SW - PW; let c1 = min(c0 + KW, W + PW); let cLo = max(c0, 0); let cHi = min(c1, W);
  if (rLo >= rHi || cLo >= cHi) { O[u] = 0.0; return; }
  let base = M[16] + u32(b) * M[17] + u32(ci) * M[18];
  var s = 0.0;
  for (var y = rLo; y < rHi; y++) {
    for (var x = cLo; x < cHi; x++) { s += X[base + u32(y) * M[19] + u32(x) * M[20]]; }
  }
  let count = select((rHi - rLo) * (cHi - cLo), (r1 - r0) * (c1 - c0), M[15] == 1u);
  O[u] = s / f32(count);`,
    ["X: array<f32>"],
    total,
    words(total, g, [includePad ? 1 : 0, x.offset, ...x.strides]),
    [out, x.buffer],
  );
}

/** The adjoint of `avgPool`: each input cell sums its windows' gradients over their divisors. */
export function avgSpread(grad: GPUBuffer, g: Window2d, includePad: boolean, out: GPUBuffer): void {
  const total = g.n * g.c * g.h * g.w;
  run(
    "avgPool2dBackward",
    () => `
  let x = i % W; let y = (i / W) % H; let plane = i / (W * H);
  var acc = 0.0;
  // the windows whose rows and columns cover (y, x)
  for (var oy = max(0, (y + PH - KH) / SH); oy < OH; oy++) {
    let r0 = oy * SH - PH; let r1 = min(r0 + KH, H + PH);
    if (r0 > y) { break; }
    let rLo = max(r0, 0); let rHi = min(r1, H);
    if (y >= rHi) { continue; }
    for (var ox = max(0, (x + PW - KW) / SW); ox < OW; ox++) {
      let c0 = ox * SW - PW; let c1 = min(c0 + KW, W + PW);
      if (c0 > x) { break; }
      let cLo = max(c0, 0); let cHi = min(c1, W);
      if (x >= cHi) { continue; }
      let count = select((rHi - rLo) * (cHi - cLo), (r1 - r0) * (c1 - c0), M[15] == 1u);
      acc += G[u32(plane * OH * OW + oy * OW + ox)] / f32(count);
    }
  }
  O[u] = acc;`,
    ["G: array<f32>"],
    total,
    words(total, g, [includePad ? 1 : 0]),
    [out, grad],
  );
}
