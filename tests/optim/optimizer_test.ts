/**
 * The Optimizer base class: gradient accumulation, parameter groups, state dicts,
 * zeroGrad, the parameters it accepts and how it writes them.
 */
import assert from "node:assert/strict";
import {
  Adagrad,
  Adam,
  AdamW,
  type Optimizer,
  type ParamGroupInput,
  RMSprop,
  SGD,
  type Tensor,
  tensor,
  zeros,
} from "../../mod.ts";
import { assertClose, jsonRoundTrip, throwsWith } from "./assert.ts";

/** A value typed as whatever a call wants: for tests of bad arguments. */
const bad = (value: unknown): never => value as never;

/** A fixed regression problem: 4 samples of 3 features, two micro-batches of 2. */
const X = [[1, 2, -1], [0.5, -1, 2], [-2, 0.25, 1], [1.5, 1, 0.5]];
const Y = [1, -1, 0.5, 2];

function loss(w: Tensor, rows: number[]): Tensor {
  const x = tensor(rows.map((r) => X[r]));
  const y = tensor(rows.map((r) => [Y[r]]));
  return x.matmul(w).sub(y).square().sum();
}

const MAKERS: [string, (params: Tensor[] | ParamGroupInput[]) => Optimizer][] = [
  ["Adam", (p) => new Adam(p, { lr: 0.05, amsgrad: true, weightDecay: 0.01 })],
  ["AdamW", (p) => new AdamW(p, { lr: 0.05 })],
  ["SGD", (p) => new SGD(p, { lr: 0.01, momentum: 0.9, nesterov: true })],
  ["RMSprop", (p) => new RMSprop(p, { lr: 0.01, momentum: 0.5, centered: true })],
  ["Adagrad", (p) => new Adagrad(p, { lr: 0.1, lrDecay: 0.01 })],
];

Deno.test("two backward() calls then one step equal one step on the summed loss", () => {
  for (const [name, make] of MAKERS) {
    const a = tensor([[0.1], [-0.2], [0.3]], { requiresGrad: true });
    const b = tensor([[0.1], [-0.2], [0.3]], { requiresGrad: true });
    const optA = make([a]), optB = make([b]);
    for (let step = 0; step < 3; step++) {
      optA.zeroGrad();
      loss(a, [0, 1]).backward();
      loss(a, [2, 3]).backward();
      optA.step();
      optB.zeroGrad();
      loss(b, [0, 1]).add(loss(b, [2, 3])).backward();
      optB.step();
    }
    assertClose(a.toArray(), b.toArray(), `${name} accumulated`, 1e-6, 1e-7);
  }
});

Deno.test("parameter groups keep their own learning rates and options", () => {
  const a = tensor([1, 1], { requiresGrad: true });
  const b = tensor([1, 1], { requiresGrad: true });
  const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01, weightDecay: 1 }], { lr: 0.1 });
  assert.equal(opt.paramGroups[0].lr, 0.1);
  assert.equal(opt.paramGroups[0].weightDecay, 0);
  assert.equal(opt.paramGroups[1].lr, 0.01);
  a.sum().backward();
  b.sum().backward();
  opt.step();
  assertClose(a.toArray(), [0.9, 0.9], "a", 1e-7); // 1 - 0.1 * 1
  assertClose(b.toArray(), [0.98, 0.98], "b", 1e-7); // 1 - 0.01 * (1 + 1 * 1)
  opt.paramGroups[1].lr = 0.5; // a scheduler (or the user) changes one group's rate
  opt.zeroGrad();
  b.sum().backward();
  opt.step();
  assertClose(b.toArray(), [0.98 - 0.5 * 1.98, 0.98 - 0.5 * 1.98], "b after lr change", 1e-6);
});

Deno.test("a second optimizer loaded from the first's stateDict continues identically", () => {
  for (const [name, make] of MAKERS) {
    const a = tensor([[0.1], [-0.2], [0.3]], { requiresGrad: true });
    const c = tensor([0.5, -0.5], { requiresGrad: true });
    const first = make([{ params: [a] }, { params: [c], lr: 0.02 }]);
    const run = (opt: Optimizer, w: Tensor, v: Tensor) => {
      opt.zeroGrad();
      loss(w, [0, 1, 2, 3]).add(v.square().sum()).backward();
      opt.step();
    };
    for (let i = 0; i < 4; i++) run(first, a, c);
    const saved = jsonRoundTrip(first.stateDict());
    const a2 = tensor(a.toArray(), { shape: [3, 1], requiresGrad: true });
    const c2 = tensor(c.toArray(), { requiresGrad: true });
    const second = make([{ params: [a2] }, { params: [c2] }]);
    second.loadStateDict(saved);
    assert.equal(second.paramGroups[1].lr, 0.02, `${name}: group options come back`);
    for (let i = 0; i < 4; i++) {
      run(first, a, c);
      run(second, a2, c2);
    }
    assert.deepEqual([...a2.toArray()], [...a.toArray()], `${name}: a`);
    assert.deepEqual([...c2.toArray()], [...c.toArray()], `${name}: c`);
  }
});

