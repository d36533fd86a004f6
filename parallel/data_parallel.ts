/**
 * `DataParallel`: trains one model on every core. The parameters live in one shared arena
 * that the main thread's model and every worker's copy read; the training set is copied
 * once into shared memory; each step the main thread writes the batch's sample indices
 * and the optimizer's hyper-parameters into shared memory and starts the step through
 * the control block (see dp_program.ts for what the workers do).
 * @module
 */

import type { Module } from "../nn/module.ts";
import type { Optimizer, OptimizerStateDict, StateValue } from "../optim/optimizer.ts";
import type { FloatArray } from "../optim/update.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { SharedArena } from "./arena.ts";
import { sizeOf } from "../tensor/shape.ts";
import { allocShared } from "./shared_floats.ts";
import { shardRange } from "./collectives.ts";
import {
  type DataParallelInit,
  type HyperKey,
  hyperKeys,
  type ModuleSpec,
  OPTIMIZERS,
  PHASE_SLOT,
  PHASES,
  slotOf,
  STEP,
  syncHyper,
} from "./dp_protocol.ts";
import { importExport } from "./dp_program.ts";
import { WorkerPool } from "./pool.ts";
import { QUEUE } from "./control.ts";
import { createBoards } from "./help_board.ts";

/**
 * Options of `DataParallel.create`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * import type { DataParallelOptions } from "@adamant/core/parallel";
 * const options: DataParallelOptions = {
 *   workers: 2,
 *   model: { module: "file:///models.ts", export: "mlp", args: [4, 3] },
 *   optimizer: "adam",
 *   optimizerOptions: { lr: 1e-3 },
 *   x: tensor([[0, 1, 2, 3]]),
 *   y: tensor([1], { dtype: "int32" }),
 *   batchSize: 2,
 * };
 * assert.equal(options.workers, 2);
 * ```
 */
export interface DataParallelOptions {
  /** Number of workers (default: the number of cores). */
  workers?: number;
  /**
   * How to build the model: an absolute module URL, the exported function and its
   * arguments. The main thread calls it (seed the generator first: its initial values are
   * the ones trained), and so does every worker; all must get parameters of the same shapes.
   */
  model: ModuleSpec;
  /**
   * The loss `(output, target) => scalar`, a mean over the batch (default: cross-entropy).
   * Worker k's gradient is weighted by its share of the batch, which gives the gradient
   * of the mean over the whole batch.
   */
  loss?: ModuleSpec;
  /** `adam`, `adamw`, `sgd`, `rmsprop` or `adagrad`. */
  optimizer: string;
  /** The optimizer's options, as its constructor takes them. */
  optimizerOptions?: Record<string, unknown>;
  /** Clip the gradient to this global 2-norm before each update (default: no clipping). */
  maxGradNorm?: number;
  /** The training inputs, samples along the first dimension (copied once into shared memory). */
  x: Tensor;
  /** The training targets, samples along the first dimension. */
  y: Tensor;
  /** The shape of one sample as the model takes it (default: `x.shape.slice(1)`). */
  inputShape?: readonly number[];
  /** The largest global batch `step` will be given; at least the number of workers. */
  batchSize: number;
  /** Barrier and step timeout in milliseconds (default 60 000). */
  timeoutMs?: number;
}

/**
 * What one worker's steps have cost so far, in milliseconds summed over its steps
 * (`DataParallel.timings`). A step's phases add up to its time in the worker; the rest of
 * the wall time the worker spent waiting for the main thread to post a step.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { WorkerTimings } from "@adamant/core/parallel";
 * const t: WorkerTimings = { steps: 10, compute: 90, reduce: 3, update: 4, wait: 8 };
 * assert.equal((t.compute + t.reduce + t.update + t.wait) / t.steps, 10.5); // ms a step
 * ```
 */
export interface WorkerTimings {
  /** Steps the worker has finished. */
  steps: number;
  /** Zeroing its gradients, selecting its samples, forward, loss and backward. */
  compute: number;
  /** Summing its shard of the gradients across the workers. */
  reduce: number;
  /** Clipping and the optimizer update of its shard. */
  update: number;
  /**
   * At barriers: waiting for slower workers, or, meanwhile, computing part of their
   * weight gradients for them.
   */
  wait: number;
}

