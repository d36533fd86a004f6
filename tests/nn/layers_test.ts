/**
 * Layers and losses beyond the PyTorch fixtures: dropout statistics and seeding, shapes,
 * activations, the running-statistics rules of BatchNorm, and the errors each names.
 */
import assert from "node:assert/strict";
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  binaryCrossEntropyWithLogits,
  Conv2d,
  crossEntropy,
  Dropout,
  dropout,
  Embedding,
  Flatten,
  GELU,
  Generator,
  grad,
  huberLoss,
  l1Loss,
  LayerNorm,
  LeakyReLU,
  Linear,
  LogSoftmax,
  manualSeed,
  MaxPool2d,
  mseLoss,
  nllLoss,
  noGrad,
  ones,
  randn,
  type Reduction,
  ReLU,
  Sequential,
  Sigmoid,
  Softmax,
  Tanh,
  type Tensor,
  tensor,
  zeros,
} from "../../mod.ts";
import { fusedCrossEntropy } from "../../tensor/ops/cross_entropy.ts";
import { forEachDevice, values } from "../device.ts";

function ids(values: number[], shape?: number[]): Tensor {
  return tensor(values, { dtype: "int32", shape: shape ?? [values.length] });
}

Deno.test("Dropout keeps about 1 - p of the elements, scaled by 1 / (1 - p)", () => {
  manualSeed(0);
  const y = new Dropout(0.2).forward(ones([20000]));
  const values = new Set(y.toArray());
  assert.deepEqual([...values].sort(), [0, 1 / 0.8].sort());
  const kept = y.gt(0).mean().item();
  assert.ok(Math.abs(kept - 0.8) < 0.01, `kept fraction ${kept}`);
  assert.ok(Math.abs(y.mean().item() - 1) < 0.015, "the expectation is preserved");
});

Deno.test("Dropout passes gradients through the kept elements only", () => {
  manualSeed(1);
  const x = ones([100], { requiresGrad: true });
  const y = new Dropout(0.5).forward(x);
  y.sum().backward();
  assert.deepEqual([...x.grad!.toArray()], [...y.toArray()]);
});

Deno.test("Dropout masks are reproducible with manualSeed or a generator", () => {
  manualSeed(3);
  const a = new Dropout(0.5).forward(ones([64])).toArray();
  manualSeed(3);
  const b = new Dropout(0.5).forward(ones([64])).toArray();
  assert.deepEqual(a, b);
  const c = dropout(ones([64]), 0.5, { generator: new Generator(9) }).toArray();
  const d = dropout(ones([64]), 0.5, { generator: new Generator(9) }).toArray();
  assert.deepEqual(c, d);
});

Deno.test("Dropout with p = 0 is the identity and with p = 1 zeroes everything", () => {
  const x = randn([10]);
  assert.equal(new Dropout(0).forward(x), x);
  assert.equal(new Dropout(1).forward(x).abs().sum().item(), 0);
  assert.throws(() => new Dropout(1.5), /p must be a probability in \[0, 1\], got 1.5/);
  assert.throws(() => dropout(x, -0.1), RangeError);
});

Deno.test("Flatten merges the chosen dimensions", () => {
  const x = zeros([2, 3, 4, 5]);
  assert.deepEqual(new Flatten().forward(x).shape, [2, 60]);
  assert.deepEqual(new Flatten(0).forward(x).shape, [120]);
  assert.deepEqual(new Flatten(1, 2).forward(x).shape, [2, 12, 5]);
  assert.deepEqual(new Flatten(-2).forward(x).shape, [2, 3, 20]);
  assert.throws(() => new Flatten(2, 1).forward(x), /startDim/);
});

Deno.test("activation modules match the tensor methods", () => {
  const x = randn([3, 4]);
  const same = (a: Tensor, b: Tensor) => assert.deepEqual(a.toArray(), b.toArray());
  same(new ReLU().forward(x), x.relu());
  same(new GELU().forward(x), x.gelu());
  same(new GELU({ approximate: "tanh" }).forward(x), x.gelu("tanh"));
  same(new Tanh().forward(x), x.tanh());
  same(new Sigmoid().forward(x), x.sigmoid());
  same(new LeakyReLU().forward(x), x.leakyRelu(0.01));
  same(new LeakyReLU(0.3).forward(x), x.leakyRelu(0.3));
  same(new Softmax(0).forward(x), x.softmax(0));
  same(new Softmax().forward(x), x.softmax(-1));
  same(new LogSoftmax(1).forward(x), x.logSoftmax(1));
  assert.throws(() => new GELU({ approximate: "fast" as "tanh" }), /approximate must be/);
  assert.throws(() => new Softmax(0.5), RangeError);
});

