import assert from "node:assert/strict";
import { matmulReference } from "../../../tensor/cpu/matmul.ts";
import { matmul, type MatmulParams, type MatmulTile } from "../../../tensor/webgpu/matmul.ts";
import { device, maxError, poisoned, randoms, run, skipped, upload } from "./gpu.ts";

interface Case {
  name: string;
  m: number;
  n: number;
  k: number;
  batch?: number[];
  /** A stored as its transpose ([k, m] row-major). */
  aT?: boolean;
  /** B stored as its transpose ([n, k] row-major). */
  bT?: boolean;
  /** Batch dimensions of A or B broadcast (stride 0). */
  aBroadcast?: boolean[];
  bBroadcast?: boolean[];
  tile?: MatmulTile;
  /** Offsets multiples of 4, so that 16-byte accesses are allowed. */
  aligned?: boolean;
}

/** Runs one case on the GPU and compares it with the float64 reference loop. */
async function check(dev: GPUDevice, c: Case): Promise<void> {
  const batch = c.batch ?? [];
  const { m, n, k } = c;
  const stridesOf = (size: number, bc: boolean[] | undefined) => {
    const s: number[] = [];
    let stride = size;
    for (let d = batch.length - 1; d >= 0; d--) {
      s[d] = bc?.[d] ? 0 : stride;
      if (!bc?.[d]) stride *= batch[d];
    }
    return { strides: s, total: stride };
  };
  const sa = stridesOf(m * k, c.aBroadcast), sb = stridesOf(k * n, c.bBroadcast);
  // odd offsets unless aligned: no alignment assumed
  const [aOff, bOff, outOff] = c.aligned ? [4, 8, 4] : [3, 5, 2];
  const aData = randoms(aOff + sa.total, 1 + m), bData = randoms(bOff + sb.total, 2 + n);
  const count = batch.reduce((x, y) => x * y, 1);
  const params: MatmulParams = {
    m,
    n,
    k,
    batch,
    a: {
      offset: aOff,
      rowStride: c.aT ? 1 : k,
      colStride: c.aT ? m : 1,
      batchStrides: sa.strides,
    },
    b: {
      offset: bOff,
      rowStride: c.bT ? 1 : n,
      colStride: c.bT ? k : 1,
      batchStrides: sb.strides,
    },
    outOffset: outOff,
    tile: c.tile,
  };
  const want = new Float32Array(outOff + count * m * n).fill(NaN);
  for (let z = 0; z < count; z++) {
    let rest = z, ao = aOff, bo = bOff;
    for (let d = batch.length - 1; d >= 0; d--) {
      const i = rest % batch[d];
      rest = Math.floor(rest / batch[d]);
      ao += i * sa.strides[d];
      bo += i * sb.strides[d];
    }
    matmulReference(
      m,
      n,
      k,
      { data: aData, offset: ao, rowStride: params.a.rowStride, colStride: params.a.colStride },
      { data: bData, offset: bo, rowStride: params.b.rowStride, colStride: params.b.colStride },
      want,
      outOff + z * m * n,
    );
  }
  const a = upload(dev, aData), b = upload(dev, bData);
  const out = poisoned(dev, want.length + 3);
  const bytes = await run(dev, out, (e) => matmul(dev, e, a, b, out, params));
  const got = new Float32Array(bytes, 0, want.length + 3);
  assert(maxError(got.subarray(0, want.length), want) < 1e-5, `${c.name}: values differ`);
  // nothing outside C is written: the poison before and after it survives
  for (const i of [0, 1, want.length, want.length + 1]) assert(Number.isNaN(got[i]), c.name);
  for (const x of [a, b, out]) x.destroy();
}

