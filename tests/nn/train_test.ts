/**
 * End to end: a small MLP trained with plain SGD (written inline; the optimizers live in
 * optim/) learns a synthetic two-class problem that no linear model separates.
 */
import assert from "node:assert/strict";
import {
  crossEntropy,
  Linear,
  manualSeed,
  noGrad,
  rand,
  ReLU,
  Sequential,
  type Tensor,
  tensor,
  tidy,
} from "../../mod.ts";

/** Points in [-1, 1]², labelled 1 inside the circle of radius 0.6 and 0 outside. */
function circles(n: number): { x: Tensor; y: Tensor } {
  const x = rand([n, 2]).mul(2).sub(1);
  const p = x.toArray();
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = p[2 * i] ** 2 + p[2 * i + 1] ** 2 < 0.36 ? 1 : 0;
  return { x, y: tensor(labels) };
}

function accuracy(logits: Tensor, y: Tensor): number {
  return logits.argmax(1).eq(y).to("float32").mean().item();
}

Deno.test("an MLP trained with SGD separates two classes with > 95% accuracy", () => {
  manualSeed(0);
  const train = circles(400), test = circles(400);
  const model = new Sequential(
    new Linear(2, 32),
    new ReLU(),
    new Linear(32, 32),
    new ReLU(),
    new Linear(32, 2),
  );
  const params = model.parameters();
  const lr = 0.5;
  const losses: number[] = [];
  for (let step = 0; step < 400; step++) {
    losses.push(tidy(() => {
      model.zeroGrad();
      const loss = crossEntropy(model.forward(train.x), train.y);
      loss.backward();
      noGrad(() => {
        for (const p of params) p.subInPlace(p.grad!.mul(lr));
      });
      return loss.item();
    }));
  }
  assert.ok(losses[losses.length - 1] < losses[0] / 4, `loss ${losses[0]} -> ${losses.at(-1)}`);
  const trainAcc = noGrad(() => accuracy(model.forward(train.x), train.y));
  const testAcc = noGrad(() => accuracy(model.forward(test.x), test.y));
  assert.ok(trainAcc > 0.95, `train accuracy ${trainAcc}`);
  assert.ok(testAcc > 0.9, `test accuracy ${testAcc}`);
});
