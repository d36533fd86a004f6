/**
 * The Module base class: registration, names and order, traversal, train/eval, zeroGrad,
 * state dictionaries (round trips, strict errors, in-place loading) and Sequential.
 */
import assert from "node:assert/strict";
import {
  BatchNorm1d,
  Dropout,
  Embedding,
  LayerNorm,
  Linear,
  manualSeed,
  Module,
  noGrad,
  ones,
  randn,
  ReLU,
  Sequential,
  type StateDict,
  type Tensor,
  tensor,
  tidy,
  zeros,
} from "../../mod.ts";

/** A nested model: Sequential(Linear, ReLU, Sequential(Linear, BatchNorm1d), Linear). */
function nested(): Sequential {
  return new Sequential(
    new Linear(4, 8),
    new ReLU(),
    new Sequential(new Linear(8, 6), new BatchNorm1d(6)),
    new Linear(6, 2),
  );
}

class Mlp extends Module {
  readonly fc1: Linear;
  readonly fc2: Linear;
  readonly scale: Tensor;
  constructor() {
    super();
    this.scale = this.registerParameter("scale", ones([1]));
    this.fc1 = this.registerModule("fc1", new Linear(3, 5));
    this.fc2 = this.registerModule("fc2", new Linear(5, 2));
  }
  override forward(x: Tensor): Tensor {
    return this.fc2.forward(this.fc1.forward(x).relu()).mul(this.scale);
  }
}

function maxDiff(a: Tensor, b: Tensor): number {
  return a.sub(b).abs().max().item();
}

Deno.test("namedParameters() names a nested Sequential's parameters by position, in order", () => {
  const names = nested().namedParameters().map(([name]) => name);
  assert.deepEqual(names, [
    "0.weight",
    "0.bias",
    "2.0.weight",
    "2.0.bias",
    "2.1.weight",
    "2.1.bias",
    "3.weight",
    "3.bias",
  ]);
});

