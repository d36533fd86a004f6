/**
 * Every loss, and LayerNorm and BatchNorm in training mode, against central finite
 * differences in float64 (first order, and second order for a few), with respect to
 * every floating input: predictions, float targets, and norm weights and biases.
 */
import assert from "node:assert/strict";
import {
  batchNorm,
  BatchNorm1d,
  BatchNorm2d,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  gradcheck,
  gradgradcheck,
  huberLoss,
  l1Loss,
  LayerNorm,
  layerNorm,
  Linear,
  linear,
  manualSeed,
  mseLoss,
  nllLoss,
  rand,
  randn,
  type Reduction,
  type Tensor,
  tensor,
} from "../../mod.ts";

const F64 = { dtype: "float64" } as const;
const REDUCTIONS: Reduction[] = ["mean", "sum", "none"];

function rn(...shape: number[]): Tensor {
  return randn(shape, F64);
}

function ids(values: number[], shape?: number[]): Tensor {
  return tensor(values, { dtype: "int32", shape: shape ?? [values.length] });
}

/** Probabilities along dimension 1. */
function probs(...shape: number[]): Tensor {
  return randn(shape, F64).softmax(1).detach();
}

for (const reduction of REDUCTIONS) {
  Deno.test(`gradcheck: mseLoss (${reduction}) in input and target`, () => {
    manualSeed(1);
    assert.ok(gradcheck((x, t) => mseLoss(x, t, { reduction }), [rn(3, 4), rn(3, 4)]));
  });

  Deno.test(`gradcheck: l1Loss (${reduction}) in input and target`, () => {
    manualSeed(2);
    // differences kept away from the kink at zero
    const x = rn(3, 4), t = x.add(rand([3, 4], F64).add(0.2).mul(randn([3, 4], F64).sign()));
    assert.ok(gradcheck((a, b) => l1Loss(a, b, { reduction }), [x, t]));
  });

  Deno.test(`gradcheck: huberLoss (${reduction}) on both branches`, () => {
    manualSeed(3);
    const x = tensor([[0.3, -2.5, 1.2], [-0.1, 4, -0.6]], F64);
    const t = tensor([[0, 0, 0.4], [0.3, 1, 0.9]], F64);
    assert.ok(gradcheck((a, b) => huberLoss(a, b, { reduction, delta: 0.8 }), [x, t]));
  });

  Deno.test(`gradcheck: binaryCrossEntropyWithLogits (${reduction}) in logits and target`, () => {
    manualSeed(4);
    const posWeight = tensor([0.5, 2, 3], F64);
    assert.ok(
      gradcheck(
        (x, t) => binaryCrossEntropyWithLogits(x, t, { reduction, posWeight }),
        [rn(4, 3).mul(3), rand([4, 3], F64)],
      ),
    );
  });

  Deno.test(`gradcheck: nllLoss (${reduction}) with weights and an ignored target`, () => {
    manualSeed(5);
    const weight = tensor([0.5, 1, 2, 1.5], F64);
    const target = ids([3, -100, 0, 1, 2]);
    assert.ok(gradcheck((x) => nllLoss(x, target, { reduction, weight }), [rn(5, 4)]));
  });

  Deno.test(`gradcheck: crossEntropy (${reduction}) with weights, ignoring and smoothing`, () => {
    manualSeed(6);
    const weight = tensor([0.5, 1, 2, 1.5], F64);
    const target = ids([3, -100, 0, 1, 2]);
    const options = { reduction, weight, labelSmoothing: 0.2 };
    assert.ok(gradcheck((x) => crossEntropy(x, target, options), [rn(5, 4).mul(2)]));
  });

  Deno.test(`gradcheck: crossEntropy (${reduction}) with probability targets`, () => {
    manualSeed(7);
    const options = { reduction, weight: tensor([1, 2, 0.5], F64), labelSmoothing: 0.1 };
    assert.ok(gradcheck((x, t) => crossEntropy(x, t, options), [rn(4, 3), probs(4, 3)]));
  });
}

