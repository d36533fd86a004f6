/**
 * Training steps at batch 256 on the main thread against `DataParallel` with its queue of
 * steps kept full (as the trainer runs it), in alternating blocks in one process, so that a noisy
 * machine's fast and slow phases fall on both alike: each round times one block of each, and
 * the rounds take every order that rotates them, forwards and backwards, equally often. The
 * speed-up printed first is the median of the rounds' ratios; the ratio of the medians
 * follows in parentheses. Random data of
 * Fashion-MNIST's shape; Adam; the trainer's models. Then, from `DataParallel.timings`, where
 * each worker's step went: compute, reduce, update and waiting at barriers, in milliseconds.
 *
 * The MLP's rounds start after 200 steps of each (the CNN's after 3), past the first steps,
 * when V8's compiler threads take the most time from the cores the workers need. With `-A` on
 * Linux, the script also prints what each kind of thread spent a step, on a core and waiting
 * for one, in the warm-up and in the measured rounds (from `/proc`, which Deno reads only
 * with every permission).
 *
 *   deno run -A bench/dp_steps.ts                           # the MLP, 1 and 2 workers
 *   deno run --allow-read bench/dp_steps.ts                 # the same, without the threads
 *   deno run --allow-read bench/dp_steps.ts cnn 2           # the CNN, 2 workers
 *   deno run --allow-read bench/dp_steps.ts mlp 1 2 4 8     # a bigger machine
 */
import { Adam, manualSeed } from "../mod.ts";
import { DataParallel, PHASES, type WorkerTimings } from "../parallel/mod.ts";
import { buildModel } from "../examples/lib/models.ts";
import { randomBatches, trainerStep } from "./trainer_step.ts";
import { type ThreadTime, threadTimes, threadTimesSince } from "./thread_cpu.ts";

const [model = "mlp", ...rest] = Deno.args;
if (model !== "mlp" && model !== "cnn") {
  throw new RangeError(`dp_steps: the model is mlp or cnn, got ${model}`);
}
const counts = rest.length > 0 ? rest.map(Number) : [1, 2];
if (counts.some((c) => !Number.isInteger(c) || c < 1)) {
  throw new RangeError(`dp_steps: worker counts are integers >= 1, got ${rest}`);
}
const BATCH = 256, SAMPLES = 4096;
// blocks of steps, at least this many rounds of blocks, and rounds to warm up: the CNN's steps
// are some 40 times the MLP's; an MLP block is long next to the queue that fills and drains
const [BLOCK, MIN_ROUNDS, WARM] = model === "mlp" ? [20, 15, 10] : [3, 5, 1];

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

/** Kinds of thread, by the names Deno and V8 give them. */
const THREAD_KINDS: [string, RegExp][] = [
  ["main", /^deno$/],
  ["workers", /^worker-/],
  ["V8 helpers", /^V8 /],
];

/** Milliseconds per step over one block: the main thread (`dp` null) or `dp`, queued. */
async function block(dp: DataParallel | null): Promise<number> {
  const start = performance.now();
  if (dp === null) { for (let i = 0; i < BLOCK; i++) mainStep(); }
  else {
    const queued: Promise<number>[] = [];
    for (let i = 0; i < BLOCK; i++) {
      queued.push(dp.step(nextBatch()));
      if (queued.length === dp.maxInFlight) await queued.shift();
    }
    await Promise.all(queued);
  }
  return (performance.now() - start) / BLOCK;
}

