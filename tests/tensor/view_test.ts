import assert from "node:assert/strict";
import { arange, tensor } from "../../mod.ts";

const m = () => arange(6).reshape([2, 3]);

Deno.test("reshape and view share storage with contiguous data", () => {
  const x = m();
  const y = x.reshape([3, 2]);
  assert.equal(y.data, x.data);
  assert.deepEqual(y.toNested(), [[0, 1], [2, 3], [4, 5]]);
  assert.deepEqual(x.reshape([-1]).shape, [6]);
  assert.deepEqual(x.view([3, -1]).shape, [3, 2]);
});

Deno.test("reshape of a transposed tensor copies, view refuses", () => {
  const t = m().T;
  assert.deepEqual([...t.reshape([6]).toArray()], [0, 3, 1, 4, 2, 5]);
  assert.throws(() => t.view([6]), TypeError);
  // splitting a dimension of a transposed view needs no copy
  assert.equal(t.view([3, 2, 1]).data, t.data);
});

Deno.test("permute, transpose and T reorder dimensions as views", () => {
  const x = arange(24).reshape([2, 3, 4]);
  const p = x.permute([2, 0, 1]);
  assert.deepEqual(p.shape, [4, 2, 3]);
  assert.equal(p.data, x.data);
  assert.equal(
    p.contiguous().toNested().toString(),
    x.permute([2, 0, 1]).contiguous().toNested().toString(),
  );
  assert.deepEqual(x.transpose(0, 2).shape, [4, 3, 2]);
  assert.deepEqual(m().T.toNested(), [[0, 3], [1, 4], [2, 5]]);
  assert.equal(x.permute([0, 2, 1]).select(0, 1).select(0, 2).toArray().join(), "14,18,22");
});

Deno.test("expand broadcasts with stride 0", () => {
  const x = tensor([[1], [2]]);
  const e = x.expand([2, 3]);
  assert.deepEqual(e.strides, [1, 0]);
  assert.deepEqual(e.toNested(), [[1, 1, 1], [2, 2, 2]]);
  assert.deepEqual(tensor([1, 2]).expand([2, -1]).toNested(), [[1, 2], [1, 2]]);
});

Deno.test("slice, narrow and select accept negative indices", () => {
  const x = arange(10);
  assert.deepEqual([...x.slice(0, 2, 5).toArray()], [2, 3, 4]);
  assert.deepEqual([...x.slice(0, -3).toArray()], [7, 8, 9]);
  assert.deepEqual([...x.slice(0, 1, -1, 3).toArray()], [1, 4, 7]);
  assert.deepEqual([...x.narrow(0, -4, 2).toArray()], [6, 7]);
  assert.equal(x.select(0, -1).item(), 9);
  assert.deepEqual(m().select(1, -1).toNested(), [2, 5]);
  assert.equal(x.slice(0, 8, 2).size, 0);
});

Deno.test("squeeze, unsqueeze and flatten", () => {
  const x = arange(6).reshape([1, 2, 1, 3]);
  assert.deepEqual(x.squeeze().shape, [2, 3]);
  assert.deepEqual(x.squeeze(2).shape, [1, 2, 3]);
  assert.deepEqual(x.squeeze(1).shape, [1, 2, 1, 3]);
  assert.deepEqual(x.unsqueeze(-1).shape, [1, 2, 1, 3, 1]);
  assert.deepEqual(x.flatten().shape, [6]);
  assert.deepEqual(x.flatten(1, 2).shape, [1, 2, 3]);
});

Deno.test("ops on strided views give the same values as on contiguous copies", () => {
  const x = arange(12).reshape([3, 4]);
  const v = x.T.slice(0, 0, 4, 2); // [2, 3], strides [2, 4]
  assert.deepEqual(v.exp().toArray(), v.contiguous().exp().toArray());
  assert.deepEqual(v.add(v.contiguous()).toArray(), v.mul(2).toArray());
  assert.deepEqual(v.sum(0).toArray(), v.contiguous().sum(0).toArray());
});

Deno.test("clone copies, detach shares", () => {
  const x = tensor([1, 2]);
  assert.notEqual(x.clone().data, x.data);
  assert.equal(x.detach().data, x.data);
});
