/**
 * One training step of the Fashion-MNIST MLP (784-256-128-10, ReLU, softmax cross-entropy,
 * batch 128): forward, backward and a plain SGD update, on one thread. Samples/s is
 * 128 / the median. Run: deno bench bench/mlp_bench.ts
 */
import { type Tensor, tidy } from "../mod.ts";
import { makeMlp, mlpStep } from "./mlp.ts";

const batch = 128;
const { params, x, y } = makeMlp(batch);

Deno.bench({ name: "MLP 784-256-128-10 step, batch 128", group: "mlp", baseline: true }, () => {
  tidy(() => mlpStep(params, x, y, 0.01));
});

Deno.bench({ name: "MLP forward only, batch 128", group: "mlp" }, () => {
  tidy(() => {
    const logits: Tensor = forwardOnly();
    return logits.sum().item();
  });
});

function forwardOnly(): Tensor {
  const [w1, b1, w2, b2, w3, b3] = params;
  return x.matmul(w1.T).add(b1).relu().matmul(w2.T).add(b2).relu().matmul(w3.T).add(b3);
}