Deno.test("stateDict() copies the state and refers to parameters by index", () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3], { requiresGrad: true });
  const opt = new Adam([{ params: [a] }, { params: [b], betas: [0.5, 0.6] }]);
  b.sum().backward(); // only b has a gradient: only b gets state
  opt.step();
  const sd = opt.stateDict();
  assert.deepEqual(Object.keys(sd.state), ["1"]);
  assert.deepEqual(sd.paramGroups.map((g) => g.params), [[0], [1]]);
  assert.deepEqual(sd.paramGroups[1].betas, [0.5, 0.6]);
  const m = sd.state[1].m as Float32Array;
  m[0] = 123; // a copy: the optimizer's own state is untouched
  assert.notEqual(opt.state.get(b)!.m[0], 123);
  (sd.paramGroups[1].betas as number[])[0] = 0;
  assert.equal(opt.paramGroups[1].betas[0], 0.5);
});

Deno.test("loadStateDict() rejects a state dict of another shape of optimizer", () => {
  const make = () => new SGD([tensor([1, 2], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
  const opt = make();
  opt.paramGroups[0].params[0].sum().backward();
  opt.step();
  const sd = opt.stateDict();
  const twoGroups = new SGD([{ params: [zeros([2], { requiresGrad: true })] }, {
    params: [zeros([2], { requiresGrad: true })],
  }], { lr: 0.1 });
  throwsWith(() => twoGroups.loadStateDict(sd), RangeError, "1 parameter group", "2");
  const bigger = new SGD([zeros([3], { requiresGrad: true })], { lr: 0.1 });
  throwsWith(() => bigger.loadStateDict(sd), RangeError, "momentumBuffer", "2 elements", "3");
  const twoParams = new SGD([zeros([2], { requiresGrad: true }), zeros([2])], { lr: 0.1 });
  throwsWith(() => twoParams.loadStateDict(sd), RangeError, "group 0", "1 parameter", "2");
  throwsWith(
    () => make().loadStateDict({ ...sd, paramGroups: [{ ...sd.paramGroups[0], lr: -1 }] }),
    RangeError,
    "SGD: lr must be >= 0, got -1",
  );
});

Deno.test("zeroGrad() zeroes gradients in place, or drops them with setToNone", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const opt = new SGD([w], { lr: 0.1 });
  w.mul(3).sum().backward();
  const grad = w.grad!;
  opt.zeroGrad();
  assert.equal(w.grad, grad, "the same buffer is kept");
  assert.deepEqual([...grad.toArray()], [0, 0]);
  w.mul(2).sum().backward();
  assert.deepEqual([...w.grad!.toArray()], [2, 2]);
  opt.zeroGrad({ setToNone: true });
  assert.equal(w.grad, null);
  opt.zeroGrad(); // nothing to do without gradients
});

Deno.test("zeroGrad() detaches a gradient that was built with createGraph", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  w.square().sum().backward({ createGraph: true });
  assert.ok(w.grad!.requiresGrad);
  const opt = new SGD([w], { lr: 0.1 });
  opt.zeroGrad();
  assert.ok(!w.grad!.requiresGrad);
  assert.deepEqual([...w.grad!.toArray()], [0, 0]);
});

Deno.test("step() skips parameters without a gradient and creates no state for them", () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4], { requiresGrad: true });
  const opt = new Adam([a, b], { lr: 0.1 });
  a.sum().backward();
  opt.step();
  assert.deepEqual([...b.toArray()], [3, 4]);
  assert.ok(opt.state.has(a) && !opt.state.has(b));
});

Deno.test("step() returns the closure's loss, called before the update", () => {
  const w = tensor([2], { requiresGrad: true });
  const opt = new SGD([w], { lr: 0.25 });
  const result = opt.step(() => {
    opt.zeroGrad();
    const l = w.square().sum();
    l.backward();
    return l.item();
  });
  assert.equal(result, 4);
  assert.equal(w.item(), 1);
  assert.equal(opt.step(), undefined);
});

Deno.test("step() bumps the parameter's version so a stale graph is detected", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const opt = new SGD([w], { lr: 0.1 });
  w.sum().backward();
  const before = w.version;
  const y = w.mul(w); // saves w for backward
  opt.step();
  assert.ok(w.version > before);
  assert.throws(() => y.sum().backward(), /modified|version|in place/i);
});

