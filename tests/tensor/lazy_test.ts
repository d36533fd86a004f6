import assert from "node:assert/strict";
import { memory, noGrad, ones, tensor, tidy } from "../../mod.ts";

Deno.test("a chain of elementwise ops runs as one fused pass with one output buffer", () => {
  const a = tensor([1, 2, 3, 4]), b = tensor([5, 6, 7, 8]);
  tidy(() => a.mul(b).add(a).toArray()); // warm the pool
  const before = memory();
  const c = a.mul(b).add(a).exp().neg();
  assert.ok(c.pendingExpr !== null, "the result is not computed before it is read");
  const got = [...c.toArray()];
  const after = memory();
  const touched = after.freshBytes + after.reusedBytes - before.freshBytes - before.reusedBytes;
  assert.equal(touched, 64, "one pooled buffer (the smallest size class) for the whole chain");
  const want = [1, 2, 3, 4].map((x, i) => -Math.exp(x * [5, 6, 7, 8][i] + x));
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) <= 1e-6 * Math.abs(want[i])));
});

Deno.test("an in-place write to an input does not change a result already asked for", () => {
  const a = tensor([1, 2, 3]);
  const y = a.mul(10);
  noGrad(() => a.addInPlace(1));
  assert.deepEqual([...y.toArray()], [10, 20, 30]);
  assert.deepEqual([...a.toArray()], [2, 3, 4]);
});

Deno.test("a write through .data does not change a pending result", () => {
  const a = tensor([1, 2, 3]);
  const y = a.add(1);
  a.data[0] = 100;
  assert.deepEqual([...y.toArray()], [2, 3, 4]);
});

Deno.test("disposing an input keeps a pending result's data alive", () => {
  const a = tensor([1, 2, 3]);
  const y = a.mul(2);
  a.dispose();
  const other = ones([3]); // would reuse a's buffer if it had been released
  assert.deepEqual([...y.toArray()], [2, 4, 6]);
  other.dispose();
});

Deno.test("long chains are cut into several fused loops and stay exact", () => {
  let x = tensor([1, 2, 3], { dtype: "float64" });
  for (let i = 0; i < 100; i++) x = x.add(1);
  assert.deepEqual([...x.toArray()], [101, 102, 103]);
});

Deno.test("tidy disposes pending results without computing them", () => {
  const a = tensor([1, 2]);
  const before = memory();
  tidy(() => {
    a.mul(3).add(1);
  });
  const after = memory();
  assert.equal(after.freshBytes + after.reusedBytes, before.freshBytes + before.reusedBytes);
});

Deno.test("fused and unfused paths agree on broadcast and strided operands", () => {
  const m = tensor([[1, 2, 3], [4, 5, 6]]);
  const fusedSum = m.mul(2).add(m).toArray();
  const stridedSum = m.T.mul(2).add(m.T).T.contiguous().toArray();
  assert.deepEqual([...fusedSum], [...stridedSum]);
  assert.deepEqual([...m.add(tensor([1, 1, 1])).toArray()], [2, 3, 4, 5, 6, 7]);
});
