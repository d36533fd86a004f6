import assert from "node:assert/strict";
import { manualSeed, randn, Storage, Tensor, tidy } from "../../mod.ts";
import { matmulKernel, setMatmulExecutor } from "../../tensor/cpu/matmul.ts";
import { acquire, release } from "../../tensor/pool.ts";
import { ParallelMatmul } from "../../parallel/mod.ts";
import { rejectsWith } from "./assert_error.ts";

Deno.test("ParallelMatmul gives the single-thread result on every shape and stride", async () => {
  manualSeed(1);
  const cases = [
    [randn([37, 19]), randn([19, 23])], // ragged row blocks
    [randn([19, 64]).T, randn([40, 19]).T], // transposed operands
    [randn([3, 16, 8]), randn([8, 12])], // batched: one product per batch entry
    [randn([64, 64]), randn([64, 64])],
  ];
  const expected = cases.map(([a, b]) => a.matmul(b).toArray());
  await using pm = await ParallelMatmul.create({ workers: 2, threshold: 1 });
  assert.equal(pm.threads, 3);
  cases.forEach(([a, b], i) => assert.deepEqual(a.matmul(b).toArray(), expected[i], `case ${i}`));
  assert.equal(pm.products, 6);
  // the batched case's [8, 12] operand (384 bytes) is below the heap's 1 KiB minimum
  assert.equal(pm.productsInHeap, 3, "heap operands are read where they lie");
  // gradients flow through the same kernel
  const w = randn([48, 40], { requiresGrad: true });
  w.matmul(randn([40, 30])).sum().backward();
  assert.equal(w.grad!.shape.join(), "48,40");
});

Deno.test("ParallelMatmul copies operands that lie outside the heap, with the same result", async () => {
  manualSeed(3);
  const outside = (t: Tensor) => new Tensor(new Storage(t.toArray(), false), t.shape);
  const a = outside(randn([50, 30])), b = outside(randn([30, 20]));
  const expected = a.matmul(b).toArray();
  await using pm = await ParallelMatmul.create({ workers: 2, threshold: 1 });
  assert.deepEqual(a.matmul(b).toArray(), expected);
  assert.equal(pm.products, 1);
  assert.equal(pm.productsInHeap, 0);
});

Deno.test("ParallelMatmul leaves small and float64 products on one thread", async () => {
  manualSeed(2);
  await using pm = await ParallelMatmul.create({ workers: 1, threshold: 64 * 64 * 64 });
  randn([16, 16]).matmul(randn([16, 16]));
  randn([64, 64], { dtype: "float64" }).matmul(randn([64, 64], { dtype: "float64" }));
  assert.equal(pm.products, 0);
  randn([64, 64]).matmul(randn([64, 64]));
  assert.equal(pm.products, 1);
  pm.close();
  randn([64, 64]).matmul(randn([64, 64])); // unregistered: back on one thread
  assert.equal(pm.products, 1);
});

Deno.test("ParallelMatmul leaves copies larger than its scratch on one thread, not heap products", async () => {
  manualSeed(4);
  const outside = (t: Tensor) => new Tensor(new Storage(t.toArray(), false), t.shape);
  const a = outside(randn([64, 64])), b = outside(randn([64, 64])); // 16 KiB each
  const expected = a.matmul(b).toArray();
  await using pm = await ParallelMatmul.create({ workers: 1, threshold: 1, maxBytes: 4096 });
  assert.deepEqual(a.matmul(b).toArray(), expected);
  assert.equal(pm.products, 0);
  // operands in the heap need no scratch, so the same size goes parallel
  const [c, d] = [randn([64, 64]), randn([64, 64])];
  const want = tidy(() => {
    const saved = setMatmulExecutor(null);
    const r = c.matmul(d).toArray();
    setMatmulExecutor(saved);
    return r;
  });
  assert.deepEqual(c.matmul(d).toArray(), want);
  assert.equal(pm.productsInHeap, 1);
});

Deno.test("ParallelMatmul copies a heap product whose result overlaps an operand", async () => {
  // B (64 x 300) at 0 and A (64 x 300) after it, the result written over B: the workers
  // would read rows of B that the main thread's rows had already overwritten
  const buf = acquire("float32", 40000) as Float32Array;
  for (let i = 0; i < buf.length; i++) buf[i] = Math.sin(i);
  const a = { data: buf, offset: 19200, rowStride: 300, colStride: 1 };
  const b = { data: buf, offset: 0, rowStride: 1, colStride: 300 }; // B^T's rows: k x n
  const want = new Float32Array(64 * 64);
  matmulKernel(64, 64, 300, a, b, want, 0);
  await using pm = await ParallelMatmul.create({ workers: 1, threshold: 1 });
  matmulKernel(64, 64, 300, a, b, buf, 0);
  assert.equal(pm.products, 1, "the product went parallel");
  assert.equal(pm.productsInHeap, 0, "through scratch copies, not in place");
  assert.deepEqual(buf.subarray(0, 64 * 64), want);
  release(buf);
});

Deno.test("ParallelMatmul rejects bad options", async () => {
  await rejectsWith(
    () => ParallelMatmul.create({ threshold: 0 }),
    RangeError,
    "ParallelMatmul: threshold must be a number >= 1, got 0",
  );
  await rejectsWith(
    () => ParallelMatmul.create({ maxBytes: 2 }),
    RangeError,
    "ParallelMatmul: maxBytes must be an integer >= 4, got 2",
  );
  await rejectsWith(
    () => ParallelMatmul.create({ workers: 0 }),
    RangeError,
    "WorkerPool: workers must be a positive integer, got 0",
  );
});