const runners = [null, ...pools];
// every order a round can take (each runner first once, forwards and backwards) equally often
const ORDERS = 2 * runners.length, ROUNDS = Math.ceil(MIN_ROUNDS / ORDERS) * ORDERS;
/** The runners in the order round `round` (>= 0) times them. */
function orderOf(round: number): number[] {
  const order = runners.map((_, j) => (j + round) % runners.length);
  return Math.floor(round / runners.length) % 2 === 0 ? order : order.reverse();
}
const times = runners.map(() => [] as number[]);
// time by kind of thread, summed over each runner's blocks: warm-up, then measured rounds
const threads = [0, 1].map(() => runners.map(() => new Map<string, ThreadTime>()));
let before: WorkerTimings[][] = [];
for (let round = -WARM; round < ROUNDS; round++) { // negative rounds warm up
  if (round === 0) before = pools.map((dp) => dp.timings());
  const ms = new Array<number>(runners.length);
  for (const k of orderOf(Math.max(round, 0))) {
    const was = threadTimes();
    ms[k] = await block(runners[k]);
    if (was !== null) {
      const into = threads[round < 0 ? 0 : 1][k];
      for (const [name, spent] of threadTimesSince(was)) {
        const kind = THREAD_KINDS.find(([, pattern]) => pattern.test(name))?.[0] ?? "other";
        const sum = into.get(kind) ?? { run: 0, queued: 0 };
        into.set(kind, { run: sum.run + spent.run, queued: sum.queued + spent.queued });
      }
    }
  }
  if (round >= 0) ms.forEach((t, k) => times[k].push(t));
}
const phases = pools.map((dp, k) =>
  dp.timings().map((t, r) => {
    const was = before[k][r], steps = t.steps - was.steps;
    return PHASES.map((p) => (t[p] - was[p]) / steps);
  })
);
for (const dp of pools) dp.close();

/** The median; the mean of the middle two for an even count (the rounds' count is even). */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b), mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
console.log(
  `${model}, batch 256, ${navigator.hardwareConcurrency} cores, ${ROUNDS} rounds: median ms ` +
    `per step, the median of the rounds' speed-ups (and the ratio of the medians)`,
);
console.log(`  main thread  ${median(times[0]).toFixed(2)} ms`);
counts.forEach((workers, k) => {
  const ms = median(times[k + 1]);
  const ratio = median(times[0].map((main, round) => main / times[k + 1][round]));
  console.log(
    `  ${String(workers).padStart(2)} worker(s)  ${ms.toFixed(2)} ms  ${ratio.toFixed(2)}x ` +
      `(${(median(times[0]) / ms).toFixed(2)}x)`,
  );
});
// where a worker's step goes (means over the measured steps): a slow phase of the machine
// shows in compute, uneven workers in wait
console.log(`ms per step in each worker: ${PHASES.join(" / ")}`);
counts.forEach((workers, k) => {
  const rows = phases[k].map((row, r) => `w${r} ${row.map((v) => v.toFixed(2)).join("/")}`);
  console.log(`  ${String(workers).padStart(2)} worker(s)  ${rows.join("  ")}`);
});
// per step and kind of thread (Linux only): time on a core, and time ready to run but
// waiting for one: ready to run, behind the other threads of this process or of others.
if (threadTimes() === null) console.log("time by thread: Linux only, and it needs -A for /proc");
else {
  const kinds = [...THREAD_KINDS.map(([kind]) => kind), "other"];
  const steps = [WARM, ROUNDS].map((rounds) => rounds * BLOCK);
  console.log(`ms per step on a core (waiting for one) by thread: ${kinds.join(" / ")}`);
  runners.forEach((_, k) => {
    const label = k === 0 ? "main thread" : `${String(counts[k - 1]).padStart(2)} worker(s)`;
    const cells = [0, 1].map((m) =>
      kinds.map((kind) => {
        const t = threads[m][k].get(kind) ?? { run: 0, queued: 0 };
        return `${(t.run / steps[m]).toFixed(2)} (${(t.queued / steps[m]).toFixed(2)})`;
      }).join(" / ")
    );
    console.log(`  ${label.padStart(11)}  warm-up ${cells[0]}`);
    console.log(`  ${"".padStart(11)}  measured ${cells[1]}`);
  });
  // 1.00 would mean N workers cost no more core time for a batch than one: more means
  // fixed costs per worker step, or cores that slow each other down when all compute
  const one = counts.indexOf(1);
  if (one >= 0) {
    const core = (k: number) => threads[1][k + 1].get("workers")?.run ?? 0;
    const rows = counts.map((workers, k) => `${workers}: ${(core(k) / core(one)).toFixed(2)}`);
    console.log(`workers' time on a core per step, against 1 worker: ${rows.join(", ")}`);
  }
}
