import assert from "node:assert/strict";
import {
  Adagrad,
  Adam,
  AdamW,
  clipGradNorm,
  crossEntropy,
  manualSeed,
  type Module,
  mseLoss,
  type Optimizer,
  type OptimizerStateDict,
  randint,
  randn,
  RMSprop,
  SGD,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { DataParallel, type DataParallelOptions, WorkerError } from "../../parallel/mod.ts";
import { mlp } from "./programs/tiny_models.ts";
import { rejectsWith } from "./assert_error.ts";

const MODELS = new URL("./programs/tiny_models.ts", import.meta.url).href;
const SAMPLES = 24, FEATURES = 6, HIDDEN = 8, CLASSES = 3;

function data(): { x: Tensor; y: Tensor } {
  manualSeed(123);
  return { x: randn([SAMPLES, FEATURES]), y: randint(0, CLASSES, [SAMPLES]) };
}

/** Global batches that cover uneven splits: 8 over 3 workers is 3 + 3 + 2. */
const BATCHES = [[0, 1, 2, 3, 4, 5, 6, 7], [9, 3, 17, 22, 8, 11, 2], [23, 12, 5, 0, 19, 18, 7, 6]];

type Rule = "adam" | "adamw" | "sgd" | "rmsprop" | "adagrad";
const RULES: Record<Rule, { options: Record<string, unknown>; make: (p: Tensor[]) => Optimizer }> =
  {
    adam: { options: { lr: 0.01 }, make: (p) => new Adam(p, { lr: 0.01 }) },
    adamw: {
      options: { lr: 0.01, weightDecay: 0.1 },
      make: (p) => new AdamW(p, { lr: 0.01, weightDecay: 0.1 }),
    },
    sgd: {
      options: { lr: 0.1, momentum: 0.9 },
      make: (p) => new SGD(p, { lr: 0.1, momentum: 0.9 }),
    },
    rmsprop: {
      options: { lr: 0.01, centered: true },
      make: (p) => new RMSprop(p, { lr: 0.01, centered: true }),
    },
    adagrad: { options: { lr: 0.1 }, make: (p) => new Adagrad(p, { lr: 0.1 }) },
  };

/** Single-thread training on the same batches: the reference. */
function reference(rule: Rule, batches: number[][], maxGradNorm?: number) {
  const { x, y } = data();
  manualSeed(7);
  const model = mlp(FEATURES, HIDDEN, CLASSES);
  const optimizer = RULES[rule].make(model.parameters());
  const losses: number[] = [];
  for (const batch of batches) {
    const idx = tensor(batch, { dtype: "int32" });
    const loss = crossEntropy(model.forward(x.indexSelect(0, idx)), y.indexSelect(0, idx));
    optimizer.zeroGrad();
    loss.backward();
    if (maxGradNorm !== undefined) clipGradNorm(model.parameters(), maxGradNorm);
    optimizer.step();
    losses.push(loss.item());
  }
  return { model, optimizer, losses };
}

async function parallel(
  rule: Rule,
  workers: number,
  extra: Partial<DataParallelOptions> = {},
): Promise<DataParallel> {
  const { x, y } = data();
  manualSeed(7);
  return await DataParallel.create({
    workers,
    model: { module: MODELS, export: "mlp", args: [FEATURES, HIDDEN, CLASSES] },
    optimizer: rule,
    optimizerOptions: RULES[rule].options,
    x,
    y,
    batchSize: 8,
    timeoutMs: 20_000,
    ...extra,
  });
}

function values(model: Module): number[] {
  return model.parameters().flatMap((p) => [...p.toArray()]);
}

function assertClose(actual: number[], expected: number[], tol: number, what: string): void {
  assert.equal(actual.length, expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / (1 + Math.abs(expected[i])));
  }
  assert(worst <= tol, `${what}: largest difference ${worst} above ${tol}`);
}

Deno.test("DataParallel with one worker matches single-thread Adam bit for bit", async () => {
  const ref = reference("adam", BATCHES);
  await using dp = await parallel("adam", 1);
  const losses = [];
  for (const batch of BATCHES) losses.push(await dp.step(batch));
  assert.deepEqual(values(dp.model), values(ref.model));
  assert.deepEqual(losses, ref.losses);
});

