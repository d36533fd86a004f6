/**
 * Throughput of the WebGPU kernels, printed as a table one line at a time: GFLOP/s for
 * matmul (each tile first checked against the CPU), GB/s for elementwise add, reductions,
 * softmax, cross-entropy and the fused Adam step. Each figure is the median of several runs
 * after two seconds of warm-up, each run timed from submit to `onSubmittedWorkDone` over
 * enough dispatches per submit to dwarf Deno's ~11 ms completion polling.
 * `bench/matmul_sweep.ts` compares matmul tile shapes.
 *
 * Run: deno run bench/webgpu_report.ts            (real GPU; under 2 minutes on an H100)
 *      deno run bench/webgpu_report.ts --quick    (small sizes, for a software adapter)
 */
import { matmulReference } from "../tensor/cpu/matmul.ts";
import { adam } from "../tensor/webgpu/adam.ts";
import { chooseTile, matmul, type MatmulParams, type MatmulTile } from "../tensor/webgpu/matmul.ts";
import { reduce } from "../tensor/webgpu/reduce.ts";
import { crossEntropy, softmax } from "../tensor/webgpu/softmax.ts";
import { timeSubmits } from "./gpu_time.ts";

const quick = Deno.args.includes("--quick");
const started = performance.now();
const text = new TextEncoder();
function say(line: string): void {
  Deno.stdout.writeSync(text.encode(line + "\n"));
}

const adapter = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
if (!adapter) {
  say("no WebGPU adapter: nothing to measure");
  Deno.exit(0);
}
const lim = adapter.limits;
const device = await adapter.requestDevice({
  requiredLimits: {
    maxComputeWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingSize: lim.maxStorageBufferBindingSize,
    maxBufferSize: lim.maxBufferSize,
  },
});
const info = adapter.info;
say(`adapter: ${info.description || info.device} (vendor ${info.vendor}, ${info.architecture})`);
say(
  `limits: workgroup storage ${lim.maxComputeWorkgroupStorageSize} B, ` +
    `binding ${lim.maxStorageBufferBindingSize} B${quick ? "; --quick sizes" : ""}`,
);

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
const live: GPUBuffer[] = [];
function buffer(words: number, fill?: (i: number) => number): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(16, words * 4), usage: USAGE });
  if (fill) {
    const data = new Float32Array(words);
    for (let i = 0; i < words; i++) data[i] = fill(i);
    device.queue.writeBuffer(b, 0, data);
  }
  live.push(b);
  return b;
}
function freeAll(): void {
  for (const b of live.splice(0)) b.destroy();
}
const noise = (i: number) => Math.sin(i * 12.9898) * 0.5;

function row(what: string, seconds: number, rate: string): void {
  say(`${what.padEnd(52)} ${(seconds * 1e3).toFixed(3).padStart(10)} ms  ${rate}`);
}