Deno.test("namedParameters() lists a module's own parameters before its sub-modules'", () => {
  const names = new Mlp().namedParameters().map(([name]) => name);
  assert.deepEqual(names, ["scale", "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]);
});

Deno.test("parameters() are the named parameters' tensors, leaves that require grad", () => {
  const model = nested();
  const named = model.namedParameters();
  const params = model.parameters();
  assert.equal(params.length, named.length);
  params.forEach((p, i) => {
    assert.equal(p, named[i][1]);
    assert.ok(p.requiresGrad && p.isLeaf);
  });
});

Deno.test("a parameter shared by two sub-modules is listed once", () => {
  const a = new Linear(3, 3), b = new Linear(3, 3, { bias: false });
  const shared = new Sequential(a, a, b);
  assert.equal(shared.parameters().length, 3);
  assert.deepEqual(shared.namedParameters().map(([n]) => n), ["0.weight", "0.bias", "2.weight"]);
  assert.equal(shared.modules().length, 3); // the container, a, b
  // the state dictionary keeps every path, as PyTorch's does
  assert.deepEqual(Object.keys(shared.stateDict()), [
    "0.weight",
    "0.bias",
    "1.weight",
    "1.bias",
    "2.weight",
  ]);
});

Deno.test("namedBuffers() lists BatchNorm's running statistics under dotted names", () => {
  const names = nested().namedBuffers().map(([name]) => name);
  assert.deepEqual(names, ["2.1.runningMean", "2.1.runningVar", "2.1.numBatchesTracked"]);
  assert.equal(nested().buffers().length, 3);
  assert.ok(nested().buffers().every((b) => !b.requiresGrad));
});

Deno.test("children() are direct sub-modules; modules() walks depth first from the root", () => {
  const model = nested();
  assert.equal(model.children().length, 4);
  assert.deepEqual(model.namedChildren().map(([n]) => n), ["0", "1", "2", "3"]);
  const named = model.namedModules().map(([n, m]) => `${n}:${m.constructor.name}`);
  assert.deepEqual(named, [
    ":Sequential",
    "0:Linear",
    "1:ReLU",
    "2:Sequential",
    "2.0:Linear",
    "2.1:BatchNorm1d",
    "3:Linear",
  ]);
  assert.equal(model.modules()[0], model);
});

Deno.test("apply() visits every module, children before their parent", () => {
  const seen: string[] = [];
  nested().apply((m) => seen.push(m.constructor.name));
  assert.deepEqual(seen, [
    "Linear",
    "ReLU",
    "Linear",
    "BatchNorm1d",
    "Sequential",
    "Linear",
    "Sequential",
  ]);
});

Deno.test("registerParameter() rejects bad names, duplicates, op results and int tensors", () => {
  class Probe extends Module {
    override forward(x: Tensor): Tensor {
      return x;
    }
  }
  const m = new Probe();
  m.registerParameter("w", zeros([2]));
  assert.throws(() => m.registerParameter("w", zeros([2])), /already has a member named "w"/);
  assert.throws(() => m.registerBuffer("w", zeros([2])), /already has a member named "w"/);
  assert.throws(() => m.registerParameter("a.b", zeros([2])), RangeError);
  assert.throws(() => m.registerParameter("", zeros([2])), RangeError);
  const result = ones([2], { requiresGrad: true }).mul(2);
  assert.throws(() => m.registerParameter("r", result), /not a leaf/);
  assert.throws(() => m.registerParameter("i", zeros([2], { dtype: "int32" })), TypeError);
  assert.throws(() => m.registerModule("m", {} as Module), TypeError);
});

Deno.test("a module built inside tidy() keeps its parameters and buffers", () => {
  const bn = tidy(() => new BatchNorm1d(3));
  assert.ok(bn.parameters().every((p) => !p.isDisposed));
  assert.ok(bn.buffers().every((b) => !b.isDisposed));
  bn.forward(randn([4, 3]));
});

Deno.test("train() and eval() set the mode on every sub-module", () => {
  const model = new Sequential(new Linear(2, 2), new Sequential(new Dropout(0.5)));
  assert.ok(model.modules().every((m) => m.training));
  assert.equal(model.eval(), model);
  assert.ok(model.modules().every((m) => !m.training));
  model.train();
  assert.ok(model.modules().every((m) => m.training));
  model.train(false);
  assert.ok(model.modules().every((m) => !m.training));
});

Deno.test("train/eval switches Dropout between masking and the identity", () => {
  manualSeed(0);
  const model = new Sequential(new Dropout(0.5));
  const x = ones([1000]);
  const trained = model.forward(x);
  const zeroed = trained.eq(0).sum().item();
  assert.ok(zeroed > 400 && zeroed < 600, `about half should be dropped, got ${zeroed}`);
  model.eval();
  assert.equal(model.forward(x), x);
});

Deno.test("train/eval switches BatchNorm between batch and running statistics", () => {
  manualSeed(1);
  const bn = new BatchNorm1d(2, { momentum: 0.5 });
  const x = randn([64, 2]).mul(3).add(10);
  const train = bn.forward(x);
  assert.ok(train.mean(0).abs().max().item() < 1e-4, "batch statistics centre the batch");
  assert.equal(bn.numBatchesTracked!.item(), 1);
  const mean = bn.runningMean!.toArray();
  bn.eval();
  const evaluated = bn.forward(x);
  assert.ok(evaluated.mean(0).abs().max().item() > 1, "running statistics do not centre it");
  assert.deepEqual(bn.runningMean!.toArray(), mean, "eval leaves the running statistics");
  assert.equal(bn.numBatchesTracked!.item(), 1);
});

Deno.test("zeroGrad() zeroes gradients in place by default, or drops them", () => {
  const model = new Mlp();
  model.forward(randn([4, 3])).sum().backward();
  const grads = model.parameters().map((p) => p.grad!);
  assert.ok(grads.some((g) => g.abs().sum().item() > 0));
  model.zeroGrad();
  model.parameters().forEach((p, i) => {
    assert.equal(p.grad, grads[i], "the same gradient tensor is kept");
    assert.equal(p.grad!.abs().sum().item(), 0);
  });
  model.forward(randn([4, 3])).sum().backward();
  model.zeroGrad({ setToNone: true });
  assert.ok(model.parameters().every((p) => p.grad === null));
  model.zeroGrad(); // nothing to zero
});

Deno.test("zeroGrad() detaches a gradient recorded with createGraph before zeroing it", () => {
  const layer = new Linear(2, 1);
  layer.forward(ones([1, 2])).square().sum().backward({ createGraph: true });
  assert.ok(layer.weight.grad!.requiresGrad);
  layer.zeroGrad();
  assert.ok(!layer.weight.grad!.requiresGrad);
  assert.equal(layer.weight.grad!.abs().sum().item(), 0);
});

Deno.test("stateDict() holds detached parameters and buffers that share storage", () => {
  const model = nested();
  const dict = model.stateDict();
  assert.deepEqual(Object.keys(dict), [
    "0.weight",
    "0.bias",
    "2.0.weight",
    "2.0.bias",
    "2.1.weight",
    "2.1.bias",
    "2.1.runningMean",
    "2.1.runningVar",
    "2.1.numBatchesTracked",
    "3.weight",
    "3.bias",
  ]);
  assert.ok(Object.values(dict).every((t) => !t.requiresGrad));
  assert.equal(dict["2.1.numBatchesTracked"].dtype, "int32");
  noGrad(() => (model.at(0) as Linear).weight.fillInPlace(7));
  assert.equal(dict["0.weight"].min().item(), 7, "the entries view the live tensors");
});

Deno.test("stateDict/loadStateDict round trip into a fresh model gives the same outputs", () => {
  manualSeed(2);
  const a = nested();
  a.forward(randn([16, 4])); // move BatchNorm's running statistics
  a.eval();
  manualSeed(99);
  const b = nested().eval();
  const x = randn([5, 4]);
  assert.ok(maxDiff(a.forward(x), b.forward(x)) > 1e-3, "different seeds, different models");
  const params = b.parameters();
  const result = b.loadStateDict(a.stateDict());
  assert.deepEqual(result, { missingKeys: [], unexpectedKeys: [] });
  assert.equal(maxDiff(a.forward(x), b.forward(x)), 0);
  b.parameters().forEach((p, i) => assert.equal(p, params[i], "parameters keep their identity"));
  assert.ok(b.parameters().every((p) => p.requiresGrad && p.isLeaf));
  assert.equal(b.buffers()[2].item(), 1);
});

Deno.test("loadStateDict() takes a Map and converts dtypes", () => {
  const a = new Linear(3, 2, { dtype: "float64" }), b = new Linear(3, 2);
  b.loadStateDict(new Map(Object.entries(a.stateDict())));
  assert.equal(b.weight.dtype, "float32");
  assert.ok(maxDiff(b.weight.double(), a.weight) < 1e-7);
});

Deno.test("strict loadStateDict() names every missing and unexpected key and copies nothing", () => {
  const model = nested();
  const before = model.stateDict();
  const snapshot = Object.fromEntries(Object.entries(before).map(([k, t]) => [k, t.clone()]));
  const dict: StateDict = { ...nested().stateDict() };
  delete dict["2.0.bias"];
  delete dict["2.1.runningVar"];
  dict["4.weight"] = zeros([2]);
  dict["extra"] = zeros([1]);
  assert.throws(
    () => model.loadStateDict(dict),
    (e: Error) => {
      assert.match(e.message, /missing keys: "2\.0\.bias", "2\.1\.runningVar"/);
      assert.match(e.message, /unexpected keys: "4\.weight", "extra"/);
      return true;
    },
  );
  for (const [k, t] of Object.entries(model.stateDict())) {
    assert.equal(maxDiff(t.double(), snapshot[k].double()), 0, `${k} must be unchanged`);
  }
});

Deno.test("loadStateDict() names a shape mismatch with both shapes, strict or not", () => {
  const model = new Linear(3, 2);
  const dict = { weight: zeros([3, 2]), bias: zeros([2]) };
  const check = (e: Error) => {
    assert.match(e.message, /"weight".*\[3, 2\].*\[2, 3\]/);
    return true;
  };
  assert.throws(() => model.loadStateDict(dict), check);
  assert.throws(() => model.loadStateDict(dict, { strict: false }), check);
});

Deno.test("non-strict loadStateDict() loads what matches and reports the rest", () => {
  const model = new Sequential(new Linear(2, 2), new LayerNorm(2));
  const result = model.loadStateDict(
    { "0.weight": ones([2, 2]), "1.gamma": ones([2]) },
    { strict: false },
  );
  assert.deepEqual(result.missingKeys, ["0.bias", "1.weight", "1.bias"]);
  assert.deepEqual(result.unexpectedKeys, ["1.gamma"]);
  assert.equal((model.at(0) as Linear).weight.min().item(), 1);
});

Deno.test("loadStateDict() works while grad mode is on and records nothing", () => {
  const model = new Linear(2, 2);
  model.loadStateDict({ weight: ones([2, 2], { requiresGrad: true }).mul(3), bias: zeros([2]) });
  assert.ok(model.weight.isLeaf && model.weight.requiresGrad);
  assert.equal(model.weight.max().item(), 3);
});

Deno.test("Sequential applies its modules in order and indexes them", () => {
  const double = new (class extends Module {
    override forward(x: Tensor): Tensor {
      return x.mul(2);
    }
  })();
  const addOne = new (class extends Module {
    override forward(x: Tensor): Tensor {
      return x.add(1);
    }
  })();
  const model = new Sequential(double, addOne);
  assert.deepEqual([...model.forward(tensor([1, 2])).toArray()], [3, 5]);
  assert.equal(model.length, 2);
  assert.equal(model.at(-1), addOne);
  assert.deepEqual([...model], [double, addOne]);
  assert.throws(() => model.at(2), /index 2 is out of range for 2 modules/);
  model.append(new ReLU());
  assert.equal(model.namedChildren()[2][0], "2");
  const empty = new Sequential();
  const x = ones([2]);
  assert.equal(empty.forward(x), x);
});

Deno.test("an Embedding's parameters register like any other", () => {
  const model = new Sequential(new Embedding(5, 3), new Linear(3, 1));
  assert.deepEqual(model.namedParameters().map(([n]) => n), ["0.weight", "1.weight", "1.bias"]);
});