for (const rule of ["adam", "adamw", "sgd", "rmsprop", "adagrad"] as const) {
  Deno.test(`DataParallel ${rule} on 2 and 3 workers matches single-thread training`, async () => {
    const ref = reference(rule, BATCHES);
    for (const workers of [2, 3]) {
      await using dp = await parallel(rule, workers);
      const losses = [];
      for (const batch of BATCHES) losses.push(await dp.step(batch));
      assertClose(values(dp.model), values(ref.model), 1e-5, `${rule}, ${workers} workers`);
      assertClose(losses, ref.losses, 1e-6, `${rule} losses, ${workers} workers`);
    }
  });
}

Deno.test("DataParallel clips by the global norm across shards", async () => {
  const ref = reference("sgd", BATCHES, 0.05);
  await using dp = await parallel("sgd", 2, { maxGradNorm: 0.05 });
  for (const batch of BATCHES) await dp.step(batch);
  assert(dp.lastGradNorm > 0.05, `the norm ${dp.lastGradNorm} should need clipping`);
  assertClose(values(dp.model), values(ref.model), 1e-5, "clipped sgd");
  // without clipping the result differs: the test can fail
  const unclipped = reference("sgd", BATCHES);
  assert.notDeepEqual(values(dp.model), values(unclipped.model));
});

Deno.test("timings split each worker's steps into compute, reduce, update and wait", async () => {
  // 3 samples on 2 workers: rank 0 takes 2, so its forward blocks 80 ms, rank 1's 40 ms
  const { x, y } = data();
  manualSeed(7);
  await using dp = await DataParallel.create({
    workers: 2,
    model: { module: MODELS, export: "slowMlp", args: [FEATURES, HIDDEN, CLASSES, 40] },
    optimizer: "adam",
    x,
    y,
    batchSize: 3,
  });
  const start = performance.now();
  for (let i = 0; i < 3; i++) await dp.step([i, i + 3, i + 6]);
  const wall = performance.now() - start;
  const [slow, fast] = dp.timings();
  for (const t of [slow, fast]) {
    assert.equal(t.steps, 3);
    assert(t.reduce >= 0 && t.update >= 0 && t.wait >= 0, JSON.stringify(t));
    assert(t.compute + t.reduce + t.update + t.wait <= wall, `${JSON.stringify(t)} > ${wall}`);
  }
  assert(slow.compute >= 3 * 80, `rank 0 computed ${slow.compute} ms`);
  assert(fast.compute >= 3 * 40 && fast.compute < slow.compute, `rank 1: ${fast.compute} ms`);
  // the faster worker waits for the slower one at each step's reduce
  assert(fast.wait >= 3 * 30, `rank 1 waited ${fast.wait} ms`);
  assert(slow.wait < fast.wait, `rank 0 waited ${slow.wait} ms, rank 1 ${fast.wait} ms`);
});

Deno.test("the same worker count gives bit-identical runs", async () => {
  const runs = [];
  for (let i = 0; i < 2; i++) {
    await using dp = await parallel("adam", 2);
    for (const batch of BATCHES) await dp.step(batch);
    runs.push(values(dp.model));
  }
  assert.deepEqual(runs[0], runs[1]);
});

Deno.test("steps posted before the previous ones are awaited give the same run, with each step's lr", async () => {
  const runs = [];
  // 0: each step awaited before the next; then one step queued; then the queue kept full
  for (const depth of [0, 1, 7]) {
    await using dp = await parallel("adam", 2);
    assert.equal(dp.maxInFlight, 8);
    const losses: number[] = [], inFlight: Promise<number>[] = [];
    // more steps than the queue holds, so that slots are reused while others are in flight
    for (let i = 0; i < 3 * BATCHES.length; i++) {
      dp.optimizer.paramGroups[0].lr = 1e-2 / (i + 1); // read when the step is posted
      inFlight.push(dp.step(BATCHES[i % BATCHES.length]));
      if (inFlight.length > depth) losses.push(await inFlight.shift()!);
    }
    for (const loss of inFlight) losses.push(await loss);
    runs.push({ params: values(dp.model), losses });
  }
  assert.deepEqual(runs[1], runs[0]);
  assert.deepEqual(runs[2], runs[0]);
  // the learning rates took effect: a constant one gives other values
  await using dp = await parallel("adam", 2);
  for (let i = 0; i < 3 * BATCHES.length; i++) await dp.step(BATCHES[i % BATCHES.length]);
  assert.notDeepEqual(values(dp.model), runs[0].params);
});

