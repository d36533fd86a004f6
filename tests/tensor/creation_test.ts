import assert from "node:assert/strict";
import {
  arange,
  bernoulli,
  eye,
  full,
  Generator,
  linspace,
  manualSeed,
  ones,
  rand,
  randint,
  randn,
  tensor,
  zeros,
  zerosLike,
} from "../../mod.ts";

Deno.test("tensor() builds from nested arrays, typed arrays and numbers", () => {
  const t = tensor([[1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.dtype, "float32");
  assert.deepEqual([...t.toArray()], [1, 2, 3, 4, 5, 6]);
  const i = tensor(new Int32Array([1, 2, 3, 4]), { shape: [2, 2] });
  assert.equal(i.dtype, "int32");
  assert.deepEqual(i.toNested(), [[1, 2], [3, 4]]);
  assert.equal(tensor(3).ndim, 0);
  assert.equal(tensor(3).item(), 3);
  assert.deepEqual(tensor([], {}).shape, [0]);
  assert.equal(tensor([1.5, 2.5], { dtype: "float64" }).dtype, "float64");
});

Deno.test("tensor() copies its input", () => {
  const src = new Float32Array([1, 2]);
  const t = tensor(src);
  src[0] = 9;
  assert.equal(t.toArray()[0], 1);
});

Deno.test("zeros, ones, full, eye and *Like fill as asked", () => {
  assert.deepEqual([...zeros([2, 2]).toArray()], [0, 0, 0, 0]);
  assert.deepEqual([...ones([3], { dtype: "int32" }).toArray()], [1, 1, 1]);
  assert.deepEqual([...full([2], 2.5).toArray()], [2.5, 2.5]);
  assert.deepEqual(eye(2, 3).toNested(), [[1, 0, 0], [0, 1, 0]]);
  const like = zerosLike(ones([2, 3], { dtype: "float64" }));
  assert.equal(like.dtype, "float64");
  assert.deepEqual(like.shape, [2, 3]);
  assert.ok(ones([2], { requiresGrad: true }).requiresGrad);
});

Deno.test("arange and linspace match PyTorch's endpoints", () => {
  assert.deepEqual([...arange(4).toArray()], [0, 1, 2, 3]);
  assert.deepEqual([...arange(2, 5).toArray()], [2, 3, 4]);
  assert.deepEqual([...arange(0, 1, 0.25).toArray()], [0, 0.25, 0.5, 0.75]);
  assert.deepEqual([...arange(5, 0, -2).toArray()], [5, 3, 1]);
  assert.deepEqual([...arange(0, 3, 1, { dtype: "int32" }).toArray()], [0, 1, 2]);
  const l = linspace(-1, 1, 5).toArray();
  assert.deepEqual([...l], [-1, -0.5, 0, 0.5, 1]);
  assert.equal(linspace(0, 1, 1).toArray()[0], 0);
  assert.equal(linspace(0, 1, 0).size, 0);
});

Deno.test("manualSeed makes every random op reproducible", () => {
  const draw = () => [
    ...rand([5]).toArray(),
    ...randn([5]).toArray(),
    ...randint(0, 100, [5]).toArray(),
    ...bernoulli(0.5, [5]).toArray(),
  ];
  manualSeed(1234);
  const a = draw();
  manualSeed(1234);
  assert.deepEqual(draw(), a);
  manualSeed(1235);
  assert.notDeepEqual(draw(), a);
});

Deno.test("the generator gives the same numbers on every platform", () => {
  // fixed by integer-only xoshiro128** arithmetic; a change here breaks reproducibility
  const g = new Generator(42);
  const first = [g.nextUint32(), g.nextUint32(), g.nextUint32()];
  const again = new Generator(42);
  assert.deepEqual([again.nextUint32(), again.nextUint32(), again.nextUint32()], first);
  assert.ok(first.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32));
});

Deno.test("generator state round-trips, so a resumed run continues identically", () => {
  const g = new Generator(7);
  g.normal();
  const state = g.getState();
  const next = [g.normal(), g.uniform(), g.normal()];
  const h = new Generator(0);
  h.setState(state);
  assert.deepEqual([h.normal(), h.uniform(), h.normal()], next);
});

Deno.test("random draws have the right ranges and moments", () => {
  manualSeed(0);
  const u = rand([20000]);
  assert.ok(u.min().item() >= 0 && u.max().item() < 1);
  assert.ok(Math.abs(u.mean().item() - 0.5) < 0.01);
  const z = randn([20000], { dtype: "float64" });
  assert.ok(Math.abs(z.mean().item()) < 0.03);
  assert.ok(Math.abs(z.std().item() - 1) < 0.03);
  const k = randint(-3, 3, [5000]);
  assert.equal(k.dtype, "int32");
  assert.equal(k.min().item(), -3);
  assert.equal(k.max().item(), 2);
  const b = bernoulli(tensor([0, 1, 0, 1]));
  assert.deepEqual([...b.toArray()], [0, 1, 0, 1]);
});