Deno.test("Linear maps the last dimension and checks the input's", () => {
  const layer = new Linear(3, 2);
  assert.deepEqual(layer.forward(zeros([4, 5, 3])).shape, [4, 5, 2]);
  assert.deepEqual(layer.forward(zeros([3])).shape, [2]);
  assert.throws(() => layer.forward(zeros([4, 5])), /input \[4, 5\].*weight \[2, 3\]/);
  assert.throws(() => new Linear(2.5, 3), /inFeatures must be an integer/);
  assert.throws(() => new Linear(2, 3, { dtype: "int32" as "float32" }), /option dtype/);
  const noBias = new Linear(3, 2, { bias: false });
  assert.deepEqual(noBias.namedParameters().map(([n]) => n), ["weight"]);
  const x = randn([2, 3]);
  assert.deepEqual(noBias.forward(x).toArray(), x.matmul(noBias.weight.T).toArray());
});

Deno.test("Embedding looks up rows and accumulates the gradient of repeated ids", () => {
  const table = new Embedding(4, 2);
  const out = table.forward(ids([1, 3, 1]));
  assert.deepEqual(out.shape, [3, 2]);
  out.sum().backward();
  assert.deepEqual([...table.weight.grad!.toArray()], [0, 0, 2, 2, 0, 0, 1, 1]);
  assert.deepEqual(table.forward(ids([2], [])).shape, [2]);
  assert.throws(() => table.forward(tensor([1, 2])), /ids must be int32, got float32/);
  assert.throws(() => table.forward(ids([4])), /id 4 is out of range for 4 embeddings/);
  assert.throws(() => table.forward(ids([-1])), RangeError);
});

Deno.test("BatchNorm updates running mean and unbiased variance with momentum", () => {
  const bn = new BatchNorm1d(1, { momentum: 0.25 });
  bn.forward(tensor([[1], [3], [5], [7]]));
  // batch mean 4, unbiased variance 20 / 3
  assert.ok(Math.abs(bn.runningMean!.item() - 0.25 * 4) < 1e-6);
  assert.ok(Math.abs(bn.runningVar!.item() - (0.75 + 0.25 * 20 / 3)) < 1e-6);
});

Deno.test("BatchNorm with momentum null keeps a cumulative average of batch statistics", () => {
  const bn = new BatchNorm1d(1, { momentum: null });
  for (const batch of [[[0], [2]], [[4], [6]], [[8], [10]]]) bn.forward(tensor(batch));
  assert.ok(Math.abs(bn.runningMean!.item() - 5) < 1e-6); // mean of 1, 5, 9
  assert.ok(Math.abs(bn.runningVar!.item() - 2) < 1e-6); // each batch's unbiased var is 2
  assert.equal(bn.numBatchesTracked!.item(), 3);
  bn.resetRunningStats();
  assert.equal(bn.runningMean!.item(), 0);
  assert.equal(bn.runningVar!.item(), 1);
  assert.equal(bn.numBatchesTracked!.item(), 0);
});

Deno.test("BatchNorm without running statistics uses batch statistics in eval mode too", () => {
  const bn = new BatchNorm1d(2, { trackRunningStats: false }).eval();
  assert.equal(bn.runningMean, null);
  assert.equal(bn.buffers().length, 0);
  const y = bn.forward(randn([8, 2]).add(3));
  assert.ok(y.mean(0).abs().max().item() < 1e-5);
});