function stateValues(sd: OptimizerStateDict): number[] {
  return Object.values(sd.state).flatMap((s) =>
    Object.values(s).flatMap((v) => typeof v === "number" ? [v] : [...(v as Float32Array)])
  );
}

Deno.test("checkpoints gather the shards into the single-thread format and resume on another worker count", async () => {
  const ref = reference("adam", BATCHES);
  const refPart = reference("adam", BATCHES.slice(0, 2));
  let model: Record<string, Tensor>;
  let state: OptimizerStateDict;
  {
    await using dp = await parallel("adam", 2);
    for (const batch of BATCHES.slice(0, 2)) await dp.step(batch);
    state = await dp.optimizerStateDict();
    model = dp.model.stateDict();
  }
  const single = refPart.optimizer.stateDict();
  assert.deepEqual(Object.keys(state.state), Object.keys(single.state));
  assert.deepEqual(Object.keys(state.state[0]), Object.keys(single.state[0]));
  assert.equal(state.state[3].step, 2);
  assert.deepEqual(state.paramGroups, single.paramGroups);
  assertClose(stateValues(state), stateValues(single), 1e-5, "gathered state");
  await using dp3 = await parallel("adam", 3);
  dp3.model.loadStateDict(model);
  await dp3.loadOptimizerStateDict(state);
  await dp3.step(BATCHES[2]);
  assertClose(values(dp3.model), values(ref.model), 1e-5, "resumed on 3 workers");
  // and a single-thread optimizer takes the gathered state as its own
  const twin = mlp(FEATURES, HIDDEN, CLASSES);
  new Adam(twin.parameters(), { lr: 0.01 }).loadStateDict(state);
});

Deno.test("DataParallel takes the loss from a module", async () => {
  manualSeed(3);
  const x = randn([8, FEATURES]), y = randn([8, CLASSES]);
  manualSeed(7);
  const model = mlp(FEATURES, HIDDEN, CLASSES);
  const opt = new SGD(model.parameters(), { lr: 0.1 });
  const loss = mseLoss(model.forward(x), y);
  loss.backward();
  opt.step();
  manualSeed(7);
  await using dp = await DataParallel.create({
    workers: 2,
    model: { module: MODELS, export: "mlp", args: [FEATURES, HIDDEN, CLASSES] },
    loss: { module: MODELS, export: "mse" },
    optimizer: "sgd",
    optimizerOptions: { lr: 0.1 },
    x,
    y,
    batchSize: 8,
  });
  const l = await dp.step([0, 1, 2, 3, 4, 5, 6, 7]);
  assert(Math.abs(l - loss.item()) < 1e-6);
  assertClose(values(dp.model), values(model), 1e-6, "mse");
});

Deno.test("a model that throws at step 3 fails that step with the worker's error", async () => {
  const { x, y } = data();
  const dp = await DataParallel.create({
    workers: 2,
    model: { module: MODELS, export: "throwingMlp", args: [FEATURES, HIDDEN, CLASSES, 3] },
    optimizer: "adam",
    x,
    y,
    batchSize: 8,
  });
  await dp.step(BATCHES[0]);
  await dp.step(BATCHES[1]);
  await assert.rejects(
    () => dp.step(BATCHES[2]),
    (e: unknown) => {
      assert(e instanceof WorkerError);
      assert.match(e.message, /worker \d failed: Error: the model throws at step 3/);
      assert.match(e.message, /tiny_models\.ts/);
      return true;
    },
  );
  assert(dp.pool.closed);
  await assert.rejects(() => dp.step(BATCHES[0]), WorkerError);
});