const cases: Case[] = [
  { name: "1x1x1", m: 1, n: 1, k: 1 },
  { name: "ragged 37x29x45", m: 37, n: 29, k: 45 },
  // the tile real GPUs use; a software adapter defaults to a smaller one (see chooseTile)
  { name: "ragged, big tile", m: 131, n: 133, k: 19, tile: { rows: 8, cols: 8, depth: 8 } },
  { name: "A transposed (A^T @ G)", m: 33, n: 21, k: 50, aT: true },
  { name: "B transposed (G @ B^T)", m: 21, n: 35, k: 50, bT: true },
  { name: "both transposed", m: 70, n: 66, k: 9, aT: true, bT: true },
  { name: "batched", m: 9, n: 11, k: 13, batch: [3] },
  {
    name: "two batch dims, A broadcast",
    m: 7,
    n: 6,
    k: 5,
    batch: [2, 3],
    aBroadcast: [
      false,
      true,
    ],
  },
  { name: "batch of B broadcast", m: 17, n: 5, k: 3, batch: [4], bBroadcast: [true] },
  { name: "k = 0 gives zeros", m: 5, n: 6, k: 0 },
  // 16-byte loads and stores; multiples of the tile drop the bounds checks
  {
    name: "exact sizes, vec4 access, bands of 2",
    m: 128,
    n: 64,
    k: 32,
    aligned: true,
    tile: { rows: 4, cols: 4, depth: 16, stages: 1, band: 2 },
  },
  {
    name: "ragged, vec4 access, a band taller than the tiles left",
    m: 70,
    n: 36,
    k: 20,
    aligned: true,
    tile: { rows: 4, cols: 4, depth: 16, stages: 1, band: 3 },
  },
  {
    name: "transposed, vec4 access along rows and columns, batched",
    m: 68,
    n: 40,
    k: 24,
    batch: [2],
    aT: true,
    bT: true,
    aligned: true,
    tile: { rows: 4, cols: 4, depth: 16, stages: 1 },
  },
];

Deno.test("webgpu matmul() matches the reference on ragged, transposed and batched shapes", async () => {
  if (skipped("webgpu matmul")) return;
  for (const c of cases) await check(device!, c);
});

Deno.test("webgpu matmul() writes nothing for empty results", async () => {
  if (skipped("webgpu matmul empty")) return;
  const dev = device!;
  const a = upload(dev, new Float32Array(4)), out = poisoned(dev, 4);
  for (const [m, n, batch] of [[0, 3, []], [3, 0, []], [2, 2, [0]]] as const) {
    const bytes = await run(dev, out, (e) =>
      matmul(dev, e, a, a, out, {
        m,
        n,
        k: 2,
        batch,
        a: { offset: 0, rowStride: 2, colStride: 1 },
        b: { offset: 0, rowStride: n, colStride: 1 },
      }));
    assert(new Float32Array(bytes).every(Number.isNaN));
  }
});

Deno.test("webgpu matmul() rejects bad layouts with the option's name", () => {
  if (skipped("webgpu matmul errors")) return;
  const dev = device!;
  const a = upload(dev, new Float32Array(4));
  const encoder = dev.createCommandEncoder();
  const base = {
    m: 2,
    n: 2,
    k: 2,
    a: { offset: 0, rowStride: 2, colStride: 1 },
    b: { offset: 0, rowStride: 2, colStride: 1 },
  };
  assert.throws(
    () => matmul(dev, encoder, a, a, a, { ...base, a: { ...base.a, rowStride: -2 } }),
    { name: "RangeError", message: "matmul: a.rowStride must be an integer in [0, 2^32), got -2" },
  );
  assert.throws(
    () =>
      matmul(dev, encoder, a, a, a, { ...base, batch: [2], b: { ...base.b, batchStrides: [] } }),
    { name: "RangeError", message: "matmul: b.batchStrides has 0 entries, batch has 1" },
  );
  assert.throws(
    () =>
      matmul(dev, encoder, a, a, a, {
        ...base,
        m: 3,
        k: 3,
        a: { offset: 0, rowStride: 3, colStride: 1 },
      }),
    { name: "RangeError", message: "matmul: a needs element 8, but its buffer holds 4" },
  );
  assert.throws(
    () => matmul(dev, encoder, a, a, a, { ...base, tile: { rows: 4, cols: 4, depth: 8, band: 0 } }),
    { name: "RangeError", message: "matmul: tile.band must be an integer in [1, 64], got 0" },
  );
  const limit = dev.limits.maxComputeWorkgroupStorageSize;
  assert.throws(
    () => matmul(dev, encoder, a, a, a, { ...base, tile: { rows: 8, cols: 8, depth: 32 } }),
    {
      name: "RangeError",
      message: `matmul: tile 8x8x32 needs 65536 bytes of workgroup memory, over this ` +
        `device's ${limit}`,
    },
  );
});