Deno.test("BatchNorm names wrong ranks, channel counts and single-value batches", () => {
  assert.throws(
    () => new BatchNorm1d(3).forward(zeros([2, 3, 4, 5])),
    /2-D or 3-D.*\[2, 3, 4, 5\]/,
  );
  assert.throws(() => new BatchNorm2d(3).forward(zeros([2, 3])), /4-D input, got \[2, 3\]/);
  assert.throws(
    () => new BatchNorm2d(3).forward(zeros([2, 4, 2, 2])),
    /\[2, 4, 2, 2\] has 4 channels in dimension 1, expected 3/,
  );
  assert.throws(() => new BatchNorm1d(3).forward(zeros([1, 3])), /more than 1 value per channel/);
  assert.deepEqual(new BatchNorm1d(3).eval().forward(zeros([1, 3])).shape, [1, 3]);
  assert.throws(() => new BatchNorm1d(3, { momentum: 2 }), /momentum must be in \[0, 1\] or null/);
  assert.throws(() => new BatchNorm1d(0), /numFeatures/);
});

Deno.test("LayerNorm normalises each sample and checks the trailing shape", () => {
  const ln = new LayerNorm([2, 3]);
  const y = ln.forward(randn([4, 2, 3]).mul(5).add(2));
  assert.ok(y.mean([1, 2]).abs().max().item() < 1e-5);
  assert.ok(y.var([1, 2], { unbiased: false }).sub(1).abs().max().item() < 1e-3);
  assert.throws(
    () => ln.forward(zeros([4, 3, 2])),
    /input \[4, 3, 2\] must end in normalizedShape \[2, 3\]/,
  );
  assert.throws(() => new LayerNorm([]), /must not be empty/);
  const plain = new LayerNorm(3, { elementwiseAffine: false });
  assert.equal(plain.parameters().length, 0);
});

const LOSSES: [string, (a: Tensor, b: Tensor, r: Reduction) => Tensor][] = [
  ["mseLoss", (a, b, reduction) => mseLoss(a, b, { reduction })],
  ["l1Loss", (a, b, reduction) => l1Loss(a, b, { reduction })],
  ["huberLoss", (a, b, reduction) => huberLoss(a, b, { reduction })],
  [
    "binaryCrossEntropyWithLogits",
    (a, b, reduction) => binaryCrossEntropyWithLogits(a, b, { reduction }),
  ],
];

for (const [name, loss] of LOSSES) {
  Deno.test(`${name}() names both shapes when input and target differ`, () => {
    assert.throws(
      () => loss(zeros([3, 4]), zeros([4, 3]), "mean"),
      (e: Error) => {
        assert.ok(e instanceof TypeError);
        assert.match(e.message, new RegExp(`^${name}: input \\[3, 4\\] and target \\[4, 3\\]`));
        return true;
      },
    );
  });

  Deno.test(`${name}() rejects an unknown reduction with a RangeError naming it`, () => {
    assert.throws(
      () => loss(zeros([2]), zeros([2]), "average" as Reduction),
      (e: Error) => {
        assert.ok(e instanceof RangeError);
        assert.match(e.message, /reduction must be "mean", "sum" or "none", got "average"/);
        return true;
      },
    );
  });
}

Deno.test("crossEntropy() and nllLoss() reject a bad reduction", () => {
  const r = { reduction: "avg" as Reduction };
  assert.throws(
    () => crossEntropy(zeros([2, 3]), ids([0, 1]), r),
    /crossEntropy: option reduction/,
  );
  assert.throws(() => nllLoss(zeros([2, 3]), ids([0, 1]), r), /nllLoss: option reduction/);
});

Deno.test("crossEntropy() names the shapes of a target that does not fit", () => {
  assert.throws(
    () => crossEntropy(zeros([4, 3]), ids([0, 1, 2])),
    /target \[3\] does not fit input \[4, 3\]; expected target \[4\]/,
  );
  assert.throws(
    () => crossEntropy(zeros([4, 3]), zeros([4, 2])),
    /probability target \[4, 2\] must have the input's shape \[4, 3\]/,
  );
  assert.throws(() => nllLoss(zeros([2, 3, 5]), ids([0, 1])), /target \[2\].*input \[2, 3, 5\]/);
});

Deno.test("crossEntropy() checks class indices, weights and labelSmoothing", () => {
  assert.throws(
    () => crossEntropy(zeros([2, 3]), ids([0, 3])),
    /target 3 is out of range for 3 classes/,
  );
  assert.throws(() => crossEntropy(zeros([2, 3]), ids([0, -1])), RangeError);
  assert.throws(
    () => crossEntropy(zeros([2, 3]), ids([0, 1]), { weight: ones([2]) }),
    /weight \[2\] must be \[3\]/,
  );
  assert.throws(
    () => crossEntropy(zeros([2, 3]), ids([0, 1]), { labelSmoothing: 1.5 }),
    /labelSmoothing must be in \[0, 1\]/,
  );
  assert.throws(() => crossEntropy(zeros([2, 3], { dtype: "int32" }), ids([0, 1])), TypeError);
});

