/**
 * The WebAssembly heap behind the pool's large float buffers: what goes there, reuse,
 * the fallback once it is full, and buffers dropped without `dispose()`.
 */
import assert from "node:assert/strict";
import { memory, randn, tensor, zeros } from "../../mod.ts";
import { heapAddress, heapBytes, setHeapLimit } from "../../tensor/heap.ts";

Deno.test("large float buffers live in the heap; small and int32 ones do not", () => {
  const big = zeros([1024]), big64 = zeros([512], { dtype: "float64" });
  const small = zeros([16]), labels = zeros([1024], { dtype: "int32" });
  assert.ok(heapAddress(big.data) >= 0 && heapAddress(big64.data) >= 0);
  assert.equal(heapAddress(small.data), -1);
  assert.equal(heapAddress(labels.data), -1);
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
