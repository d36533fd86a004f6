/**
 * One Adam step on a 10M-element float32 parameter, and on as many as the trainer's MLP
 * has: through `Adam.step()` against a plain fused loop with the same math over the same
 * kind of arrays (the baseline). The optimizer
 * should cost no more than its element loop: target within 1.2x of the baseline.
 * Run: deno run --allow-read=. bench/medians.ts bench/adam_bench.ts
 */
import { Adam, rand, randn } from "../mod.ts";

/** A group comparing `Adam.step()` with a plain loop of the same math, on `n` elements. */
function group(n: number, name: string): void {
  const w = randn([n], { requiresGrad: true });
  w.grad = randn([n]).mul(0.01);
  w.grad.realize();
  const opt = new Adam([w], { lr: 1e-3 });
  opt.step(); // create the state outside the timing

  const p = rand([n]).data as Float32Array;
  const g = (w.grad.data as Float32Array).slice();
  const m = new Float32Array(n), v = new Float32Array(n);
  let t = 0;

  Deno.bench({ name: "plain fused loop", group: name, baseline: true }, () => {
    t++;
    const lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
    const stepSize = lr / (1 - beta1 ** t);
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    for (let i = 0; i < n; i++) {
      const gi = g[i];
      const mi = beta1 * m[i] + (1 - beta1) * gi;
      const vi = beta2 * v[i] + (1 - beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] -= stepSize * (mi / (Math.sqrt(vi) / bc2Sqrt + eps));
    }
  });

  Deno.bench({ name: "new Adam([p]).step()", group: name }, () => {
    opt.step();
  });
}

group(10_000_000, "Adam step, 10M float32 elements (28n bytes moved)");
// the trainer's MLP (784-256-128-10): state that stays in cache, so arithmetic decides
group(235_146, "Adam step, the MLP's 235,146 float32 elements");
