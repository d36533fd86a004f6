/**
 * The MLP's forward and backward (784-256-128-10) at batch 32, 64, 128 and 256 on one
 * thread, the sizes interleaved: how far a batch's cost is from proportional to its size,
 * which bounds what splitting a batch across workers can gain.
 *
 * Run: deno run --allow-read bench/batch_scaling.ts
 */
import { crossEntropy, manualSeed, randint, randn, tidy } from "../mod.ts";
import { buildModel } from "../examples/lib/models.ts";

manualSeed(0);
const model = buildModel("mlp", [1, 28, 28], 10);
const sizes = [32, 64, 128, 256];
const batches = sizes.map((b) => ({ x: randn([b, 1, 28, 28]), y: randint(0, 10, [b]) }));
const step = (i: number) =>
  tidy(() => {
    model.zeroGrad(); // in place, as the trainer does (see parallel_program.ts)
    crossEntropy(model.forward(batches[i].x), batches[i].y).backward();
  });

for (let i = 0; i < sizes.length; i++) for (let r = 0; r < 10; r++) step(i);
const times = sizes.map(() => [] as number[]);
for (let r = 0; r < 30; r++) {
  for (let i = 0; i < sizes.length; i++) {
    const start = performance.now();
    step(i);
    times[i].push(performance.now() - start);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const full = median(times[sizes.length - 1]);
for (let i = 0; i < sizes.length; i++) {
  const t = median(times[i]);
  console.log(
    `batch ${String(sizes[i]).padStart(3)}: ${t.toFixed(2)} ms, ` +
      `${(t / full).toFixed(2)} of batch 256 (proportional: ${(sizes[i] / 256).toFixed(2)})`,
  );
}
