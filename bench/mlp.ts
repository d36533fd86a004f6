/**
 * The MLP used by the step benchmark and the memory test: parameters laid out as
 * PyTorch's nn.Linear ([out, in] weights, uniform ±1/sqrt(fan_in)), ReLU, and a mean
 * softmax cross-entropy written with tensor ops.
 */
import { manualSeed, noGrad, rand, randint, type Tensor } from "../mod.ts";

/** The six parameters and one random batch of 784-pixel inputs with int32 labels. */
export function makeMlp(batch: number): { params: Tensor[]; x: Tensor; y: Tensor } {
  manualSeed(0);
  const sizes = [784, 256, 128, 10];
  const params: Tensor[] = [];
  for (let i = 0; i + 1 < sizes.length; i++) {
    const bound = 1 / Math.sqrt(sizes[i]);
    for (const shape of [[sizes[i + 1], sizes[i]], [sizes[i + 1]]]) {
      const p = noGrad(() => rand(shape).mul(2 * bound).sub(bound));
      p.requiresGrad = true;
      params.push(p);
    }
  }
  return { params, x: rand([batch, 784]), y: randint(0, 10, [batch]) };
}

/** Forward, backward and `p -= lr * grad`; returns the loss. */
export function mlpStep(params: Tensor[], x: Tensor, y: Tensor, lr: number): number {
  const [w1, b1, w2, b2, w3, b3] = params;
  const h1 = x.matmul(w1.T).add(b1).relu();
  const h2 = h1.matmul(w2.T).add(b2).relu();
  const logits = h2.matmul(w3.T).add(b3);
  const loss = logits.logSoftmax(-1).gather(1, y.unsqueeze(1)).mean().neg();
  for (const p of params) if (p.grad) noGrad(() => p.grad!.zeroInPlace());
  loss.backward();
  noGrad(() => {
    for (const p of params) p.subInPlace(p.grad!.mul(lr));
  });
  return loss.item();
}
