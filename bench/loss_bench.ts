/**
 * Cross-entropy forward and backward: the fused op `crossEntropy` takes for logits
 * `[N, C]` and class indices, against the composition it replaced (`logSoftmax`, then
 * `nllLoss`), for a classifier's batch (128 x 10) and a wide one (256 x 1000).
 * Run: deno bench bench/loss_bench.ts (or deno task bench).
 */
import { crossEntropy, manualSeed, nllLoss, randint, randn, type Tensor, tidy } from "../mod.ts";

manualSeed(0);
for (const [n, c] of [[128, 10], [256, 1000]]) {
  const group = `crossEntropy ${n}x${c}, forward + backward`;
  const x = randn([n, c]), y = randint(0, c, [n], { dtype: "int32" });
  x.requiresGrad = true;
  const run = (loss: (x: Tensor) => Tensor) => () =>
    tidy(() => {
      x.grad = null;
      loss(x).backward();
      x.grad!.realize();
    });
  Deno.bench(
    { name: `logSoftmax + nllLoss ${n}x${c}`, group, baseline: true },
    run((x) => nllLoss(x.logSoftmax(1), y)),
  );
  Deno.bench({ name: `crossEntropy (fused) ${n}x${c}`, group }, run((x) => crossEntropy(x, y)));
}