Deno.test("gradcheck and gradgradcheck: the fused crossEntropy, with an ignored target", () => {
  manualSeed(12);
  const target = ids([3, -100, 0, 1, 2]);
  assert.ok(gradcheck((x) => crossEntropy(x, target), [rn(5, 4).mul(2)]));
  assert.ok(gradgradcheck((x) => crossEntropy(x, target), [rn(5, 4)]));
});

Deno.test("gradcheck: crossEntropy over spatial dimensions and an unbatched input", () => {
  manualSeed(8);
  const target = ids([0, 2, 1, 1, 0, 2], [2, 3]);
  assert.ok(gradcheck((x) => crossEntropy(x, target), [rn(2, 3, 3)]));
  assert.ok(gradcheck((x) => crossEntropy(x, ids([2], [])), [rn(4)]));
});

Deno.test("gradgradcheck: mseLoss, crossEntropy and binaryCrossEntropyWithLogits", () => {
  manualSeed(9);
  assert.ok(gradgradcheck((x, t) => mseLoss(x, t), [rn(2, 3), rn(2, 3)]));
  assert.ok(gradgradcheck((x) => crossEntropy(x, ids([1, 0, 2])), [rn(3, 3)]));
  const t = rand([2, 3], F64);
  assert.ok(gradgradcheck((x) => binaryCrossEntropyWithLogits(x, t), [rn(2, 3)]));
});

Deno.test("gradcheck: layerNorm in input, weight and bias", () => {
  manualSeed(10);
  assert.ok(
    gradcheck(
      (x, w, b) => layerNorm(x, [4], { weight: w, bias: b }),
      [rn(3, 4).mul(2), rn(4), rn(4)],
    ),
  );
  assert.ok(
    gradcheck(
      (x, w, b) => layerNorm(x, [2, 3], { weight: w, bias: b, eps: 1e-3 }),
      [rn(2, 2, 3), rn(2, 3), rn(2, 3)],
    ),
  );
});

Deno.test("gradcheck: batchNorm in training mode in input, weight and bias", () => {
  manualSeed(11);
  const bn = (x: Tensor, w: Tensor, b: Tensor) =>
    batchNorm(x, null, null, { weight: w, bias: b, training: true });
  assert.ok(gradcheck(bn, [rn(6, 3).mul(2), rn(3), rn(3)]));
  assert.ok(gradcheck(bn, [rn(3, 2, 4), rn(2), rn(2)]));
  assert.ok(gradcheck(bn, [rn(2, 3, 2, 2), rn(3), rn(3)]));
});

Deno.test("gradcheck: batchNorm in evaluation mode is an affine map of the input", () => {
  manualSeed(12);
  const mean = rn(3), variance = rand([3], F64).add(0.5);
  assert.ok(
    gradcheck((x, w, b) => batchNorm(x, mean, variance, { weight: w, bias: b }), [
      rn(4, 3),
      rn(3),
      rn(3),
    ]),
  );
});

Deno.test("gradgradcheck: layerNorm and batchNorm in training mode", () => {
  manualSeed(13);
  assert.ok(gradgradcheck((x) => layerNorm(x, [3]), [rn(2, 3)]));
  assert.ok(gradgradcheck((x) => batchNorm(x, null, null, { training: true }), [rn(4, 2)]));
});

Deno.test("gradcheck: the LayerNorm, BatchNorm1d and BatchNorm2d modules in training mode", () => {
  manualSeed(14);
  const ln = new LayerNorm(4, { dtype: "float64" });
  assert.ok(gradcheck((x) => ln.forward(x), [rn(3, 4)]));
  const bn1 = new BatchNorm1d(3, { dtype: "float64" });
  assert.ok(gradcheck((x) => bn1.forward(x), [rn(5, 3)]));
  const bn2 = new BatchNorm2d(2, { dtype: "float64" });
  assert.ok(gradcheck((x) => bn2.forward(x), [rn(2, 2, 3, 3)]));
});

Deno.test("gradcheck: linear and the Linear module", () => {
  manualSeed(15);
  assert.ok(gradcheck((x, w, b) => linear(x, w, b), [rn(3, 4), rn(2, 4), rn(2)]));
  const layer = new Linear(4, 2, { dtype: "float64" });
  assert.ok(gradcheck((x) => layer.forward(x), [rn(2, 3, 4)]));
});