async function guarded(what: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (e) {
    say(`${what.padEnd(52)} FAILED: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
  } finally {
    freeAll();
  }
}

function square(n: number, tile?: MatmulTile, aT = false, bT = false): MatmulParams {
  return {
    m: n,
    n,
    k: n,
    a: { offset: 0, rowStride: aT ? 1 : n, colStride: aT ? n : 1 },
    b: { offset: 0, rowStride: bT ? 1 : n, colStride: bT ? n : 1 },
    tile,
  };
}

/** Checks one matmul configuration against the float64 reference at size n. */
async function check(n: number, params: MatmulParams): Promise<string> {
  const ad = new Float32Array(n * n).map((_, i) => noise(i));
  const bd = new Float32Array(n * n).map((_, i) => noise(i + 7));
  const a = buffer(n * n), b = buffer(n * n), c = buffer(n * n, () => NaN);
  device.queue.writeBuffer(a, 0, ad);
  device.queue.writeBuffer(b, 0, bd);
  const read = device.createBuffer({
    size: n * n * 4,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const e = device.createCommandEncoder();
  const release = matmul(device, e, a, b, c, params);
  e.copyBufferToBuffer(c, 0, read, 0, n * n * 4);
  device.queue.submit([e.finish()]);
  release();
  await read.mapAsync(GPUMapMode.READ);
  const got = new Float32Array(read.getMappedRange().slice(0));
  read.destroy();
  const want = new Float64Array(n * n);
  const view = (data: Float32Array, rs: number, cs: number) => ({
    data,
    offset: 0,
    rowStride: rs,
    colStride: cs,
  });
  matmulReference(
    n,
    n,
    n,
    view(ad, params.a.rowStride, params.a.colStride),
    view(bd, params.b.rowStride, params.b.colStride),
    want,
    0,
  );
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
  }
  return worst < 1e-4 ? "ok" : `WRONG (max error ${worst.toExponential(2)})`;
}

const tileName = (t: MatmulTile) => `${t.rows}x${t.cols}x${t.depth}`;
const RUNS = quick ? 3 : 7;

// A GPU that idled clocks down: the first seconds of work ran 4096 matmuls at a fifth of the
// rate measured once warm, so every figure below follows two seconds of steady work.
await guarded("warm-up", async () => {
  const w = quick ? 256 : 4096;
  const a = buffer(w * w, noise), b = buffer(w * w, noise), c = buffer(w * w);
  const until = performance.now() + (quick ? 200 : 2000);
  while (performance.now() < until) {
    await timeSubmits(device, (e) => matmul(device, e, a, b, c, square(w)), quick ? 1 : 20, 1);
  }
});

say(
  "\n# matmul (float32, C = A @ B, square; checked against the CPU at " +
    `${quick ? 64 : 256} first)`,
);
const sizes = quick ? [64, 128, 256] : [256, 512, 1024, 2048, 4096];
for (const n of sizes) {
  await guarded(`matmul ${n}`, async () => {
    const tile = chooseTile(device, n, n, 1);
    const ok = await check(quick ? 64 : 256, square(quick ? 64 : 256, tile));
    freeAll();
    const a = buffer(n * n, noise), b = buffer(n * n, noise), c = buffer(n * n);
    const flop = 2 * n ** 3;
    const inner = Math.max(1, Math.min(200, Math.round(2e12 / flop)));
    const t = await timeSubmits(
      device,
      (e) => matmul(device, e, a, b, c, square(n, tile)),
      inner,
      RUNS,
    );
    row(
      `matmul ${n} (tile ${tileName(tile)}) [check ${ok}]`,
      t,
      `${(flop / t / 1e9).toFixed(1)} GFLOP/s`,
    );
  });
}

const big = sizes[sizes.length - 1];
const checkSize = quick ? 64 : 256;
for (const [aT, bT, name] of [[true, false, "A^T @ B"], [false, true, "A @ B^T"]] as const) {
  await guarded(`matmul ${big} ${name}`, async () => {
    const ok = await check(checkSize, square(checkSize, undefined, aT, bT));
    freeAll();
    const a = buffer(big * big, noise), b = buffer(big * big, noise), c = buffer(big * big);
    const flop = 2 * big ** 3;
    const inner = Math.max(1, Math.min(200, Math.round(2e12 / flop)));
    const t = await timeSubmits(
      device,
      (e) => matmul(device, e, a, b, c, square(big, undefined, aT, bT)),
      inner,
      RUNS,
    );
    row(`matmul ${big} ${name} [check ${ok}]`, t, `${(flop / t / 1e9).toFixed(1)} GFLOP/s`);
  });
}

say("\n# memory-bound kernels (GB/s counts each element read or written once)");
const n = quick ? 1 << 20 : 1 << 24;
const gbs = (bytes: number, t: number) => `${(bytes / t / 1e9).toFixed(1)} GB/s`;

await guarded("add", async () => {
  const module = device.createShaderModule({
    code: `@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = g.x + g.y * nw.x * 256u;
  if (i < arrayLength(&c)) { c[i] = a[i] + b[i]; }
}`,
  });
  const pipe = device.createComputePipeline({ layout: "auto", compute: { module } });
  const a = buffer(n, noise), b = buffer(n, noise), c = buffer(n);
  const group = device.createBindGroup({
    layout: pipe.getBindGroupLayout(0),
    entries: [a, b, c].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const groups = n / 4 / 256;
  const t = await timeSubmits(
    device,
    (e) => {
      const pass = e.beginComputePass();
      pass.setPipeline(pipe);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
      pass.end();
      return () => {};
    },
    20,
    RUNS,
  );
  row(`add, ${n} float32 (raw vec4 WGSL)`, t, gbs(12 * n, t));
});

await guarded("sum", async () => {
  const x = buffer(n, noise), out = buffer(4);
  const t = await timeSubmits(
    device,
    (e) =>
      reduce(device, e, x, out, {
        op: "sum",
        dtype: "float32",
        shape: [n],
        strides: [1],
        offset: 0,
        axes: [0],
      }),
    20,
    RUNS,
  );
  row(`sum of all ${n} float32 (two passes)`, t, gbs(4 * n, t));
});

await guarded("rows", async () => {
  const cols = 1024, rows = n / cols;
  const x = buffer(n, noise), out = buffer(rows);
  for (
    const [op, axes, shape] of [
      ["max", [1], "rows"],
      ["sum", [0], "columns"],
    ] as const
  ) {
    const t = await timeSubmits(
      device,
      (e) =>
        reduce(device, e, x, out, {
          op,
          dtype: "float32",
          shape: [rows, cols],
          strides: [cols, 1],
          offset: 0,
          axes,
        }),
      20,
      RUNS,
    );
    row(`${op} over ${shape} of [${rows}, ${cols}]`, t, gbs(4 * n, t));
  }
});

await guarded("softmax", async () => {
  for (const cols of [10, 1024]) {
    const rows = n / cols | 0;
    const x = buffer(rows * cols, noise), out = buffer(rows * cols);
    const t = await timeSubmits(
      device,
      (e) => softmax(device, e, x, out, { rows, cols, log: false }),
      20,
      RUNS,
    );
    row(`softmax [${rows}, ${cols}]`, t, gbs(8 * rows * cols, t));
    const labels = buffer(rows);
    device.queue.writeBuffer(labels, 0, new Int32Array(rows).map((_, i) => i % cols));
    const t2 = await timeSubmits(
      device,
      (e) => crossEntropy(device, e, x, labels, out, { rows, cols }),
      20,
      RUNS,
    );
    row(`crossEntropy [${rows}, ${cols}]`, t2, gbs(4 * rows * cols, t2));
    freeAll();
  }
});

await guarded("adam", async () => {
  const count = quick ? 100_000 : 10_000_000;
  const param = buffer(count, noise), grad = buffer(count, noise);
  const m = buffer(count), v = buffer(count);
  let step = 0;
  const t = await timeSubmits(
    device,
    (e) =>
      adam(device, e, { param, grad, m, v }, {
        lr: 1e-3,
        beta1: 0.9,
        beta2: 0.999,
        eps: 1e-8,
        weightDecay: 0,
        amsgrad: false,
        maximize: false,
        step: ++step,
        decoupled: false,
        segments: [{ offset: 0, count }],
      }),
    10,
    RUNS,
  );
  row(`adam step, ${count} float32 parameters`, t, gbs(28 * count, t));
});
say(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s`);
