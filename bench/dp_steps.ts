/**
 * Training steps at batch 256 on the main thread against `DataParallel` with one step
 * queued (as the trainer runs it), in alternating blocks in one process, so that a noisy
 * machine's fast and slow phases fall on both alike. Random data of Fashion-MNIST's shape;
 * Adam; the trainer's models. Then, from `DataParallel.timings`, where each worker's step
 * went: compute, reduce, update and waiting at barriers, in milliseconds a step.
 *
 *   deno run --allow-read bench/dp_steps.ts                 # the MLP, 1 and 2 workers
 *   deno run --allow-read bench/dp_steps.ts cnn 2           # the CNN, 2 workers
 *   deno run --allow-read bench/dp_steps.ts mlp 1 2 4 8     # a bigger machine
 */
import { Adam, manualSeed } from "../mod.ts";
import { DataParallel, PHASES, type WorkerTimings } from "../parallel/mod.ts";
import { buildModel } from "../examples/lib/models.ts";
import { randomBatches, trainerStep } from "./trainer_step.ts";

const [model = "mlp", ...rest] = Deno.args;
if (model !== "mlp" && model !== "cnn") {
  throw new RangeError(`dp_steps: the model is mlp or cnn, got ${model}`);
}
const counts = rest.length > 0 ? rest.map(Number) : [1, 2];
if (counts.some((c) => !Number.isInteger(c) || c < 1)) {
  throw new RangeError(`dp_steps: worker counts are integers >= 1, got ${rest}`);
}
const BATCH = 256, SAMPLES = 4096;
// blocks of steps, and rounds of blocks: the CNN's steps are some 40 times the MLP's
const [BLOCK, ROUNDS] = model === "mlp" ? [10, 12] : [3, 5];

manualSeed(0);
const { x, y, dataset, next: nextBatch } = randomBatches(SAMPLES, BATCH);
const net = buildModel(model, [1, 28, 28], 10);
const optimizer = new Adam(net.parameters(), { lr: 1e-3 });
const mainStep = () => trainerStep(net, optimizer, dataset, nextBatch());

const MODELS = new URL("../examples/lib/models.ts", import.meta.url).href;
const pools = await Promise.all(counts.map((workers) =>
  DataParallel.create({
    workers,
    model: { module: MODELS, export: "buildModel", args: [model, [1, 28, 28], 10] },
    optimizer: "adam",
    optimizerOptions: { lr: 1e-3 },
    x,
    y,
    inputShape: [1, 28, 28],
    batchSize: BATCH,
  })
));

/** Milliseconds per step over one block: the main thread (`dp` null) or `dp`, queued. */
async function block(dp: DataParallel | null): Promise<number> {
  const start = performance.now();
  if (dp === null) { for (let i = 0; i < BLOCK; i++) mainStep(); }
  else {
    let queued: Promise<number> | null = null;
    for (let i = 0; i < BLOCK; i++) {
      const next = dp.step(nextBatch());
      if (queued !== null) await queued;
      queued = next;
    }
    await queued;
  }
  return (performance.now() - start) / BLOCK;
}

const runners = [null, ...pools];
const times = runners.map(() => [] as number[]);
let before: WorkerTimings[][] = [];
for (let round = -1; round < ROUNDS; round++) { // round -1 warms up
  if (round === 0) before = pools.map((dp) => dp.timings());
  for (const [k, dp] of runners.entries()) {
    const ms = await block(dp);
    if (round >= 0) times[k].push(ms);
  }
}
const phases = pools.map((dp, k) =>
  dp.timings().map((t, r) => {
    const was = before[k][r], steps = t.steps - was.steps;
    return PHASES.map((p) => (t[p] - was[p]) / steps);
  })
);
for (const dp of pools) dp.close();

const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
const main = median(times[0]);
console.log(`${model}, batch 256, ${navigator.hardwareConcurrency} cores: median ms per step`);
console.log(`  main thread  ${main.toFixed(2)} ms`);
counts.forEach((workers, k) => {
  const ms = median(times[k + 1]);
  console.log(
    `  ${String(workers).padStart(2)} worker(s)  ${ms.toFixed(2)} ms  ${(main / ms).toFixed(2)}x`,
  );
});
// where a worker's step goes (means over the measured steps): a slow phase of the machine
// shows in compute, uneven workers in wait
console.log(`ms per step in each worker: ${PHASES.join(" / ")}`);
counts.forEach((workers, k) => {
  const rows = phases[k].map((row, r) => `w${r} ${row.map((v) => v.toFixed(2)).join("/")}`);
  console.log(`  ${String(workers).padStart(2)} worker(s)  ${rows.join("  ")}`);
});
