/**
 * The parallel building blocks, each against its single-thread baseline:
 *
 * - barrier round trip: a no-op command through the control block (Atomics) against a
 *   message to a worker and back (postMessage), one worker;
 * - reduce-scatter of two 10M-float buffers (120 MB read and written): one worker
 *   against two;
 * - a sharded Adam step on 10M parameters: one worker against two;
 * - matmul 1024 x 1024 x 1024: one thread against the main thread and one worker;
 * - an MLP training step (784-256-128-10, batch 256, Adam): the main thread alone
 *   (gathering its batch as the trainer does) against DataParallel on one and on two
 *   workers, each step awaited before the next is posted, and with the queue of steps kept
 *   full as the trainer runs them; samples/s is 256 / the time;
 * - the control: the MLP's forward and backward on 128 samples, one worker against two
 *   at once with no collective (1.00x: the machine gave each worker a free core), and the
 *   same for small matmuls that stay in cache (arithmetic alone).
 *
 * Workers read modules from disk:
 *
 *   deno bench --allow-read bench/parallel_bench.ts
 *   deno bench --allow-read bench/parallel_bench.ts -- 1 2 4 8   # worker counts for the
 *                                       # matmul, MLP and control groups (default 1 2)
 *
 * Without read permission (plain `deno task bench`) the entries are skipped. Pools close
 * themselves after 3 s without use, so the run ends when the benchmarks do.
 */
import { Adam, manualSeed, randn, tidy } from "../mod.ts";
import { DataParallel, ParallelMatmul, WorkerPool } from "../parallel/mod.ts";
import { setMatmulExecutor } from "../tensor/cpu/matmul.ts";
import { buildModel } from "../examples/lib/models.ts";
import { ADAM, type BenchInit, COMPUTE, KERNEL, REDUCE } from "./parallel_program.ts";
import { randomBatches, trainerStep } from "./trainer_step.ts";

const allowed = Deno.permissions.querySync({ name: "read" }).state === "granted";
const ignore = !allowed;
const LENGTH = 10_000_000;

/** Something to close, created on first use and closed after 3 s idle (then re-created). */
function lazy<T extends { close(): void }>(create: () => Promise<T>): () => Promise<T> {
  let value: Promise<T> | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  return () => {
    clearTimeout(timer);
    value ??= create();
    const current = value;
    timer = setTimeout(() => {
      value = null;
      current.then((v) => v.close());
    }, 3000);
    return current;
  };
}

const shared: BenchInit = {
  buffers: new SharedArrayBuffer(allowed ? 8 * LENGTH : 0),
  adam: new SharedArrayBuffer(allowed ? 8 * LENGTH : 0),
  length: allowed ? LENGTH : 0,
};
if (allowed) new Float32Array(shared.buffers).fill(0.5);
if (allowed) new Float32Array(shared.adam).fill(0.25);

function benchPool(workers: number): () => Promise<WorkerPool> {
  return lazy(async () => {
    const pool = await WorkerPool.create({ workers });
    await pool.load(new URL("./parallel_program.ts", import.meta.url), shared);
    return pool;
  });
}
/** Worker counts of the matmul, MLP and control groups (the others use 1 and 2). */
const COUNTS = Deno.args.length > 0 ? Deno.args.map(Number) : [1, 2];
if (COUNTS.some((c) => !Number.isInteger(c) || c < 1)) {
  throw new RangeError(`parallel_bench: worker counts are integers >= 1, got ${Deno.args}`);
}
const poolOf = new Map([...new Set([1, 2, ...COUNTS])].map((w) => [w, benchPool(w)]));
const pools = [poolOf.get(1)!, poolOf.get(2)!];

Deno.bench(
  { name: "Atomics round trip (1 worker)", group: "barrier", baseline: true, ignore },
  async () => {
    await (await pools[0]()).run(0);
  },
);

Deno.bench({ name: "postMessage round trip (1 worker)", group: "barrier", ignore }, async () => {
  await (await pools[0]()).call("echo", 1);
});

for (const workers of [1, 2]) {
  Deno.bench({
    name: `reduce-scatter 2 x 10M floats, ${workers} worker(s)`,
    group: "reduce-scatter",
    baseline: workers === 1,
    ignore,
  }, async () => {
    await (await pools[workers - 1]()).run(REDUCE);
  });
}

