/**
 * The WebAssembly heap behind the pool's large float buffers: what goes there, reuse,
 * the fallback once it is full, and buffers dropped without `dispose()`.
 */
import assert from "node:assert/strict";
import { memory, randn, tensor, zeros } from "../../mod.ts";
import { heapAddress, heapBytes, setHeapLimit } from "../../tensor/heap.ts";

Deno.test("buffers of 1 KiB or more live in the heap, smaller ones do not", () => {
  const big = zeros([1024]), big64 = zeros([512], { dtype: "float64" });
  const small = zeros([16]), labels = zeros([1024], { dtype: "int32" });
  assert.ok(heapAddress(big.data) >= 0 && heapAddress(big64.data) >= 0);
  assert.ok(heapAddress(labels.data) >= 0);
  assert.equal(heapAddress(small.data), -1);
  assert.ok(memory().heapBytes >= 4096 + 4096);
  for (const t of [big, big64, small, labels]) t.dispose();
});

Deno.test("a disposed heap buffer is handed out again at the same address", () => {
  const a = zeros([3000]);
  const address = heapAddress(a.data);
  a.dispose();
  const before = memory();
  const b = zeros([3001]); // the same 16 KiB size class
  assert.equal(heapAddress(b.data), address);
  assert.equal(memory().freshBytes, before.freshBytes);
  b.dispose();
});

Deno.test("once the heap is full, buffers come from plain memory and still compute", () => {
  const previous = setHeapLimit(heapBytes());
  try {
    // a size class nothing else in this process uses, so no free heap block fits
    const a = randn([123457]), b = randn([123457]);
    assert.equal(heapAddress(a.data), -1);
    const c = a.mul(b).add(a);
    const [x, y, z] = [a.toArray(), b.toArray(), c.toArray()];
    for (let i = 0; i < x.length; i += 997) assert.equal(z[i], Math.fround(x[i] * y[i] + x[i]));
  } finally {
    setHeapLimit(previous);
  }
});

Deno.test("a full heap sends matmul to the TypeScript kernel, and back once it has room", () => {
  const a = randn([61, 47]), b = randn([47, 53]);
  const want = a.matmul(b).toArray();
  const previous = setHeapLimit(heapBytes());
  try {
    // a product whose scratch (its 9 MB result) outgrows any scratch held so far
    const x = randn([1500, 8]), y = randn([8, 1500]);
    const got = x.matmul(y).toArray(), [xs, ys] = [x.toArray(), y.toArray()];
    for (const [i, j] of [[0, 0], [1499, 1499], [700, 31]]) {
      let s = 0;
      for (let p = 0; p < 8; p++) s += xs[i * 8 + p] * ys[p * 1500 + j];
      assert.ok(Math.abs(got[i * 1500 + j] - s) < 1e-4 * (1 + Math.abs(s)), `[${i}, ${j}]`);
    }
  } finally {
    setHeapLimit(previous);
  }
  // the SIMD kernel again: the TypeScript one sums in double and rounds differently
  const again = a.matmul(b);
  assert.ok(heapAddress(again.data) >= 0);
  assert.deepEqual([...again.toArray()], [...want]);
});

Deno.test("a heap buffer whose tensor was dropped without dispose comes back to the pool", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "the test task runs with --v8-flags=--expose-gc");
  const address = (() => heapAddress(tensor(new Float32Array(77777)).data))();
  assert.ok(address >= 0);
  let back = -1;
  for (let round = 0; round < 20 && back !== address; round++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10)); // finalizers run as tasks
    const probe = zeros([77777]);
    back = heapAddress(probe.data);
    probe.dispose();
  }
  assert.equal(back, address);
});

Deno.test("the heap holds more than 1 GiB, and the SIMD kernels work on buffers past it", async () => {
  const worker = new Worker(new URL("./programs/high_heap_worker.ts", import.meta.url), {
    type: "module",
  });
  try {
    const found = await new Promise<Record<string, number | boolean | string>>(
      (resolve, reject) => {
        worker.onmessage = (e) => resolve(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          reject(new Error(e.message));
        };
        worker.postMessage(null);
      },
    );
    if (found.cap !== 2 ** 31 - 65536) {
      // the runtime refused 2 GiB: the heap is the 1 GiB fallback, and nothing here applies
      assert.equal(found.cap, 2 ** 30);
      return;
    }
    assert.ok(found.filler as number >= 0, "the 1.25 GiB filler fits");
    assert.ok(found.lowest as number > 2 ** 30, `operands at ${found.lowest}, past 1 GiB`);
    assert.ok(found.fusedSimd === 150_000 && found.adamSimd === 1000, "the SIMD loops ran");
    assert.ok(found.matmulSimd, "the SIMD matmul ran (its bits are not the TypeScript kernel's)");
    assert.ok(found.convSimd as number > 0, "im2col ran as SIMD");
    for (const k of ["matmul", "fused", "conv", "adam"]) {
      assert.equal(found[k], true, `${k}: the same bits as on plain buffers`);
    }
    assert.ok(found.refused, "allocations past the reservation are refused");
    assert.equal(found.warnings, 1, "the full heap is reported once");
    assert.match(
      found.warning as string,
      /adamant: the WebAssembly heap \(2047 MiB\) has no room for 1024 MiB more/,
    );
  } finally {
    worker.terminate();
  }
});