Deno.test("step() updates a strided parameter (a transposed leaf) like a packed one", () => {
  const base = tensor([[1, 2, 3], [4, 5, 6]]);
  const strided = base.T.detach();
  strided.requiresGrad = true;
  assert.ok(!strided.isContiguous);
  const packed = tensor([[1, 4], [2, 5], [3, 6]], { requiresGrad: true });
  const weights = tensor([[1, -1], [0.5, 2], [-3, 0.25]]);
  const optS = new Adam([strided], { lr: 0.1 }), optP = new Adam([packed], { lr: 0.1 });
  for (let i = 0; i < 3; i++) {
    for (const [w, opt] of [[strided, optS], [packed, optP]] as const) {
      opt.zeroGrad();
      w.mul(weights).square().sum().backward();
      opt.step();
    }
  }
  assert.deepEqual(strided.toNested(), packed.toNested());
  assert.deepEqual(base.toNested(), packed.T.toNested(), "written through to the storage");
});

Deno.test("step() updates a parameter that is an offset view and nothing around it", () => {
  const arena = tensor([9, 9, 1, 2, 3, 9]);
  const w = arena.narrow(0, 2, 3).detach();
  w.requiresGrad = true;
  assert.equal(w.offset, 2);
  const opt = new SGD([w], { lr: 0.5 });
  w.sum().backward();
  opt.step();
  assert.deepEqual([...arena.toArray()], [9, 9, 0.5, 1.5, 2.5, 9]);
});

Deno.test("float64 parameters get float64 state", () => {
  const w = tensor([1, 2], { dtype: "float64", requiresGrad: true });
  const opt = new RMSprop([w], { momentum: 0.9, centered: true });
  w.sum().backward();
  opt.step();
  const s = opt.state.get(w)!;
  for (const a of [s.squareAvg, s.momentumBuffer, s.gradAvg]) assert.ok(a instanceof Float64Array);
  assert.ok(opt.stateDict().state[0].squareAvg instanceof Float64Array);
});

Deno.test("options switched on after the first step start their buffers from zero", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const adam = new Adam([w]);
  w.sum().backward();
  adam.step();
  adam.paramGroups[0].amsgrad = true;
  adam.step();
  assert.ok(adam.state.get(w)!.vMax instanceof Float32Array);
  const sgd = new SGD([w], { lr: 0.1 });
  sgd.step();
  assert.equal(sgd.state.get(w)!.momentumBuffer, null);
  sgd.paramGroups[0].momentum = 0.9;
  sgd.step();
  assert.deepEqual([...sgd.state.get(w)!.momentumBuffer!], [1, 1], "set to the gradient");
});

Deno.test("optimizers run inside tidy() and keep their state and gradients", async () => {
  const { tidy } = await import("../../mod.ts");
  const w = tensor([1, 2], { requiresGrad: true });
  const opt = new Adam([w], { lr: 0.1 });
  for (let i = 0; i < 3; i++) {
    tidy(() => {
      opt.zeroGrad();
      w.square().sum().backward();
      opt.step();
    });
  }
  assert.ok(!w.grad!.isDisposed);
  assert.equal(opt.state.get(w)!.step, 3);
});

// ---- errors ----------------------------------------------------------------------------

const w0 = () => [zeros([2], { requiresGrad: true })];

