/**
 * The main job: train a classifier and report per-epoch loss, held-out accuracy and
 * throughput. With no options it trains an MLP on the embedded 8x8 digits set, so it works
 * on a fresh machine with no download.
 *
 *   deno task train
 *   deno task train --data fashion-mnist --epochs 5
 *   deno task train --data fashion-mnist --model cnn --epochs 3 --plot curves.svg
 *   deno task train --model cnn --device gpu
 *   deno task train --help
 */
import {
  Adagrad,
  Adam,
  AdamW,
  CosineAnnealingLR,
  crossEntropy,
  DataLoader,
  defaultGenerator,
  type Device,
  initGpu,
  keep,
  loadCheckpoint,
  loadDigits,
  loadFashionMnist,
  type LRScheduler,
  manualSeed,
  type Module,
  noGrad,
  OneCycleLR,
  type Optimizer,
  RMSprop,
  saveCheckpoint,
  SGD,
  splitTrainTest,
  StepLR,
  type Tensor,
  TensorDataset,
  tidy,
  zeros,
} from "../mod.ts";
import { DataParallel, IndexDataset } from "../parallel/mod.ts";
import { helpText, type OptionSpec, parseArgs, UsageError } from "./lib/args.ts";
import { type CurvePoint, curvesSvg } from "./lib/plot.ts";
import { formatDuration, Progress } from "./lib/progress.ts";
import { buildModel } from "./lib/models.ts";

const OPTIONS: Record<string, OptionSpec> = {
  data: {
    type: "string",
    default: "digits",
    help: "digits (embedded), fashion-mnist (/usr/share/datasets/fashion-mnist) or a directory",
  },
  model: { type: "string", default: "mlp", help: "network", choices: ["mlp", "cnn"] },
  epochs: {
    type: "integer",
    default: undefined,
    help: "passes over the training set (default 20 on digits, 5 otherwise)",
  },
  "batch-size": { type: "integer", default: 128, help: "samples per step" },
  lr: { type: "number", default: 1e-3, help: "learning rate" },
  optimizer: {
    type: "string",
    default: "adam",
    help: "update rule",
    choices: ["adam", "adamw", "sgd", "rmsprop", "adagrad"],
  },
  scheduler: {
    type: "string",
    default: "none",
    help: "learning-rate schedule",
    choices: ["none", "step", "cosine", "onecycle"],
  },
  seed: {
    type: "integer",
    default: 0,
    help: "seed of the one generator behind init and shuffling",
  },
  checkpoint: {
    type: "string",
    default: undefined,
    help: "write a checkpoint here after every epoch",
  },
  resume: { type: "string", default: undefined, help: "continue from this checkpoint" },
  plot: {
    type: "string",
    default: undefined,
    help: "write loss and accuracy curves to this SVG file",
  },
  workers: {
    type: "integer",
    default: 0,
    help: "train data-parallel on this many worker threads (0: on the main thread)",
  },
  device: { type: "string", default: "cpu", help: "where to train", choices: ["cpu", "gpu"] },
};

interface Split {
  x: Tensor;
  y: Tensor;
}

async function loadData(name: string): Promise<{ train: Split; test: Split; shape: number[] }> {
  if (name === "digits") {
    const { train, test } = splitTrainTest(await loadDigits(), { testFraction: 0.2, seed: 0 });
    return { train, test, shape: [1, 8, 8] };
  }
  const dir = name === "fashion-mnist" ? "/usr/share/datasets/fashion-mnist" : name;
  const { train, test } = await loadFashionMnist(dir);
  return { train, test, shape: [1, 28, 28] };
}

function makeOptimizer(name: string, params: Tensor[], lr: number): Optimizer {
  switch (name) {
    case "adamw":
      return new AdamW(params, { lr });
    case "sgd":
      return new SGD(params, { lr, momentum: 0.9 });
    case "rmsprop":
      return new RMSprop(params, { lr });
    case "adagrad":
      return new Adagrad(params, { lr });
    default:
      return new Adam(params, { lr });
  }
}

function makeScheduler(
  name: string,
  optimizer: Optimizer,
  epochs: number,
  stepsPerEpoch: number,
  lr: number,
): { scheduler: LRScheduler | null; perStep: boolean } {
  switch (name) {
    case "step":
      return {
        scheduler: new StepLR(optimizer, {
          stepSize: Math.max(1, Math.floor(epochs / 3)),
          gamma: 0.1,
        }),
        perStep: false,
      };
    case "cosine":
      return { scheduler: new CosineAnnealingLR(optimizer, { tMax: epochs }), perStep: false };
    case "onecycle":
      return {
        scheduler: new OneCycleLR(optimizer, {
          maxLr: lr * 10,
          totalSteps: epochs * stepsPerEpoch,
        }),
        perStep: true,
      };
    default:
      return { scheduler: null, perStep: false };
  }
}

/**
 * Accuracy of `model` on a whole split, in eval mode, in batches; the count of correct
 * predictions stays on the model's device until one read at the end.
 */
