/**
 * Sweep of the WebGPU matmul's tile variants: each is first checked against the float64
 * CPU reference on exact, ragged, unaligned and transposed shapes, then timed on square
 * products, one line per result as it comes. Figures are medians of several submits,
 * each timed to `onSubmittedWorkDone`, with several products per submit.
 *
 * Run: deno run --allow-read bench/matmul_sweep.ts          (real GPU; about a minute)
 *      deno run --allow-read bench/matmul_sweep.ts --quick  (small tiles and sizes)
 */
import { matmulReference } from "../tensor/cpu/matmul.ts";
import { chooseTile, matmul, type MatmulParams, type MatmulTile } from "../tensor/webgpu/matmul.ts";
import { timeSubmits } from "./gpu_time.ts";

const quick = Deno.args.includes("--quick");
const text = new TextEncoder();
const started = Date.now();
function say(line: string): void {
  Deno.stdout.writeSync(text.encode(line + "\n"));
}

const adapter = await navigator.gpu?.requestAdapter({ powerPreference: "high-performance" });
if (!adapter) {
  say("no WebGPU adapter: nothing to measure");
  Deno.exit(0);
}
const device = await adapter.requestDevice({
  requiredLimits: {
    maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
    maxBufferSize: adapter.limits.maxBufferSize,
  },
});
say(`adapter: ${adapter.info.description || adapter.info.device} (${adapter.info.vendor})`);

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
function upload(data: Float32Array<ArrayBuffer>): GPUBuffer {
  const b = device.createBuffer({ size: Math.max(16, data.byteLength), usage: USAGE });
  device.queue.writeBuffer(b, 0, data);
  return b;
}
const noise = (n: number, seed: number) =>
  new Float32Array(n).map((_, i) => Math.sin((i + seed) * 12.9898) * 0.5);

/** One checked shape: sizes, offsets and whether A / B are stored transposed. */
interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
  off: number;
  aT?: boolean;
  bT?: boolean;
}
const s = (x: number) => quick ? Math.round(x / 4) : x;
const shapes: Shape[] = [
  { name: "exact", m: s(256), n: s(256), k: s(256), off: 0 },
  { name: "ragged", m: s(300) + 1, n: s(260) + 4, k: s(272) + 4, off: 4 },
  { name: "unaligned", m: s(257), n: s(259), k: s(263), off: 1 },
  { name: "transposed", m: s(264), n: s(260), k: s(140), off: 8, aT: true, bT: true },
];

function paramsOf(sh: Shape, tile?: MatmulTile): MatmulParams {
  const { m, n, k, off } = sh;
  return {
    m,
    n,
    k,
    a: { offset: off, rowStride: sh.aT ? 1 : k, colStride: sh.aT ? m : 1 },
    b: { offset: off, rowStride: sh.bT ? 1 : n, colStride: sh.bT ? k : 1 },
    outOffset: off,
    tile,
  };
}

interface Prepared {
  a: GPUBuffer;
  b: GPUBuffer;
  want: Float64Array;
}
const prepared = new Map<string, Prepared>();
function prepare(sh: Shape): Prepared {
  const got = prepared.get(sh.name);
  if (got) return got;
  const p = paramsOf(sh);
  const ad = noise(sh.off + sh.m * sh.k, 1), bd = noise(sh.off + sh.k * sh.n, 2);
  const want = new Float64Array(sh.m * sh.n);
  matmulReference(
    sh.m,
    sh.n,
    sh.k,
    { data: ad, offset: sh.off, rowStride: p.a.rowStride, colStride: p.a.colStride },
    { data: bd, offset: sh.off, rowStride: p.b.rowStride, colStride: p.b.colStride },
    want,
    0,
  );
  const made = { a: upload(ad), b: upload(bd), want };
  prepared.set(sh.name, made);
  return made;
}

