import assert from "node:assert/strict";
import { memory, ones, tidy, zeros } from "../../mod.ts";
import { makeMlp, mlpStep } from "../../bench/mlp.ts";

Deno.test("an MLP training step allocates no fresh memory after warm-up", () => {
  const { params, x, y } = makeMlp(32);
  for (let i = 0; i < 3; i++) tidy(() => mlpStep(params, x, y, 0.01));
  const before = memory().freshBytes;
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) losses.push(tidy(() => mlpStep(params, x, y, 0.01)));
  assert.equal(memory().freshBytes - before, 0);
  assert.ok(losses[4] < losses[0], `loss should fall on a fixed batch: ${losses.join(", ")}`);
});

Deno.test("disposed buffers are served again from the pool", () => {
  const a = zeros([1000]);
  a.dispose();
  const before = memory();
  const b = ones([1000]);
  assert.equal(memory().freshBytes, before.freshBytes);
  assert.ok(memory().reusedBytes > before.reusedBytes);
  b.dispose();
});

Deno.test("a view keeps its storage alive after the base is disposed", () => {
  const base = ones([4, 4]);
  const row = base.select(0, 1);
  base.dispose();
  const other = zeros([16]); // would take base's buffer if it had been released
  assert.deepEqual([...row.toArray()], [1, 1, 1, 1]);
  other.dispose();
  row.dispose();
});

Deno.test("using a disposed tensor throws", () => {
  const t = ones([2]);
  t.dispose();
  assert.throws(() => t.add(1), /disposed/);
});