Deno.test("each invalid hyper-parameter gets a RangeError naming it and its value", () => {
  const cases: [() => unknown, string][] = [
    [() => new Adam(w0(), { lr: -1 }), "Adam: lr must be >= 0, got -1"],
    [() => new Adam(w0(), { lr: NaN }), "Adam: lr must be >= 0, got NaN"],
    [() => new Adam(w0(), { eps: -1e-8 }), "Adam: eps must be >= 0, got -1e-8"],
    [() => new Adam(w0(), { betas: [1, 0.999] }), "Adam: betas[0] must be in [0, 1), got 1"],
    [() => new Adam(w0(), { betas: [0.9, -0.1] }), "Adam: betas[1] must be in [0, 1), got -0.1"],
    [() => new Adam(w0(), { weightDecay: -0.1 }), "Adam: weightDecay must be >= 0, got -0.1"],
    [() => new AdamW(w0(), { lr: -1 }), "AdamW: lr must be >= 0, got -1"],
    [() => new AdamW(w0(), { betas: [0.9, 1] }), "AdamW: betas[1] must be in [0, 1), got 1"],
    [() => new AdamW(w0(), { eps: -1 }), "AdamW: eps must be >= 0, got -1"],
    [() => new AdamW(w0(), { weightDecay: -1 }), "AdamW: weightDecay must be >= 0, got -1"],
    [() => new SGD(w0(), { lr: -0.1 }), "SGD: lr must be >= 0, got -0.1"],
    [() => new SGD(w0(), { lr: 0.1, momentum: -0.9 }), "SGD: momentum must be >= 0, got -0.9"],
    [() => new SGD(w0(), { lr: 0.1, weightDecay: -1 }), "SGD: weightDecay must be >= 0, got -1"],
    [
      () => new SGD(w0(), { lr: 0.1, nesterov: true }),
      "SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0, dampening 0",
    ],
    [
      () => new SGD(w0(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }),
      "SGD: nesterov needs momentum > 0 and dampening 0, got momentum 0.9, dampening 0.1",
    ],
    [() => new RMSprop(w0(), { lr: -1 }), "RMSprop: lr must be >= 0, got -1"],
    [() => new RMSprop(w0(), { alpha: -0.5 }), "RMSprop: alpha must be >= 0, got -0.5"],
    [() => new RMSprop(w0(), { eps: -1 }), "RMSprop: eps must be >= 0, got -1"],
    [() => new RMSprop(w0(), { momentum: -1 }), "RMSprop: momentum must be >= 0, got -1"],
    [() => new RMSprop(w0(), { weightDecay: -1 }), "RMSprop: weightDecay must be >= 0, got -1"],
    [() => new Adagrad(w0(), { lr: -1 }), "Adagrad: lr must be >= 0, got -1"],
    [() => new Adagrad(w0(), { lrDecay: -1 }), "Adagrad: lrDecay must be >= 0, got -1"],
    [() => new Adagrad(w0(), { weightDecay: -1 }), "Adagrad: weightDecay must be >= 0, got -1"],
    [
      () => new Adagrad(w0(), { initialAccumulatorValue: -1 }),
      "Adagrad: initialAccumulatorValue must be >= 0, got -1",
    ],
    [() => new Adagrad(w0(), { eps: -1 }), "Adagrad: eps must be >= 0, got -1"],
    [
      () => new Adam([{ params: w0(), lr: -2 }], { lr: 0.1 }),
      "Adam: lr must be >= 0, got -2",
    ],
  ];
  for (const [fn, message] of cases) throwsWith(fn, RangeError, message);
});

Deno.test("a hyper-parameter of the wrong type gets a TypeError naming it", () => {
  throwsWith(() => new Adam(w0(), bad({ lr: "0.1" })), TypeError, "Adam: lr must be a number");
  throwsWith(() => new Adam(w0(), bad({ betas: 0.9 })), TypeError, "Adam: betas must be an array");
  throwsWith(() => new Adam(w0(), bad({ amsgrad: 1 })), TypeError, "Adam: amsgrad must be true");
  throwsWith(() => new SGD(w0(), bad({})), TypeError, "SGD: lr is required");
  throwsWith(() => new SGD(w0(), bad({ lr: 0.1, nesterov: "yes" })), TypeError, "nesterov");
  throwsWith(
    () => new Adam(w0(), bad({ weight_decay: 0.1 })),
    TypeError,
    "Adam: unknown option weight_decay",
    "weightDecay",
  );
});

Deno.test("parameters that are not floating leaf tensors get a TypeError", () => {
  const ints = zeros([2], { dtype: "int32" });
  throwsWith(() => new Adam([ints]), TypeError, "Adam", "dtype int32", "floating");
  const leaf = zeros([2], { requiresGrad: true });
  throwsWith(() => new SGD([leaf.mul(2)], { lr: 1 }), TypeError, "SGD", "not a leaf");
  throwsWith(() => new Adam([leaf, bad(3)]), TypeError, "Adam: parameter 1", "not a Tensor");
  throwsWith(() => new Adam(bad(leaf)), TypeError, "Adam: params must be an array");
  throwsWith(() => new Adam([]), TypeError, "Adam: got an empty parameter list");
  throwsWith(() => new Adam([leaf, leaf]), TypeError, "appears more than once");
  const opt = new Adam([leaf]);
  throwsWith(() => opt.addParamGroup({ params: [leaf] }), TypeError, "appears more than once");
  const gone = zeros([2]);
  gone.dispose();
  throwsWith(() => new Adam([gone]), TypeError, "disposed");
});

Deno.test("step() rejects a gradient whose shape differs from its parameter's", () => {
  const w = zeros([2, 2], { requiresGrad: true });
  const opt = new Adam([w]);
  w.grad = zeros([4]);
  throwsWith(() => opt.step(), TypeError, "Adam", "[4]", "[2, 2]");
});

Deno.test("groups do not share option arrays with each other or the defaults", () => {
  const opt = new Adam([{ params: [zeros([1], { requiresGrad: true })] }, {
    params: [zeros([1], { requiresGrad: true })],
  }]);
  opt.paramGroups[0].betas[0] = 0.5;
  assert.equal(opt.paramGroups[1].betas[0], 0.9);
  assert.equal(opt.defaults.betas[0], 0.9);
});