function sharedCopy(op: string, t: Tensor): { buffer: SharedArrayBuffer; dtype: string } {
  if (t.ndim < 1) throw new TypeError(`${op}: needs samples along the first dimension`);
  const values = t.toArray(); // row-major, whatever the layout
  const buffer = new SharedArrayBuffer(values.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  return { buffer, dtype: t.dtype };
}

function positiveInteger(name: string, value: unknown, fallback?: number): number {
  const v = value ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new RangeError(`DataParallel: ${name} must be a positive integer, got ${v}`);
  }
  return v;
}

function spec(name: string, s: ModuleSpec | undefined): ModuleSpec | null {
  if (s === undefined) return null;
  if (s === null || typeof s !== "object" || typeof s.module !== "string") {
    throw new TypeError(`DataParallel: ${name} must be { module: url, export?, args? }`);
  }
  try {
    return { ...s, module: new URL(s.module).href };
  } catch {
    throw new TypeError(
      `DataParallel: ${name}.module must be an absolute URL (new URL("./m.ts", ` +
        `import.meta.url).href), got ${s.module}`,
    );
  }
}

/**
 * Data-parallel training with a ZeRO-1 sharded optimizer over a `WorkerPool`. `model` is
 * the main thread's copy: its parameters view the shared arena, so it evaluates and
 * saves the trained values; `optimizer` holds the hyper-parameters (attach schedulers to
 * it; it never steps itself). After K steps the parameters match single-thread training
 * on the same batches within float32 rounding (bit for bit with one worker), and runs with
 * the same worker count are bit-identical.
 *
 * The model must use every parameter each step (a parameter without a gradient is
 * updated with a zero one) and must not have buffers (BatchNorm statistics are not
 * synchronised).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randint, randn } from "@adamant/core";
 * import { DataParallel } from "@adamant/core/parallel";
 * // any module exporting a function that builds the model (here, the trainer's)
 * const models = new URL("../examples/lib/models.ts", import.meta.url).href;
 * await using dp = await DataParallel.create({
 *   workers: 2,
 *   model: { module: models, export: "buildModel", args: ["mlp", [1, 4, 4], 3] },
 *   optimizer: "adam",
 *   x: randn([8, 16]),
 *   y: randint(0, 3, [8]),
 *   inputShape: [1, 4, 4],
 *   batchSize: 4,
 * });
 * const loss = await dp.step([0, 1, 2, 3]); // the sample indices of one global batch
 * assert(loss > 0);
 * ```
 */
export class DataParallel implements AsyncDisposable {
  /** The main thread's model; its parameters view the shared arena. */
  readonly model: Module;
  /** Holds the hyper-parameters the workers use (change `lr`, attach schedulers). */
  readonly optimizer: Optimizer;
  /** The arena of the parameters. */
  readonly arena: SharedArena;
  /** The worker pool. */
  readonly pool: WorkerPool;
  /** The largest global batch `step` accepts. */
  readonly batchSize: number;
  /** The global gradient norm before clipping at the last step (NaN without clipping). */
  lastGradNorm: number = NaN;
  readonly #indices: Int32Array;
  readonly #results: Float64Array;
  readonly #timings: Float64Array;
  readonly #hyper: Float64Array;
  readonly #hyperKeys: HyperKey[];
  readonly #samples: number;
  readonly #clipping: boolean;
  /** Which slots of the shared indices, hyper-parameters and results a step in flight holds. */
  readonly #slotBusy = new Array<boolean>(QUEUE).fill(false);
  /** The workers' gradient slices; held so that their heap range stays theirs. */
  readonly #grads: Float32Array;

  private constructor(
    model: Module,
    optimizer: Optimizer,
    arena: SharedArena,
    grads: Float32Array,
    pool: WorkerPool,
    init: DataParallelInit,
    samples: number,
  ) {
    this.model = model;
    this.optimizer = optimizer;
    this.arena = arena;
    this.#grads = grads;
    this.pool = pool;
    this.#indices = new Int32Array(init.indices);
    this.batchSize = this.#indices.length / QUEUE;
    this.#results = new Float64Array(init.results);
    this.#timings = new Float64Array(init.timings);
    this.#hyper = new Float64Array(init.hyper);
    this.#hyperKeys = init.hyperKeys;
    this.#samples = samples;
    this.#clipping = init.maxGradNorm !== null;
  }