Deno.test("DataParallel rejects bad input clearly", async () => {
  const { x, y } = data();
  const base: DataParallelOptions = {
    model: { module: MODELS, export: "mlp", args: [FEATURES, HIDDEN, CLASSES] },
    optimizer: "adam",
    x,
    y,
    batchSize: 4,
    workers: 2, // not the default (the core count), which may exceed the batch
  };
  await rejectsWith(
    () => DataParallel.create({ ...base, workers: 0 }),
    RangeError,
    "DataParallel: workers must be a positive integer, got 0",
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, workers: 5 }),
    RangeError,
    "DataParallel: 5 workers need batches of at least 5 samples, got batchSize 4; use at most 4",
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, maxGradNorm: -1 }),
    RangeError,
    "DataParallel: maxGradNorm must be a number >= 0, got -1",
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, y: y.slice(0, 0, y.shape[0] - 1) }),
    RangeError,
    `DataParallel: x has ${x.shape[0]} samples and y ${y.shape[0] - 1}; they must match`,
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, inputShape: [FEATURES + 1] }),
    RangeError,
    `DataParallel: inputShape [${FEATURES + 1}] does not hold a sample of x (shape [${x.shape}])`,
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, x: tensor(1), y: tensor(1) }),
    TypeError,
    "DataParallel: x and y need samples along their first dimension",
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, optimizer: "lamb" }),
    RangeError,
    "DataParallel: unknown optimizer lamb (valid: adam, adamw, sgd, rmsprop, adagrad)",
  );
  const missing = new URL("./programs/no_such_models.ts", import.meta.url).href;
  await rejectsWith(
    () => DataParallel.create({ ...base, model: { module: missing } }),
    Error,
    `DataParallel model: cannot import module ${missing}`,
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, model: { module: MODELS, export: "nope" } }),
    TypeError,
    `DataParallel model: module ${MODELS} has no exported function nope`,
  );
  await rejectsWith(
    () => DataParallel.create({ ...base, model: { module: "./relative.ts" } }),
    TypeError,
    "DataParallel: model.module must be an absolute URL",
  );
  await rejectsWith(
    () =>
      DataParallel.create({
        ...base,
        model: { module: MODELS, export: "withBatchNorm", args: [FEATURES, CLASSES] },
      }),
    TypeError,
    "DataParallel: the model has buffers",
  );
  await assert.rejects(
    () =>
      DataParallel.create({
        ...base,
        workers: 1,
        model: { module: MODELS, export: "inconsistent", args: [FEATURES, CLASSES] },
      }),
    (e: unknown) =>
      e instanceof WorkerError && /the model built in worker 0 has parameters/.test(e.message),
  );
  await using dp = await DataParallel.create({ ...base, workers: 2 });
  await rejectsWith(
    () => dp.step([]),
    RangeError,
    "DataParallel.step: needs 1 to 4 sample indices, got 0",
  );
  await rejectsWith(
    () => dp.step([0, 99]),
    RangeError,
    "DataParallel.step: index 99 at position 1 is outside [0, 24)",
  );
  const inFlight = Array.from({ length: dp.maxInFlight }, (_, i) => dp.step([i % 24]));
  await rejectsWith(
    () => dp.step([4, 5]),
    Error,
    "DataParallel.step: 8 steps are already in flight; await one of them first",
  );
  await Promise.all(inFlight);
  // a batch smaller than the worker count (an epoch's last) leaves a worker idle
  assert(Number.isFinite(await dp.step([3])));
});

Deno.test("at the trainer's MLP size, where workers help with each other's weight gradients, runs repeat bit for bit and match one thread", async () => {
  // 2 x 32 samples: each first-layer weight gradient is a 256 x 784 x 32 product, large
  // enough to share, so a worker done first computes part of the other's
  manualSeed(11);
  const x = randn([128, 784]), y = randint(0, 10, [128]);
  const batches = [0, 1, 2, 3].map((s) => Array.from({ length: 64 }, (_, i) => (s * 29 + i) % 128));
  const models = new URL("../../examples/lib/models.ts", import.meta.url).href;
  const runs: number[][] = [];
  for (let run = 0; run < 2; run++) {
    manualSeed(3);
    await using dp = await DataParallel.create({
      workers: 2,
      model: { module: models, export: "buildModel", args: ["mlp", [1, 28, 28], 10] },
      optimizer: "adam",
      optimizerOptions: { lr: 1e-3 },
      x,
      y,
      inputShape: [1, 28, 28],
      batchSize: 64,
    });
    for (const batch of batches) await dp.step(batch);
    runs.push(values(dp.model));
  }
  assert.deepEqual(runs[1], runs[0]);
  const { buildModel } = await import(models);
  manualSeed(3);
  const model = buildModel("mlp", [1, 28, 28], 10) as Module;
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  for (const batch of batches) {
    const idx = tensor(batch, { dtype: "int32" });
    const out = model.forward(x.indexSelect(0, idx).reshape([64, 1, 28, 28]));
    const loss = crossEntropy(out, y.indexSelect(0, idx));
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
  }
  assertClose(runs[0], values(model), 1e-5, "two workers against one thread");
});