Deno.test("crossEntropy() is stable for huge logits", () => {
  const logits = tensor([[1e4, 0, -1e4], [-1e4, 1e4, 0]], { requiresGrad: true });
  const loss = crossEntropy(logits, ids([0, 1]));
  assert.equal(loss.item(), 0);
  loss.backward();
  assert.ok(logits.grad!.toArray().every(Number.isFinite));
  const wrong = crossEntropy(logits, ids([2, 0]), { reduction: "none" });
  assert.deepEqual([...wrong.toArray()], [2e4, 2e4]);
});

Deno.test("binaryCrossEntropyWithLogits() is stable for huge logits", () => {
  const logits = tensor([1000, -1000, 1000, -1000], { requiresGrad: true });
  const loss = binaryCrossEntropyWithLogits(logits, tensor([1, 0, 0, 1]), { reduction: "none" });
  assert.deepEqual([...loss.toArray()], [0, 0, 1000, 1000]);
  loss.sum().backward();
  assert.deepEqual([...logits.grad!.toArray()], [0, 0, 1, -1]);
});

Deno.test("crossEntropy() with every target ignored gives NaN for the mean and zero gradients, as PyTorch does", () => {
  const x = zeros([2, 3], { requiresGrad: true });
  const loss = crossEntropy(x, ids([-100, -100]));
  assert.ok(Number.isNaN(loss.item()));
  loss.backward();
  assert.deepEqual([...x.grad!.toArray()], [0, 0, 0, 0, 0, 0]);
  assert.equal(crossEntropy(zeros([2, 3]), ids([-100, -100]), { reduction: "sum" }).item(), 0);
});

forEachDevice(
  "the losses with every target ignored give NaN and zero gradients, as PyTorch does",
  async (device) => {
    // PyTorch 1.13: nan for each loss below, and a gradient of zeros for every input
    const labels = (v: number[], shape = [v.length]) =>
      tensor(v, { dtype: "int32", shape, device });
    const cases: [string, number[], (x: Tensor) => Tensor][] = [
      ["fused crossEntropy", [2, 3], (x) => crossEntropy(x, labels([-100, -100]))],
      ["nllLoss", [2, 3], (x) => nllLoss(x, labels([-100, -100]))],
      [
        "crossEntropy [N, C, d]",
        [2, 3, 2],
        (x) => crossEntropy(x, labels([-1, -1, -1, -1], [2, 2]), { ignoreIndex: -1 }),
      ],
      [
        "crossEntropy with weights",
        [2, 3],
        (x) => crossEntropy(x, labels([-100, -100]), { weight: tensor([1, 2, 3], { device }) }),
      ],
      ["crossEntropy [C]", [3], (x) => crossEntropy(x, labels([-100], []))],
      [
        "crossEntropy with smoothing",
        [2, 3],
        (x) => crossEntropy(x, labels([-100, -100]), { labelSmoothing: 0.1 }),
      ],
    ];
    for (const [name, shape, loss] of cases) {
      const x = randn(shape, { device, requiresGrad: true });
      const l = loss(x);
      assert.ok(Number.isNaN((await values(l))[0]), name);
      l.backward();
      const g = await values(x.grad!);
      assert.ok(
        g.every((v) => v === 0),
        `${name}: ${g}`,
      );
    }
    // one counted target: an ordinary mean, and the ignored row's gradient is zero
    const x = randn([2, 3], { device, requiresGrad: true });
    const l = nllLoss(x, labels([-100, 2]));
    assert.equal((await values(l))[0], -(await values(x))[5]);
    l.backward();
    assert.deepEqual(await values(x.grad!), [0, 0, 0, 0, 0, -1]);
    // class weights that need a gradient get zero too when every target is ignored
    const w = tensor([1, 2, 3], { device, requiresGrad: true });
    crossEntropy(randn([2, 3], { device }), labels([-100, -100]), { weight: w }).backward();
    assert.deepEqual(await values(w.grad!), [0, 0, 0]);
    // counted targets whose weights sum to 0 still divide by 0, as in PyTorch 1.13:
    // nll_loss gives NaN at the targets, cross_entropy NaN everywhere
    const zero = tensor([0, 1, 1], { device });
    const y = randn([2, 3], { device, requiresGrad: true });
    const nll = nllLoss(y, labels([0, 0]), { weight: zero });
    assert.ok(Number.isNaN((await values(nll))[0]));
    nll.backward();
    assert.deepEqual((await values(y.grad!)).map(String), ["NaN", "0", "0", "NaN", "0", "0"]);
    const z = randn([2, 3], { device, requiresGrad: true });
    crossEntropy(z, labels([0, 0]), { weight: zero }).backward();
    assert.ok((await values(z.grad!)).every(Number.isNaN));
  },
);