  /**
   * Builds the model on the main thread, lays its parameters out in shared memory, copies
   * the data set there, and starts the workers.
   *
   * @param options The model, optimizer, data and worker count.
   * @returns The running trainer; `close()` it when done.
   */
  static async create(options: DataParallelOptions): Promise<DataParallel> {
    const workers = positiveInteger("workers", options.workers, navigator.hardwareConcurrency);
    const batchSize = positiveInteger("batchSize", options.batchSize);
    if (workers > batchSize) {
      throw new RangeError(
        `DataParallel: ${workers} workers need batches of at least ${workers} samples, got ` +
          `batchSize ${batchSize}; use at most ${batchSize} workers`,
      );
    }
    const Opt = OPTIMIZERS[options.optimizer];
    if (Opt === undefined) {
      throw new RangeError(
        `DataParallel: unknown optimizer ${options.optimizer} (valid: ${
          Object.keys(OPTIMIZERS).join(", ")
        })`,
      );
    }
    const maxGradNorm = options.maxGradNorm ?? null;
    if (maxGradNorm !== null && !(typeof maxGradNorm === "number" && maxGradNorm >= 0)) {
      throw new RangeError(`DataParallel: maxGradNorm must be a number >= 0, got ${maxGradNorm}`);
    }
    const { x, y } = options;
    if (x.ndim < 1 || y.ndim < 1) {
      throw new TypeError("DataParallel: x and y need samples along their first dimension");
    }
    if (x.shape[0] !== y.shape[0]) {
      throw new RangeError(
        `DataParallel: x has ${x.shape[0]} samples and y ${y.shape[0]}; they must match`,
      );
    }
    const inputShape = [...(options.inputShape ?? x.shape.slice(1))];
    if (sizeOf(inputShape) !== sizeOf(x.shape.slice(1))) {
      throw new RangeError(
        `DataParallel: inputShape [${inputShape}] does not hold a sample of x ` +
          `(shape [${x.shape}])`,
      );
    }
    const modelSpec = spec("model", options.model)!;
    const lossSpec = spec("loss", options.loss);
    const build = await importExport("DataParallel model", modelSpec);
    const model = build(...(modelSpec.args ?? [])) as Module;
    if (model === null || typeof model !== "object" || typeof model.parameters !== "function") {
      throw new TypeError(`DataParallel: ${modelSpec.export ?? "default"} did not return a Module`);
    }
    if (model.buffers().length > 0) {
      throw new TypeError(
        "DataParallel: the model has buffers (BatchNorm running statistics, say), which " +
          "data-parallel training does not synchronise; use a model without them",
      );
    }
    if (lossSpec !== null) await importExport("DataParallel loss", lossSpec);
    const params = model.parameters();
    const optimizer = new Opt(params, options.optimizerOptions ?? {});
    const arena = SharedArena.adopt(params);
    const keys = hyperKeys(optimizer.paramGroups[0]);
    const xs = sharedCopy("DataParallel x", x), ys = sharedCopy("DataParallel y", y);
    const grads = allocShared(arena.length * workers);
    const init: DataParallelInit = {
      model: modelSpec,
      loss: lossSpec,
      shapes: params.map((p) => [...p.shape]),
      params: arena.shared,
      grads: grads.shared,
      x: xs.buffer,
      xDType: xs.dtype as DataParallelInit["xDType"],
      y: ys.buffer,
      yDType: ys.dtype as DataParallelInit["yDType"],
      inputShape,
      targetShape: y.shape.slice(1),
      indices: new SharedArrayBuffer(4 * batchSize * QUEUE),
      results: new SharedArrayBuffer(8 * (2 * workers + 1) * QUEUE),
      timings: new SharedArrayBuffer(8 * (PHASE_SLOT.steps + 1) * workers),
      optimizer: options.optimizer,
      options: options.optimizerOptions ?? {},
      hyperKeys: keys,
      hyper: new SharedArrayBuffer(8 * keys.length * QUEUE),
      maxGradNorm,
      boards: workers > 1 ? createBoards(workers) : null,
    };
    const pool = await WorkerPool.create({ workers, timeoutMs: options.timeoutMs });
    try {
      await pool.load(new URL("./dp_program.ts", import.meta.url), init);
    } catch (e) {
      pool.close();
      throw e;
    }
    return new DataParallel(model, optimizer, arena, grads.view, pool, init, x.shape[0]);
  }

