/**
 * WebGPU kernels against the CPU in the same groups: matmul 256…4096 (CPU up to 1024),
 * elementwise add (a raw vec4 WGSL kernel), softmax over rows, and an Adam step on 10M
 * parameters. Every GPU iteration submits and awaits `onSubmittedWorkDone`, so it times
 * finished work; matmul encodes several products per submit to amortise that wait.
 * On a software adapter (llvmpipe) only the small sizes run: its matmul runs at under
 * 1 GFLOP/s. For a table of GFLOP/s and GB/s, run bench/webgpu_report.ts.
 * Run: deno bench bench/webgpu_bench.ts
 */
import { adamUpdate } from "../optim/update.ts";
import { matmulKernel, type MatrixView } from "../tensor/cpu/matmul.ts";
import { softmaxRows } from "../tensor/cpu/softmax.ts";
import { adam } from "../tensor/webgpu/adam.ts";
import { matmul } from "../tensor/webgpu/matmul.ts";
import type { Release } from "../tensor/webgpu/scratch.ts";
import { softmax } from "../tensor/webgpu/softmax.ts";

const adapter = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
const device = adapter
  ? await adapter.requestDevice({
    requiredLimits: {
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
    },
  })
  : null;
const software = adapter?.info.isFallbackAdapter ?? true;
if (!device) console.log("webgpu_bench: no WebGPU adapter, only the CPU benches run");

function random(len: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

function gpuBuffer(dev: GPUDevice, data: Float32Array<ArrayBuffer>): GPUBuffer {
  const b = dev.createBuffer({
    size: data.byteLength,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST,
  });
  dev.queue.writeBuffer(b, 0, data);
  return b;
}

/** Encodes `work` `times` times, submits, and waits for the GPU to finish. */
async function submit(
  dev: GPUDevice,
  times: number,
  work: (e: GPUCommandEncoder) => Release,
): Promise<void> {
  const e = dev.createCommandEncoder();
  const releases: Release[] = [];
  for (let i = 0; i < times; i++) releases.push(work(e));
  dev.queue.submit([e.finish()]);
  for (const r of releases) r();
  await dev.queue.onSubmittedWorkDone();
}

const view = (data: Float32Array, n: number): MatrixView => ({
  data,
  offset: 0,
  rowStride: n,
  colStride: 1,
});

for (const n of [256, 512, 1024, 2048, 4096]) {
  const group = `matmul ${n} (2n^3 flop per product)`;
  const a = random(n * n, 1), b = random(n * n, 2);
  const cpu = n <= 1024;
  if (cpu) {
    const c = new Float32Array(n * n);
    Deno.bench({ name: `cpu matmul ${n}`, group, baseline: true }, () => {
      matmulKernel(n, n, n, view(a, n), view(b, n), c, 0);
    });
  }
  if (device && (!software || n <= 256)) {
    const dev = device;
    const ga = gpuBuffer(dev, a), gb = gpuBuffer(dev, b);
    const gc = gpuBuffer(dev, new Float32Array(n * n));
    const per = software ? 1 : Math.max(1, Math.round(2 ** 33 / n ** 3)); // products per submit
    const params = {
      m: n,
      n,
      k: n,
      a: { offset: 0, rowStride: n, colStride: 1 },
      b: { offset: 0, rowStride: n, colStride: 1 },
    };
    Deno.bench({
      name: `gpu matmul ${n} x${per} per submit (time / ${per} = one product)`,
      group,
      baseline: !cpu,
      n: n >= 2048 ? 10 : undefined,
    }, async () => {
      await submit(dev, per, (e) => matmul(dev, e, ga, gb, gc, params));
    });
  }
}

{
  const n = 1 << 22;
  const group = "elementwise add, 4M float32 (12n bytes)";
  const a = random(n, 3), b = random(n, 4), c = new Float32Array(n);
  Deno.bench({ name: "cpu loop c = a + b", group, baseline: true }, () => {
    for (let i = 0; i < n; i++) c[i] = a[i] + b[i];
  });
  if (device) {
    const dev = device;
    const module = dev.createShaderModule({
      code: `@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  if (g.x < arrayLength(&c)) { c[g.x] = a[g.x] + b[g.x]; }
}`,
    });
    const pipe = dev.createComputePipeline({ layout: "auto", compute: { module } });
    const group0 = dev.createBindGroup({
      layout: pipe.getBindGroupLayout(0),
      entries: [gpuBuffer(dev, a), gpuBuffer(dev, b), gpuBuffer(dev, c)].map((buffer, i) => ({
        binding: i,
        resource: { buffer },
      })),
    });
    Deno.bench({ name: "gpu c = a + b (raw WGSL)", group }, async () => {
      await submit(dev, 1, (e) => {
        const pass = e.beginComputePass();
        pass.setPipeline(pipe);
        pass.setBindGroup(0, group0);
        pass.dispatchWorkgroups(n / 4 / 256);
        pass.end();
        return () => {};
      });
    });
  }
}

{
  const rows = 4096, cols = 1024;
  const group = `softmax [${rows}, ${cols}]`;
  const x = random(rows * cols, 5), out = new Float32Array(rows * cols);
  Deno.bench({ name: "cpu softmaxRows", group, baseline: true }, () => {
    softmaxRows(x, 0, out, rows, cols, false);
  });
  if (device) {
    const dev = device;
    const gx = gpuBuffer(dev, x), gout = gpuBuffer(dev, out);
    Deno.bench({ name: "gpu softmax", group }, async () => {
      await submit(dev, 1, (e) => softmax(dev, e, gx, gout, { rows, cols, log: false }));
    });
  }
}

{
  const n = 10_000_000;
  const group = "Adam step, 10M float32 parameters (28n bytes)";
  const p = random(n, 6), g = random(n, 7).map((v) => v * 0.01);
  const state = { m: new Float32Array(n), v: new Float32Array(n) };
  const hyper = {
    lr: 1e-3,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
    step: 0,
  };
  Deno.bench({ name: "cpu adamUpdate", group, baseline: true, n: 10 }, () => {
    hyper.step++;
    adamUpdate(p, g, state, hyper, 0, n);
  });
  if (device) {
    const dev = device;
    const buffers = {
      param: gpuBuffer(dev, p),
      grad: gpuBuffer(dev, g),
      m: gpuBuffer(dev, state.m),
      v: gpuBuffer(dev, state.v),
    };
    let step = 0;
    Deno.bench({ name: "gpu adam (one dispatch)", group, n: 10 }, async () => {
      step++;
      await submit(dev, 1, (e) =>
        adam(dev, e, buffers, {
          ...hyper,
          step,
          decoupled: false,
          segments: [{ offset: 0, count: n }],
        }));
    });
  }
}
