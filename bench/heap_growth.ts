/**
 * How the WebAssembly heap grows under a training loop that never disposes: the MLP's
 * step (784-256-128-10, batch 128, Adam) without `tidy`, first yielding to the event loop
 * every 100 steps (finalizers then hand dropped buffers back), then never yielding.
 *
 * Run: deno run --allow-read bench/heap_growth.ts
 */
import { Adam, crossEntropy, manualSeed, memory, randint, randn } from "../mod.ts";
import { buildModel } from "../examples/lib/models.ts";

manualSeed(0);
const model = buildModel("mlp", [1, 28, 28], 10);
const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
const x = randn([128, 1, 28, 28]), y = randint(0, 10, [128], { dtype: "int32" });
const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

for (const yielding of [true, false]) {
  const start = memory().heapBytes;
  for (let step = 1; step <= 600; step++) {
    optimizer.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    optimizer.step();
    if (yielding && step % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const grown = memory().heapBytes - start;
  console.log(
    `${yielding ? "yielding every 100 steps" : "never yielding"}: the heap grew ${mib(grown)} ` +
      `over 600 steps (${(grown / 600 / 2 ** 20).toFixed(2)} MiB a step); ` +
      `heap ${mib(memory().heapBytes)}, pooled ${mib(memory().pooledBytes)}`,
  );
}