  /** The number of workers. */
  get workers(): number {
    return this.pool.size;
  }

  /**
   * How many steps may be in flight at once (8). Keep the queue full, awaiting the oldest
   * step before posting past it: the workers then never wait for the main thread, and the
   * main thread wakes once every few steps instead of every step, leaving the cores to the
   * workers.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { randint, randn } from "@adamant/core";
   * import { DataParallel } from "@adamant/core/parallel";
   * const models = new URL("../examples/lib/models.ts", import.meta.url).href;
   * await using dp = await DataParallel.create({
   *   workers: 2,
   *   model: { module: models, export: "buildModel", args: ["mlp", [1, 4, 4], 3] },
   *   optimizer: "sgd",
   *   optimizerOptions: { lr: 0.1 },
   *   x: randn([8, 16]),
   *   y: randint(0, 3, [8]),
   *   inputShape: [1, 4, 4],
   *   batchSize: 2,
   * });
   * const losses: number[] = [], inFlight: Promise<number>[] = [];
   * for (let i = 0; i < 20; i++) {
   *   inFlight.push(dp.step([(2 * i) % 8, (2 * i + 1) % 8]));
   *   if (inFlight.length === dp.maxInFlight) losses.push(await inFlight.shift()!);
   * }
   * for (const loss of inFlight) losses.push(await loss);
   * assert.equal(losses.length, 20);
   * ```
   */
  get maxInFlight(): number {
    return QUEUE;
  }

