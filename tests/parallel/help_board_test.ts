import assert from "node:assert/strict";
import { type Tensor, zeros } from "../../mod.ts";
import { WorkerPool } from "../../parallel/mod.ts";
import { createBoards } from "../../parallel/help_board.ts";
import { tiledKernel } from "../../tensor/cpu/matmul.ts";
import { heapAddress } from "../../tensor/heap.ts";
import { type HelpInit, PRODUCT } from "./programs/help_program.ts";

Deno.test("a worker waiting at a barrier helps with another's product, with the bits of one thread", async () => {
  // a long product (some 30 ms on one thread), so that the sleeping rank surely wakes in time
  // to claim part of it
  const [m, n, k] = [2048, 1000, 256];
  const kept: Tensor[] = [];
  const heapFloats = (length: number) => {
    const t = zeros([length]);
    kept.push(t);
    const data = t.data as Float32Array;
    assert.ok(heapAddress(data) >= 0);
    return data;
  };
  const a = heapFloats(k * m), b = heapFloats(k * n), c = heapFloats(m * n);
  a.forEach((_, i) => a[i] = Math.sin(i * 12.9898) * 3);
  b.forEach((_, i) => b[i] = Math.cos(i * 78.233) * 2);
  c.fill(NaN);
  const want = new Float32Array(m * n);
  tiledKernel(
    m,
    n,
    k,
    { data: a, offset: 0, rowStride: 1, colStride: m },
    { data: b, offset: 0, rowStride: n, colStride: 1 },
    want,
    0,
  );
  const at = (x: Float32Array) => heapAddress(x) / 4;
  const init: HelpInit = { boards: createBoards(2), product: [m, n, k, at(a), at(b), at(c)] };
  await using pool = await WorkerPool.create({ workers: 2 });
  await pool.load(new URL("./programs/help_program.ts", import.meta.url), init);
  await pool.run(PRODUCT);
  const [helped, helper] = await pool.call("helped") as number[];
  assert.ok(helped > 0, "rank 0 waited at the barrier without helping");
  assert.equal(helper, 0);
  assert.deepEqual(c, want);
});
