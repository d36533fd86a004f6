import assert from "node:assert/strict";
import { Linear, noGrad, ones, Storage, tensor, zeros } from "../../mod.ts";
import { SharedArena } from "../../parallel/mod.ts";
import { throwsWith } from "./assert_error.ts";

Deno.test("SharedArena lays parameters out back to back and the model trains through it", () => {
  const layer = new Linear(3, 2);
  const before = layer.parameters().map((p) => [...p.toArray()]);
  const arena = SharedArena.adopt(layer.parameters());
  assert.deepEqual(arena.offsets, [0, 6]);
  assert.deepEqual([...arena.data], before.flat().map(Math.fround));
  layer.forward(ones([1, 3])).sum().backward();
  assert.deepEqual([...layer.bias!.grad!.toArray()], [1, 1]); // autograd unaffected
  noGrad(() => layer.bias!.subInPlace(1)); // in-place updates land in the arena
  assert.equal(arena.data[6], Math.fround(before[1][0] - 1));
});

Deno.test("SharedArena.attach takes the values another thread laid out", () => {
  const a = [tensor([1, 2]), tensor([[3, 4, 5]])];
  const arena = SharedArena.adopt(a);
  const b = [zeros([2]), zeros([1, 3])];
  const view = SharedArena.attach(arena.shared, b);
  assert.deepEqual([...b[1].toArray()], [3, 4, 5]);
  const grads = view.viewsOf(new Float32Array(5).fill(7), b);
  assert.deepEqual(grads.map((g) => g.shape.join()), ["2", "1,3"]);
  throwsWith(
    () => SharedArena.attach(arena.shared, [zeros([4])]),
    RangeError,
    "SharedArena: the buffer holds 5 floats, the tensors 4",
  );
  throwsWith(
    () => view.viewsOf(new Float32Array(4), b),
    RangeError,
    "SharedArena.viewsOf: the slice holds 4 floats, the arena 5",
  );
});

Deno.test("SharedArena and rebind reject what they cannot hold", () => {
  throwsWith(
    () => SharedArena.adopt([zeros([2], { dtype: "float64" })]),
    TypeError,
    "SharedArena.adopt: tensor 0 is float64; the arena holds float32 only",
  );
  const t = zeros([2, 2]);
  const shared = new Storage(new Float32Array(new SharedArrayBuffer(16)), false);
  throwsWith(() => t.T.rebind(shared, 0), TypeError, "must be a computed, contiguous leaf");
  throwsWith(
    () => t.rebind(shared, 1),
    RangeError,
    "rebind: tensor of shape [2, 2]: offset 1 + 4 elements overruns a storage of 4",
  );
  throwsWith(
    () => t.rebind(new Storage(new Float64Array(4), false), 0),
    TypeError,
    "storage holds float64, the tensor is float32",
  );
});