  /**
   * One training step on the samples `indices` (a global batch): forward and backward in
   * the workers, gradients reduced, parameters updated. Up to `maxInFlight` steps may be in
   * flight: call `step` for the next batches before awaiting this one, and the workers start
   * each the moment they finish the one before (the optimizer's hyper-parameters are read
   * when a step is posted, so a scheduler stepped in between applies to the steps posted
   * after it).
   *
   * @param indices Sample positions in the data set, at most `batchSize` of them.
   * @returns The mean loss over the batch.
   */
  async step(indices: ArrayLike<number>): Promise<number> {
    const slot = this.#slotBusy.indexOf(false);
    if (slot < 0) {
      // the workers are reading every slot's indices: writing new ones now would corrupt them
      throw new Error(
        `DataParallel.step: ${QUEUE} steps are already in flight; await one of them first`,
      );
    }
    const n = indices.length;
    if (n < 1 || n > this.batchSize) {
      throw new RangeError(
        `DataParallel.step: needs 1 to ${this.batchSize} sample indices, got ${n}`,
      );
    }
    const at = slot * this.batchSize;
    for (let i = 0; i < n; i++) {
      const index = indices[i];
      if (!Number.isInteger(index) || index < 0 || index >= this.#samples) {
        throw new RangeError(
          `DataParallel.step: index ${index} at position ${i} is outside [0, ${this.#samples})`,
        );
      }
      this.#indices[at + i] = index;
    }
    const hyper = slotOf(this.#hyper, slot, this.#hyperKeys.length);
    syncHyper(this.#hyperKeys, this.optimizer.paramGroups[0], hyper, false);
    // held until the results are read: a slot is free again only once nothing reads it
    this.#slotBusy[slot] = true;
    try {
      await this.pool.run(STEP, [n, slot]);
    } finally {
      this.#slotBusy[slot] = false;
    }
    const size = this.workers, results = slotOf(this.#results, slot, 2 * size + 1);
    if (this.#clipping) this.lastGradNorm = results[2 * size];
    let sum = 0;
    for (let r = 0; r < size; r++) sum += results[r];
    return sum / n;
  }

  /**
   * What each worker's steps have cost so far, by phase: where the time of a step goes,
   * and how long the faster workers wait for the slowest. Read it with no step in flight:
   * each worker adds to its totals as it finishes a step, so a reading taken meanwhile may
   * cover different steps for different workers (each entry's `steps` says how many). Take
   * two readings and subtract them to time a stretch of training.
   *
   * @returns One entry per worker, in rank order.
   */
  timings(): WorkerTimings[] {
    return Array.from({ length: this.workers }, (_, r) => {
      const row = slotOf(this.#timings, r, PHASE_SLOT.steps + 1);
      const t = { steps: row[PHASE_SLOT.steps] } as WorkerTimings;
      for (const phase of PHASES) t[phase] = row[PHASE_SLOT[phase]];
      return t;
    });
  }

  /**
   * The optimizer's state gathered from the workers' shards, in the layout single-thread
   * training saves (`Optimizer.stateDict`), so a run can resume with any worker count.
   *
   * @returns The state dict.
   */
  async optimizerStateDict(): Promise<OptimizerStateDict> {
    const shards = await this.pool.call("stateDict") as {
      from: number;
      to: number;
      state: Record<string, StateValue> | null;
    }[];
    const base = this.optimizer.stateDict();
    const withState = shards.filter((s) => s.state !== null);
    if (withState.length === 0) return { state: {}, paramGroups: base.paramGroups };
    const flat: Record<string, StateValue> = {};
    for (const [key, value] of Object.entries(withState[0].state!)) {
      if (ArrayBuffer.isView(value)) {
        const all = new Float32Array(this.arena.length);
        for (const s of withState) all.set(s.state![key] as Float32Array, s.from);
        flat[key] = all;
      } else flat[key] = value;
    }
    const state: OptimizerStateDict["state"] = {};
    this.arena.offsets.forEach((offset, i) => {
      const entry: Record<string, StateValue> = {};
      for (const [key, value] of Object.entries(flat)) {
        entry[key] = value instanceof Float32Array
          ? value.slice(offset, offset + this.arena.sizes[i])
          : value;
      }
      state[i] = entry;
    });
    return { state, paramGroups: base.paramGroups };
  }

  /**
   * Loads a state dict saved by single-thread training or by `optimizerStateDict` (with
   * any worker count): the hyper-parameters into `optimizer`, each shard's state into the
   * worker that owns it.
   *
   * @param stateDict The state dict.
   */
  async loadOptimizerStateDict(stateDict: OptimizerStateDict): Promise<void> {
    this.optimizer.loadStateDict(stateDict); // validates it against the parameters
    this.optimizer.state.clear(); // the workers hold the state
    const group: Record<string, unknown> = { ...stateDict.paramGroups[0] };
    delete group.params;
    const entries = Object.keys(stateDict.state);
    const count = this.arena.sizes.length;
    let flat: Record<string, StateValue> | null = null;
    if (entries.length > 0) {
      if (entries.length !== count) {
        throw new RangeError(
          `DataParallel.loadOptimizerStateDict: state for ${entries.length} of ${count} ` +
            "parameters; data-parallel training needs all or none",
        );
      }
      flat = {};
      for (const [key, value] of Object.entries(stateDict.state[0])) {
        if (value !== null && typeof value === "object") {
          const all = new Float32Array(this.arena.length);
          this.arena.offsets.forEach((offset, i) => {
            all.set(stateDict.state[i][key] as FloatArray | number[], offset);
          });
          flat[key] = all;
        } else flat[key] = value;
      }
    }
    const payloads = Array.from({ length: this.workers }, (_, r) => {
      if (flat === null) return { state: null, group };
      const [from, to] = shardRange(this.arena.length, this.workers, r);
      const state: Record<string, StateValue> = {};
      for (const [key, value] of Object.entries(flat)) {
        state[key] = value instanceof Float32Array ? value.slice(from, to) : value;
      }
      return { state, group };
    });
    await this.pool.call("loadStateDict", payloads, true);
  }

  /** Stops the workers. The main thread's model keeps reading the arena. */
  close(): void {
    this.pool.close();
  }

  /** `await using dp = …` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}