Deno.test("crossEntropy() fuses the common case on the CPU, and agrees with logSoftmax and nllLoss", () => {
  manualSeed(11);
  const before = { ...fusedCrossEntropy };
  for (const dtype of ["float32", "float64"] as const) {
    const data = randn([7, 5], { dtype }).mul(3);
    const target = ids([4, -100, 0, 2, 2, 1, -100]);
    const [x, y] = [data.clone(), data.clone()];
    x.requiresGrad = y.requiresGrad = true;
    const fused = crossEntropy(x, target);
    const composed = nllLoss(y.logSoftmax(1), target);
    fused.backward();
    composed.backward();
    const tol = dtype === "float32" ? 1e-6 : 1e-12;
    assert.ok(Math.abs(fused.item() - composed.item()) <= tol * composed.item());
    const [gx, gy] = [x.grad!.toArray(), y.grad!.toArray()];
    gy.forEach((v, i) => assert.ok(Math.abs(gx[i] - v) <= tol, `${dtype} gradient ${i}`));
    assert.deepEqual([...gx.slice(5, 10)], [0, 0, 0, 0, 0]); // the ignored row
  }
  assert.equal(fusedCrossEntropy.forward - before.forward, 2);
  assert.equal(fusedCrossEntropy.backward - before.backward, 2);
  // weights, smoothing, other reductions and other ranks compose
  const x = randn([4, 3]);
  crossEntropy(x, ids([0, 1, 2, 0]), { weight: ones([3]) });
  crossEntropy(x, ids([0, 1, 2, 0]), { labelSmoothing: 0.1 });
  crossEntropy(x, ids([0, 1, 2, 0]), { reduction: "sum" });
  crossEntropy(x.reshape([2, 3, 2]), ids([0, 1, 2, 0], [2, 2]));
  assert.equal(fusedCrossEntropy.forward - before.forward, 2);
});

Deno.test("the fused crossEntropy gives the same first gradient with createGraph as without", () => {
  manualSeed(13);
  const cases: [number[], number][] = [[[2, -100, 0, 1, -100], 3], [
    [-100, -100, -100, -100, -100],
    1,
  ]];
  for (const [labels, factor] of cases) {
    const x = randn([5, 3], { dtype: "float64" });
    x.requiresGrad = true;
    const target = ids([7, ...labels], [6]).narrow(0, 1, 5); // labels from an offset
    const loss = () => crossEntropy(x, target).mul(factor);
    const [plain] = grad(loss(), [x]);
    const [graphed] = grad(loss(), [x], { createGraph: true });
    assert.ok(graphed.requiresGrad, "createGraph took the differentiable branch");
    const [p, q] = [plain.toArray(), graphed.toArray()];
    q.forEach((v, i) => assert.ok(Math.abs(v - p[i]) <= 1e-12, `${labels}: ${i}: ${v} vs ${p[i]}`));
    // the ignored rows are zero either way
    for (const r of labels.flatMap((l, r) => l === -100 ? [r] : [])) {
      assert.deepEqual([...q.slice(3 * r, 3 * r + 3)], [0, 0, 0]);
    }
  }
});

