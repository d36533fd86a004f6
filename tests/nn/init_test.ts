/**
 * The initialisers: statistics of large draws, gains and fans as torch.nn.init computes
 * them, in-place filling of parameters, seeding, and the default inits of the layers.
 */
import assert from "node:assert/strict";
import {
  BatchNorm2d,
  Embedding,
  Generator,
  init,
  LayerNorm,
  Linear,
  manualSeed,
  type Tensor,
  zeros,
} from "../../mod.ts";

function stats(t: Tensor): { mean: number; std: number; min: number; max: number } {
  const a = t.toArray();
  let sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (const v of a) {
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / a.length;
  return { mean, std: Math.sqrt(sq / a.length - mean * mean), min, max };
}

/** Asserts |actual - expected| <= tolerance, naming the quantity. */
function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual}, expected ${expected} ± ${tolerance}`,
  );
}

Deno.test("init.uniform() fills U(a, b) in place and returns the tensor", () => {
  manualSeed(0);
  const t = zeros([200, 500]);
  assert.equal(init.uniform(t, { a: -2, b: 4 }), t);
  const s = stats(t);
  assert.ok(s.min >= -2 && s.max < 4);
  near(s.mean, 1, 0.02, "mean");
  near(s.std, 6 / Math.sqrt(12), 0.02, "std");
  const unit = stats(init.uniform(zeros([10000])));
  assert.ok(unit.min >= 0 && unit.max < 1);
});

Deno.test("init.normal() fills N(mean, std²)", () => {
  manualSeed(1);
  const s = stats(init.normal(zeros([100000]), { mean: -1, std: 0.5 }));
  near(s.mean, -1, 0.01, "mean");
  near(s.std, 0.5, 0.01, "std");
});

Deno.test("init.constant(), zeros() and ones() fill every element", () => {
  const t = zeros([3, 4]);
  assert.ok(init.constant(t, 2.5).toArray().every((v) => v === 2.5));
  assert.ok(init.ones(t).toArray().every((v) => v === 1));
  assert.ok(init.zeros(t).toArray().every((v) => v === 0));
  assert.ok(init.constant(zeros([2], { dtype: "int32" }), 3).toArray().every((v) => v === 3));
});

Deno.test("init.calculateGain() follows torch.nn.init.calculate_gain", () => {
  for (const n of ["linear", "conv1d", "conv2d", "conv3d", "convTranspose2d", "sigmoid"] as const) {
    assert.equal(init.calculateGain(n), 1);
  }
  assert.equal(init.calculateGain("tanh"), 5 / 3);
  assert.equal(init.calculateGain("relu"), Math.SQRT2);
  assert.equal(init.calculateGain("selu"), 3 / 4);
  near(init.calculateGain("leakyRelu"), Math.sqrt(2 / (1 + 0.01 ** 2)), 1e-15, "leakyRelu");
  near(init.calculateGain("leakyRelu", 0.2), Math.sqrt(2 / 1.04), 1e-15, "leakyRelu 0.2");
  assert.equal(init.calculateGain("leakyRelu", 0), Math.SQRT2);
  assert.throws(() => init.calculateGain("swish" as init.Nonlinearity), /unsupported nonlinearity/);
});

Deno.test("init.calculateFans() counts the receptive field, and needs 2 dimensions", () => {
  assert.deepEqual(init.calculateFans(zeros([6, 4])), { fanIn: 4, fanOut: 6 });
  assert.deepEqual(init.calculateFans(zeros([8, 3, 3, 3])), { fanIn: 27, fanOut: 72 });
  assert.throws(() => init.calculateFans(zeros([5])), /at least 2 dimensions.*\[5\]/);
  assert.throws(() => init.xavierUniform(zeros([5])), TypeError);
});

Deno.test("init.xavierUniform() and xavierNormal() use √(2 / (fanIn + fanOut)) · gain", () => {
  manualSeed(2);
  const std = 2 * Math.sqrt(2 / (300 + 200));
  const u = stats(init.xavierUniform(zeros([300, 200]), { gain: 2 }));
  assert.ok(u.max <= std * Math.sqrt(3) && u.min >= -std * Math.sqrt(3));
  near(u.std, std, std * 0.02, "uniform std");
  const n = stats(init.xavierNormal(zeros([300, 200]), { gain: 2 }));
  near(n.mean, 0, 0.005, "normal mean");
  near(n.std, std, std * 0.02, "normal std");
});

Deno.test("init.kaimingUniform() and kaimingNormal() use gain / √fan for the chosen mode", () => {
  manualSeed(3);
  // [out 100, in 400, 3]: fanIn 1200, fanOut 300
  const fanIn = 1200, fanOut = 300;
  const n = stats(init.kaimingNormal(zeros([100, 400, 3]), { nonlinearity: "relu" }));
  near(n.std, Math.SQRT2 / Math.sqrt(fanIn), 0.02 * Math.SQRT2 / Math.sqrt(fanIn), "fanIn std");
  const o = stats(
    init.kaimingNormal(zeros([100, 400, 3]), { mode: "fanOut", nonlinearity: "relu" }),
  );
  near(o.std, Math.SQRT2 / Math.sqrt(fanOut), 0.02 * Math.SQRT2 / Math.sqrt(fanOut), "fanOut std");
  // the default: leaky relu with a = 0, i.e. gain √2
  const u = stats(init.kaimingUniform(zeros([100, 1200])));
  const bound = Math.SQRT2 * Math.sqrt(3 / fanIn);
  assert.ok(u.max <= bound && u.min >= -bound);
  near(u.std, bound / Math.sqrt(3), 0.02 * bound, "uniform std");
  // a = √5, as Linear uses it: bound 1 / √fanIn
  const l = stats(init.kaimingUniform(zeros([100, 1200]), { a: Math.sqrt(5) }));
  assert.ok(l.max <= 1 / Math.sqrt(fanIn) && l.max > 0.95 / Math.sqrt(fanIn));
  assert.throws(
    () => init.kaimingUniform(zeros([2, 2]), { mode: "fan_in" as "fanIn" }),
    /mode must be "fanIn" or "fanOut"/,
  );
});

Deno.test("initialisers fill parameters in place with grad mode on", () => {
  const layer = new Linear(3, 3);
  const w = layer.weight;
  const version = w.version;
  assert.equal(init.xavierNormal(w), w);
  assert.ok(w.version > version, "the write bumps the version counter");
  assert.ok(w.requiresGrad && w.isLeaf && w.grad === null);
  // a transposed view is filled through its strides
  const t = zeros([2, 3]);
  init.constant(t.T, 4);
  assert.ok(t.toArray().every((v) => v === 4));
});

Deno.test("random initialisers reject non-floating tensors and bad options", () => {
  assert.throws(() => init.uniform(zeros([2], { dtype: "int32" })), /needs a floating tensor/);
  assert.throws(() => init.uniform(zeros([2]), { a: 1, b: 0 }), RangeError);
  assert.throws(() => init.normal(zeros([2]), { std: -1 }), RangeError);
  assert.throws(() => init.normal(zeros([2]), { mean: NaN }), RangeError);
});

Deno.test("initialisers draw reproducibly from manualSeed or a given generator", () => {
  manualSeed(42);
  const a = init.kaimingUniform(zeros([4, 5])).toArray();
  manualSeed(42);
  const b = init.kaimingUniform(zeros([4, 5])).toArray();
  assert.deepEqual(a, b);
  const c = init.normal(zeros([6]), { generator: new Generator(7) }).toArray();
  const d = init.normal(zeros([6]), { generator: new Generator(7) }).toArray();
  assert.deepEqual(c, d);
  assert.notDeepEqual(init.normal(zeros([6])).toArray(), c);
});

Deno.test("Linear's default init: weight and bias within ±1/√in, spread over the range", () => {
  manualSeed(5);
  const layer = new Linear(64, 256);
  const bound = 1 / 8;
  const w = stats(layer.weight), b = stats(layer.bias!);
  assert.ok(w.max <= bound && w.min >= -bound);
  assert.ok(b.max <= bound && b.min >= -bound);
  assert.ok(w.max > 0.95 * bound && w.min < -0.95 * bound);
  near(w.std, bound / Math.sqrt(3), 0.03 * bound, "weight std");
  near(w.mean, 0, 0.01 * bound * 10, "weight mean");
  assert.deepEqual(layer.weight.shape, [256, 64]);
  assert.deepEqual(layer.bias!.shape, [256]);
});

Deno.test("layers built after the same manualSeed are identical", () => {
  manualSeed(11);
  const a = [new Linear(5, 4), new Embedding(6, 3)];
  manualSeed(11);
  const b = [new Linear(5, 4), new Embedding(6, 3)];
  a.forEach((m, i) => {
    const pb = b[i].parameters();
    m.parameters().forEach((p, j) => assert.deepEqual(p.toArray(), pb[j].toArray()));
  });
  const c = new Linear(5, 4);
  assert.notDeepEqual(c.weight.toArray(), (a[0] as Linear).weight.toArray());
});

Deno.test("Embedding starts from N(0, 1); norms from weight 1, bias 0, running 0 and 1", () => {
  manualSeed(6);
  const e = stats(new Embedding(1000, 64).weight);
  near(e.mean, 0, 0.01, "embedding mean");
  near(e.std, 1, 0.01, "embedding std");
  const bn = new BatchNorm2d(4);
  assert.deepEqual([...bn.weight!.toArray()], [1, 1, 1, 1]);
  assert.deepEqual([...bn.bias!.toArray()], [0, 0, 0, 0]);
  assert.deepEqual([...bn.runningMean!.toArray()], [0, 0, 0, 0]);
  assert.deepEqual([...bn.runningVar!.toArray()], [1, 1, 1, 1]);
  assert.equal(bn.numBatchesTracked!.item(), 0);
  const ln = new LayerNorm([2, 3]);
  assert.deepEqual(ln.weight!.shape, [2, 3]);
  assert.equal(ln.weight!.sum().item(), 6);
  assert.equal(ln.bias!.abs().sum().item(), 0);
});
