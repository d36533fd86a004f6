import assert from "node:assert/strict";
import { arange, type Device, tensor } from "../../mod.ts";
import { forEachDevice, values } from "../device.ts";

const m = (device: Device) => arange(6, undefined, 1, { device }).reshape([2, 3]);

forEachDevice("reshape and view share storage with contiguous data", async (device) => {
  const x = m(device);
  const y = x.reshape([3, 2]);
  assert.equal(y.storage, x.storage);
  assert.deepEqual(await values(y), [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(x.reshape([-1]).shape, [6]);
  assert.deepEqual(x.view([3, -1]).shape, [3, 2]);
});

forEachDevice("reshape of a transposed tensor copies, view refuses", async (device) => {
  const t = m(device).T;
  assert.deepEqual(await values(t.reshape([6])), [0, 3, 1, 4, 2, 5]);
  assert.throws(() => t.view([6]), TypeError);
  // splitting a dimension of a transposed view needs no copy
  assert.equal(t.view([3, 2, 1]).storage, t.storage);
});

forEachDevice("permute, transpose and T reorder dimensions as views", async (device) => {
  const x = arange(24, undefined, 1, { device }).reshape([2, 3, 4]);
  const p = x.permute([2, 0, 1]);
  assert.deepEqual(p.shape, [4, 2, 3]);
  assert.equal(p.storage, x.storage);
  const want = Array.from(arange(24).reshape([2, 3, 4]).permute([2, 0, 1]).contiguous().toArray());
  assert.deepEqual(await values(p.contiguous()), want);
  assert.deepEqual(x.transpose(0, 2).shape, [4, 3, 2]);
  assert.deepEqual(await values(m(device).T), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(await values(x.permute([0, 2, 1]).select(0, 1).select(0, 2)), [14, 18, 22]);
});

forEachDevice("expand broadcasts with stride 0", async (device) => {
  const x = tensor([[1], [2]], { device });
  const e = x.expand([2, 3]);
  assert.deepEqual(e.strides, [1, 0]);
  assert.deepEqual(await values(e), [1, 1, 1, 2, 2, 2]);
  assert.deepEqual(await values(tensor([1, 2], { device }).expand([2, -1])), [1, 2, 1, 2]);
});

forEachDevice("slice, narrow and select accept negative indices", async (device) => {
  const x = arange(10, undefined, 1, { device });
  assert.deepEqual(await values(x.slice(0, 2, 5)), [2, 3, 4]);
  assert.deepEqual(await values(x.slice(0, -3)), [7, 8, 9]);
  assert.deepEqual(await values(x.slice(0, 1, -1, 3)), [1, 4, 7]);
  assert.deepEqual(await values(x.narrow(0, -4, 2)), [6, 7]);
  assert.deepEqual(await values(x.select(0, -1)), [9]);
  assert.deepEqual(await values(m(device).select(1, -1)), [2, 5]);
  assert.equal(x.slice(0, 8, 2).size, 0);
});

forEachDevice("squeeze, unsqueeze and flatten", (device) => {
  const x = arange(6, undefined, 1, { device }).reshape([1, 2, 1, 3]);
  assert.deepEqual(x.squeeze().shape, [2, 3]);
  assert.deepEqual(x.squeeze(2).shape, [1, 2, 3]);
  assert.deepEqual(x.squeeze(1).shape, [1, 2, 1, 3]);
  assert.deepEqual(x.unsqueeze(-1).shape, [1, 2, 1, 3, 1]);
  assert.deepEqual(x.flatten().shape, [6]);
  assert.deepEqual(x.flatten(1, 2).shape, [1, 2, 3]);
});

forEachDevice(
  "ops on strided views give the same values as on contiguous copies",
  async (device) => {
    const x = arange(12, undefined, 1, { device }).reshape([3, 4]);
    const v = x.T.slice(0, 0, 4, 2); // [2, 3], strides [2, 4]
    assert.deepEqual(await values(v.exp()), await values(v.contiguous().exp()));
    assert.deepEqual(await values(v.add(v.contiguous())), await values(v.mul(2)));
    assert.deepEqual(await values(v.sum(0)), await values(v.contiguous().sum(0)));
  },
);

forEachDevice("clone copies, detach shares", (device) => {
  const x = tensor([1, 2], { device });
  assert.notEqual(x.clone().storage, x.storage);
  assert.equal(x.detach().storage, x.storage);
});