Deno.test("the fused crossEntropy reads strided logits and offset labels, and guards what it saved", () => {
  manualSeed(14);
  const labels = ids([9, 1, 0, 2, 0, 1, 9], [7]).narrow(0, 1, 5); // offset 1
  // [5, 3] views of a leaf: transposed, from a row offset, every other column
  const cases: [string, number[], (t: Tensor) => Tensor][] = [
    ["transposed", [3, 5], (t) => t.transpose(0, 1)],
    ["rows from an offset", [8, 3], (t) => t.narrow(0, 2, 5)],
    ["every other column", [5, 6], (t) => t.reshape([5, 3, 2]).select(2, 0)],
  ];
  for (const [what, shape, view] of cases) {
    const data = randn(shape);
    const [a, b] = [data.clone(), data.clone()];
    a.requiresGrad = b.requiresGrad = true;
    const fused = crossEntropy(view(a), labels);
    const composed = nllLoss(view(b).logSoftmax(1), labels);
    assert.ok(Math.abs(fused.item() - composed.item()) <= 1e-6, what);
    fused.backward();
    composed.backward();
    const [ga, gb] = [a.grad!.toArray(), b.grad!.toArray()];
    gb.forEach((v, i) => assert.ok(Math.abs(ga[i] - v) <= 1e-6, `${what}: gradient ${i}`));
  }
  const x = randn([5, 4]);
  x.requiresGrad = true;
  const loss = crossEntropy(x, labels);
  noGrad(() => x.mulInPlace(2));
  assert.throws(() => loss.backward(), /crossEntropy saved for backward was modified in place/);
});

Deno.test("huberLoss() needs a positive delta", () => {
  assert.throws(
    () => huberLoss(zeros([2]), zeros([2]), { delta: 0 }),
    /delta must be a positive number/,
  );
});

Deno.test("Conv2d draws weight and bias within ±1/√fanIn and names its parameters", () => {
  manualSeed(7);
  const conv = new Conv2d(8, 16, [3, 2], { groups: 2 });
  const bound = 1 / Math.sqrt((8 / 2) * 3 * 2);
  assert.deepEqual(conv.weight.shape, [16, 4, 3, 2]);
  assert.deepEqual(conv.bias!.shape, [16]);
  for (const p of conv.parameters()) {
    assert.ok(p.abs().max().item() <= bound);
  }
  assert.ok(conv.weight.abs().max().item() > 0.9 * bound);
  assert.deepEqual(conv.namedParameters().map(([n]) => n), ["weight", "bias"]);
  assert.deepEqual(conv.kernelSize, [3, 2]);
  assert.deepEqual(conv.stride, [1, 1]);
});

Deno.test("Conv2d checks its channels, groups and sizes", () => {
  assert.throws(
    () => new Conv2d(3, 4, 3, { groups: 2 }),
    /groups \(2\) must divide inChannels \(3\)/,
  );
  assert.throws(() => new Conv2d(3, 4, 0), /kernelSize must be an integer >= 1/);
  assert.throws(() => new Conv2d(3, 4, 3, { padding: -1 }), /padding/);
  assert.throws(() => new Conv2d(3, 4, 3).forward(zeros([1, 2, 5, 5])), /conv2d/);
});

Deno.test("pooling layers default their stride to the kernel size", () => {
  const x = randn([2, 3, 8, 8]);
  assert.deepEqual(new MaxPool2d(2).forward(x).shape, [2, 3, 4, 4]);
  assert.deepEqual(new AvgPool2d([2, 4]).forward(x).shape, [2, 3, 4, 2]);
  assert.deepEqual(new MaxPool2d(3, { stride: 1, padding: 1 }).forward(x).shape, [2, 3, 8, 8]);
  assert.throws(() => new AvgPool2d(2, { countIncludePad: 1 as unknown as boolean }), TypeError);
});

Deno.test("a small CNN runs forward and backward through every parameter", () => {
  manualSeed(8);
  const model = new Sequential(
    new Conv2d(1, 4, 3, { padding: 1 }),
    new BatchNorm2d(4),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(4, 8, 3, { padding: 1 }),
    new ReLU(),
    new AvgPool2d(2),
    new Flatten(),
    new Linear(8 * 2 * 2, 3),
  );
  const out = model.forward(randn([5, 1, 8, 8]));
  assert.deepEqual(out.shape, [5, 3]);
  crossEntropy(out, ids([0, 1, 2, 0, 1])).backward();
  for (const [name, p] of model.namedParameters()) {
    assert.ok(p.grad !== null && p.grad.abs().sum().item() > 0, `${name} got a gradient`);
  }
});