/** Largest relative error of `tile` over the checked shapes, or a failure message. */
async function check(tile: MatmulTile): Promise<number> {
  let worst = 0;
  for (const sh of shapes) {
    const { a, b, want } = prepare(sh);
    const words = sh.off + want.length + 4;
    const out = upload(new Float32Array(words).fill(NaN));
    const read = device.createBuffer({
      size: words * 4,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    device.pushErrorScope("validation");
    const e = device.createCommandEncoder();
    const release = matmul(device, e, a, b, out, paramsOf(sh, tile));
    e.copyBufferToBuffer(out, 0, read, 0, words * 4);
    device.queue.submit([e.finish()]);
    release();
    const error = await device.popErrorScope();
    if (error) throw new Error(error.message);
    await read.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.destroy();
    out.destroy();
    for (let i = 0; i < want.length; i++) {
      const err = Math.abs(got[sh.off + i] - want[i]) / (1 + Math.abs(want[i]));
      worst = Number.isNaN(err) ? Infinity : Math.max(worst, err);
    }
    // nothing past C is written
    if (!Number.isNaN(got[sh.off + want.length]) || (sh.off > 0 && !Number.isNaN(got[0]))) {
      worst = Infinity;
    }
  }
  return worst;
}

const name = (t: MatmulTile) =>
  `${t.rows}x${t.cols}x${t.depth} s${t.stages ?? 2} band${t.band ?? 1}${
    t.wide === false ? " narrow" : ""
  }`;
const variants: MatmulTile[] = quick
  ? [
    { rows: 4, cols: 4, depth: 8 },
    { rows: 4, cols: 4, depth: 16, stages: 1, band: 3 },
    { rows: 4, cols: 4, depth: 16, stages: 1, wide: false },
  ]
  : [
    { rows: 8, cols: 8, depth: 16 },
    { rows: 8, cols: 8, depth: 8 },
    { rows: 4, cols: 8, depth: 16 },
    { rows: 8, cols: 4, depth: 16 },
    { rows: 8, cols: 8, depth: 16, band: 8 },
    { rows: 8, cols: 8, depth: 16, band: 4 },
    { rows: 8, cols: 8, depth: 16, band: 2 },
    { rows: 4, cols: 8, depth: 16, band: 8 },
    { rows: 8, cols: 8, depth: 32, stages: 1 },
    { rows: 8, cols: 8, depth: 16, stages: 1 },
    { rows: 4, cols: 4, depth: 16 },
    { rows: 8, cols: 8, depth: 16, wide: false },
    { rows: 8, cols: 8, depth: 16 },
  ];
const sizes = quick ? [64, 128] : [1024, 2048, 4096];
const inner = (n: number) => Math.min(100, Math.max(6, Math.round(1e11 / n ** 3)));
const RUNS = quick ? 3 : 5;

const big = new Map<number, [GPUBuffer, GPUBuffer, GPUBuffer]>();
for (const n of sizes) {
  big.set(n, [upload(noise(n * n, 3)), upload(noise(n * n, 4)), upload(new Float32Array(n * n))]);
}
const square = (n: number, tile?: MatmulTile, aT = false, bT = false): MatmulParams => ({
  m: n,
  n,
  k: n,
  a: { offset: 0, rowStride: aT ? 1 : n, colStride: aT ? n : 1 },
  b: { offset: 0, rowStride: bT ? 1 : n, colStride: bT ? n : 1 },
  tile,
});

const line = (what: string, n: number, sec: number) =>
  say(
    `${what.padEnd(36)} ${String(n).padStart(5)} ${(sec * 1e3).toFixed(3).padStart(9)} ms ${
      (2 * n ** 3 / sec / 1e12).toFixed(3).padStart(7)
    } TFLOP/s   [${((Date.now() - started) / 1e3).toFixed(0)} s]`,
  );
const fits = (t: MatmulTile) =>
  (t.stages ?? 2) * t.depth * 16 * (t.rows + t.cols) * 4 <=
    device.limits.maxComputeWorkgroupStorageSize;

// warm up: let the GPU reach its working clocks before the first figure
if (!quick) {
  const [a, b, c] = big.get(sizes[sizes.length - 1])!;
  const n = sizes[sizes.length - 1];
  await timeSubmits(device, (e) => matmul(device, e, a, b, c, square(n)), 20, 3);
}
// the device runs that take these figures are cut off after two minutes
const BUDGET_S = quick ? 1e9 : 100;
for (const tile of variants.filter(fits)) {
  if ((Date.now() - started) / 1e3 > BUDGET_S) {
    say(`${name(tile).padEnd(36)} skipped: out of time`);
    continue;
  }
  try {
    const err = await check(tile);
    const ok = err < 1e-4;
    say(
      `${name(tile).padEnd(36)} check ${ok ? "ok" : "WRONG"} (max rel error ${
        err.toExponential(1)
      })`,
    );
    if (!ok) continue;
    for (const n of sizes) {
      const [a, b, c] = big.get(n)!;
      line(
        name(tile),
        n,
        await timeSubmits(
          device,
          (e) => matmul(device, e, a, b, c, square(n, tile)),
          inner(n),
          RUNS,
        ),
      );
    }
  } catch (e) {
    say(`${name(tile).padEnd(36)} FAILED: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
  }
}
const n = sizes[sizes.length - 1];
const [a, b, c] = big.get(n)!;
for (
  const [what, aT, bT] of [["default A@B", false, false], ["default A^T@B", true, false], [
    "default A@B^T",
    false,
    true,
  ]] as const
) {
  say(`${what}: tile ${name(chooseTile(device, n, n, 1))}`);
  line(
    what,
    n,
    await timeSubmits(
      device,
      (e) => matmul(device, e, a, b, c, square(n, undefined, aT, bT)),
      inner(n),
      RUNS,
    ),
  );
}
say(`done in ${((Date.now() - started) / 1e3).toFixed(1)} s`);