async function evaluate(
  model: Module,
  split: Split,
  shape: number[],
  batchSize: number,
  device: Device,
): Promise<number> {
  model.eval();
  const correct = keep(zeros([], { dtype: "int32", device }));
  const n = split.x.shape[0];
  for (let start = 0; start < n; start += batchSize) {
    const len = Math.min(batchSize, n - start);
    tidy(() =>
      noGrad(() => {
        const x = split.x.narrow(0, start, len).reshape([len, ...shape]).to(device);
        const predicted = model.forward(x).argmax(1);
        correct.addInPlace(predicted.eq(split.y.narrow(0, start, len).to(device)).sum());
      })
    );
  }
  model.train();
  const total = (await correct.read())[0];
  correct.dispose();
  return total / n;
}

/** Everything a training run needs, as parsed from the command line. */
export interface TrainOptions {
  data: string;
  model: string;
  epochs: number;
  batchSize: number;
  lr: number;
  optimizer: string;
  scheduler: string;
  seed: number;
  checkpoint?: string;
  resume?: string;
  plot?: string;
  /** Data-parallel worker threads (0 or absent: train on the main thread). */
  workers?: number;
  /** Stop after this epoch, as if the run were interrupted (for resume tests). */
  stopAfter?: number;
  /** Where to train (default the CPU). */
  device?: Device;
  /** Where progress lines go (default console.log). */
  log?: (line: string) => void;
  /** Awaited before each epoch (benchmarks use it to let runs take turns). */
  beforeEpoch?: (epoch: number) => Promise<void>;
}

/** Trains as the options say and returns the per-epoch curve. */
export async function train(options: TrainOptions): Promise<CurvePoint[]> {
  const log = options.log ?? console.log;
  const { epochs, batchSize, lr } = options;
  const device = options.device ?? "cpu";
  if (options.workers && device === "gpu") {
    throw new RangeError("train: --workers trains on CPU threads; use it with --device cpu");
  }
  if (device === "gpu" && !(await initGpu())) {
    throw new Error("train: device gpu, but this runtime offers no WebGPU adapter");
  }
  if (device === "gpu" && (options.checkpoint ?? options.resume) !== undefined) {
    throw new Error("train: --checkpoint and --resume work with --device cpu only for now");
  }
  const data = await loadData(options.data);
  manualSeed(options.seed);
  // with workers, the model is built from the same function (and seed) on every thread
  await using dp = options.workers ? await createParallel(options, data) : null;
  const model = dp?.model ?? buildModel(options.model, data.shape, 10).to(device);
  const optimizer = dp?.optimizer ?? makeOptimizer(options.optimizer, model.parameters(), lr);
  const samples = data.train.x.shape[0];
  const loader = new DataLoader(
    dp ? new IndexDataset(samples) : new TensorDataset(data.train.x, data.train.y),
    { batchSize, shuffle: true },
  );
  const { scheduler, perStep } = makeScheduler(
    options.scheduler,
    optimizer,
    epochs,
    loader.length,
    lr,
  );
  const curves: CurvePoint[] = [];
  let firstEpoch = 1;
  if (options.resume !== undefined) {
    const state = await loadCheckpoint(options.resume) as unknown as CheckpointState;
    model.loadStateDict(state.model);
    if (dp) await dp.loadOptimizerStateDict(state.optimizer);
    else optimizer.loadStateDict(state.optimizer);
    loader.loadStateDict(state.loader);
    if (scheduler && state.scheduler) scheduler.loadStateDict(state.scheduler);
    defaultGenerator.setState(state.generator);
    curves.push(...state.curves);
    firstEpoch = state.epoch + 1;
    log(`resumed from ${options.resume} after epoch ${state.epoch}`);
  }
  log(
    `training ${options.model} on ${options.data}: ${data.train.x.shape[0]} train / ` +
      `${data.test.x.shape[0]} held-out samples, ${options.optimizer} lr ${lr}, ` +
      `batch ${batchSize}, ${epochs} epochs` + (dp ? `, ${dp.workers} workers` : ""),
  );
  const lastEpoch = Math.min(epochs, options.stopAfter ?? epochs);
  for (let epoch = firstEpoch; epoch <= lastEpoch; epoch++) {
    await options.beforeEpoch?.(epoch);
    const progress = new Progress(loader.length, `epoch ${epoch}/${epochs}`);
    const start = performance.now();
    let lossSum = 0, seen = 0, step = 0;
    // on the GPU the loss is summed there and read once per epoch, so steps never sync
    const lossTotal = device === "gpu" ? keep(zeros([], { device })) : null;
    const record = (loss: number, n: number) => {
      lossSum += loss * n;
      seen += n;
      progress.update(++step, lossTotal ? "" : `loss ${(lossSum / seen).toFixed(4)}`);
    };
    // with workers, the queue of steps is kept full, so they never wait for this thread to
    // wake, and it wakes once every few steps; a step's loss is recorded when it is awaited
    const queued: { loss: Promise<number>; n: number }[] = [];
    for (using batch of loader) {
      const n = batch.x.shape[0];
      if (dp) {
        const loss = dp.step(batch.x.toArray());
        loss.catch(() => {}); // a failure surfaces where it is awaited
        queued.push({ loss, n });
        if (queued.length === dp.maxInFlight) {
          const oldest = queued.shift()!;
          record(await oldest.loss, oldest.n);
        }
        if (perStep) scheduler!.step();
        continue;
      }
      const loss = tidy(() => {
        const x = batch.x.reshape([n, ...data.shape]).to(device);
        const l = crossEntropy(model.forward(x), batch.y.to(device));
        optimizer.zeroGrad();
        l.backward();
        optimizer.step();
        if (lossTotal === null) return l.item();
        noGrad(() => lossTotal.addInPlace(l, n));
        return 0;
      });
      if (perStep) scheduler!.step();
      record(loss, n);
    }
    for (const { loss, n } of queued) record(await loss, n);
    if (lossTotal !== null) {
      lossSum = (await lossTotal.read())[0];
      lossTotal.dispose();
    }
    progress.done();
    const seconds = (performance.now() - start) / 1000;
    if (scheduler && !perStep) scheduler.step();
    const accuracy = await evaluate(model, data.test, data.shape, 512, device);
    curves.push({ epoch, loss: lossSum / seen, accuracy });
    log(
      `epoch ${epoch}/${epochs}  loss ${(lossSum / seen).toFixed(4)}  held-out accuracy ` +
        `${(accuracy * 100).toFixed(2)}%  ${Math.round(seen / seconds)} samples/s  ` +
        formatDuration(seconds),
    );
    if (options.checkpoint !== undefined) {
      const state: CheckpointState = {
        epoch,
        model: model.stateDict(),
        optimizer: dp ? await dp.optimizerStateDict() : optimizer.stateDict(),
        scheduler: scheduler?.stateDict() ?? null,
        loader: loader.stateDict(),
        generator: defaultGenerator.getState(),
        curves,
      };
      await saveCheckpoint(options.checkpoint, state);
    }
  }
  if (options.plot !== undefined) {
    await Deno.writeTextFile(
      options.plot,
      curvesSvg(curves, `${options.model} on ${options.data}`),
    );
    log(`curves written to ${options.plot}`);
  }
  return curves;
}