for (const workers of [1, 2]) {
  Deno.bench({
    name: `sharded Adam step, 10M params, ${workers} worker(s)`,
    group: "adam",
    baseline: workers === 1,
    ignore,
  }, async () => {
    await (await pools[workers - 1]()).run(ADAM);
  });
}

manualSeed(0);
const a = randn([1024, 1024]), b = randn([1024, 1024]);
Deno.bench({ name: "matmul 1024, 1 thread", group: "matmul", baseline: true, ignore }, () => {
  const saved = setMatmulExecutor(null);
  tidy(() => a.matmul(b).realize());
  setMatmulExecutor(saved);
});

/** One ParallelMatmul at a time: each registers itself, and closing it restores the one before. */
let current: { workers: number; pm: Promise<ParallelMatmul> } | null = null;
async function parallelMatmul(workers: number): Promise<ParallelMatmul> {
  if (current?.workers !== workers) {
    if (current !== null) (await current.pm).close();
    current = { workers, pm: ParallelMatmul.create({ workers }) };
  }
  return current.pm;
}

for (const workers of COUNTS) {
  Deno.bench({
    name: `matmul 1024, ${workers + 1} threads (main + ${workers} worker(s))`,
    group: "matmul",
    ignore,
  }, async () => {
    await parallelMatmul(workers);
    tidy(() => a.matmul(b).realize());
  });
}

const BATCH = 256;
const { x, y, dataset, next: nextBatch } = randomBatches(4096, BATCH);
const MODEL = new URL("../examples/lib/models.ts", import.meta.url).href;
const model = buildModel("mlp", [1, 28, 28], 10);
const optimizer = new Adam(model.parameters(), { lr: 1e-3 });

Deno.bench(
  { name: "MLP step, batch 256, main thread", group: "mlp", baseline: true, ignore },
  () => {
    const idx = nextBatch();
    // one thread: the matmul group's ParallelMatmul stays registered for the whole process
    const saved = setMatmulExecutor(null);
    trainerStep(model, optimizer, dataset, idx);
    setMatmulExecutor(saved);
  },
);

/**
 * The steps a "queue kept full" bench posted and had not awaited when it ended: each bench
 * after it awaits them first (in its warm-up), so that they do not run under its timing.
 */
const inFlight: Promise<number>[] = [];
async function drained(): Promise<void> {
  while (inFlight.length > 0) await inFlight.shift();
}

for (const workers of COUNTS) {
  const dp = lazy(() =>
    DataParallel.create({
      workers,
      model: { module: MODEL, export: "buildModel", args: ["mlp", [1, 28, 28], 10] },
      optimizer: "adam",
      x,
      y,
      inputShape: [1, 28, 28],
      batchSize: BATCH,
    })
  );
  Deno.bench({
    name: `MLP step, batch 256, DataParallel ${workers} worker(s)`,
    group: "mlp",
    ignore,
  }, async () => {
    await drained();
    await (await dp()).step(nextBatch());
  });
  // as the trainer runs it: each iteration posts a step, then awaits the oldest once the
  // queue is full
  Deno.bench({
    name: `MLP step, batch 256, DataParallel ${workers} worker(s), queue kept full`,
    group: "mlp",
    ignore,
  }, async () => {
    const d = await dp(), next = d.step(nextBatch());
    next.catch(() => {}); // awaited in a later iteration, or by the next bench
    inFlight.push(next);
    if (inFlight.length === d.maxInFlight) await inFlight.shift();
  });
}

for (const workers of COUNTS) {
  Deno.bench({
    name: `control: forward + backward of 128 samples, ${workers} worker(s) at once`,
    group: "control",
    baseline: workers === COUNTS[0],
    ignore,
  }, async () => {
    await drained();
    await (await poolOf.get(workers)!()).run(COMPUTE);
  });
}

for (const workers of COUNTS) {
  Deno.bench({
    name: `control: 200 matmuls 64x64 in cache, ${workers} worker(s) at once`,
    group: "control (arithmetic)",
    baseline: workers === COUNTS[0],
    ignore,
  }, async () => {
    await (await poolOf.get(workers)!()).run(KERNEL);
  });
}