/** Starts data-parallel training of the model `options.model` names, on `options.workers`. */
function createParallel(
  options: TrainOptions,
  data: { train: Split; shape: number[] },
): Promise<DataParallel> {
  const probe = makeOptimizer(options.optimizer, [zeros([1], { requiresGrad: true })], options.lr);
  return DataParallel.create({
    workers: options.workers,
    model: {
      module: new URL("./lib/models.ts", import.meta.url).href,
      export: "buildModel",
      args: [options.model, data.shape, 10],
    },
    optimizer: options.optimizer,
    optimizerOptions: { ...probe.defaults },
    x: data.train.x,
    y: data.train.y,
    inputShape: data.shape,
    batchSize: options.batchSize,
  });
}

/** The command line: returns the exit code (2 for a usage error). */
export async function main(argv: readonly string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, OPTIONS);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    console.error(`train: ${e.message}`);
    return 2;
  }
  if (args.help) {
    console.log(helpText("usage: deno task train [options]", OPTIONS));
    return 0;
  }
  const data = String(args.data);
  const options: TrainOptions = {
    data,
    model: String(args.model),
    epochs: Number(args.epochs ?? (data === "digits" ? 20 : 5)),
    batchSize: Number(args["batch-size"]),
    lr: Number(args.lr),
    optimizer: String(args.optimizer),
    scheduler: String(args.scheduler),
    seed: Number(args.seed),
    checkpoint: args.checkpoint as string | undefined,
    resume: args.resume as string | undefined,
    plot: args.plot as string | undefined,
    workers: Number(args.workers),
    device: args.device as Device,
  };
  if (options.epochs < 1 || options.batchSize < 1 || !(options.lr > 0)) {
    console.error("train: --epochs and --batch-size must be at least 1 and --lr positive");
    return 2;
  }
  if (options.workers! < 0 || options.workers! > options.batchSize) {
    console.error(
      `train: --workers must be from 0 to --batch-size (${options.batchSize}), got ${options.workers}`,
    );
    return 2;
  }
  try {
    await train(options);
  } catch (e) {
    // train's own checks name themselves; a missing data file is the user's too
    if (e instanceof Deno.errors.NotFound) console.error(`train: ${e.message}`);
    else if (e instanceof Error && e.message.startsWith("train: ")) console.error(e.message);
    else throw e;
    return e instanceof RangeError ? 2 : 1;
  }
  return 0;
}

interface CheckpointState {
  epoch: number;
  model: Record<string, Tensor>;
  optimizer: ReturnType<Optimizer["stateDict"]>;
  scheduler: ReturnType<LRScheduler["stateDict"]> | null;
  loader: ReturnType<DataLoader["stateDict"]>;
  generator: number[];
  curves: CurvePoint[];
}

if (import.meta.main) Deno.exit(await main(Deno.args));
