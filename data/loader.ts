/**
 * The `DataLoader`: batches of a `Dataset`, optionally shuffled each epoch by the seeded
 * generator, with a state that a checkpoint saves so a resumed run continues bit-identically.
 * @module
 */

import { defaultGenerator, Generator } from "../tensor/random.ts";
import { fmt, sameShape } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { type Dataset, describe, type Sample } from "./dataset.ts";

/**
 * Options of `DataLoader`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DataLoaderOptions, Generator } from "@adamant/core";
 * const options: DataLoaderOptions = { batchSize: 32, shuffle: true, generator: new Generator(1) };
 * assert(options.batchSize === 32);
 * ```
 */
export interface DataLoaderOptions {
  /** Samples per batch, a positive integer (default 1). */
  batchSize?: number;
  /** Draw a new order of the samples at the start of each epoch (default false). */
  shuffle?: boolean;
  /** Skip the last batch of an epoch when it is smaller than `batchSize` (default false). */
  dropLast?: boolean;
  /** The generator that shuffles; the default generator (see `manualSeed`) otherwise. */
  generator?: Generator;
}

/**
 * One batch: `x` and `y` with the batch as their first dimension. The caller owns the
 * tensors: dispose them when done (`for (using batch of loader)` does it), or run the
 * loop inside `tidy`, so the next batches reuse their memory.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader, TensorDataset, arange } from "@adamant/core";
 * const loader = new DataLoader(new TensorDataset(arange(6), arange(6)), { batchSize: 4 });
 * for (using batch of loader) assert(batch.x.shape[0] <= 4);
 * ```
 */
export interface Batch extends Sample, Disposable {}

/**
 * Where a `DataLoader` stands, as plain numbers (JSON-safe): enough to continue the current
 * epoch in the same order and to draw the same orders afterwards.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader, TensorDataset, arange } from "@adamant/core";
 * const state = new DataLoader(new TensorDataset(arange(3), arange(3))).stateDict();
 * assert(state.epoch === 0 && state.batch === 0 && state.samples === 3);
 * ```
 */
export interface DataLoaderState {
  /** Epochs begun so far. */
  epoch: number;
  /** Batches of the current epoch already handed out. */
  batch: number;
  /** Samples in the dataset when the state was taken (checked on load). */
  samples: number;
  /** The batch size (checked on load). */
  batchSize: number;
  /** Whether the loader shuffles (checked on load). */
  shuffle: boolean;
  /** The generator's state just before it drew the current epoch's order (null: none). */
  epochGenerator: number[] | null;
  /** The generator's state now, so the next epochs draw the same orders (null: no shuffle). */
  generator: number[] | null;
}

/**
 * Shuffles `order` in place from the identity: Fisher–Yates from the last position down,
 * one `generator.integer(0, i + 1)` draw per position `i = n − 1, …, 1`, each draw taking
 * two 32-bit outputs of the generator (see `Generator.uniform`). This is the whole draw
 * order: the same generator state gives the same permutation on every platform.
 */
export function drawPermutation(order: Int32Array, generator: Generator): void {
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = order.length - 1; i > 0; i--) {
    const j = generator.integer(0, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

/**
 * Iterates over a dataset in batches: `for (const { x, y } of loader)`. Each epoch (each
 * `for … of`) visits every sample once, in dataset order or, with `shuffle`, in an order
 * drawn from the seeded generator at the start of the epoch (Fisher–Yates over an
 * `Int32Array` permutation; see `permutation`). A `TensorDataset` batch is gathered with one
 * copy per tensor into memory from the buffer pool. The caller owns each batch (see
 * `Batch`): once earlier batches are disposed, the loader takes no fresh memory
 * (`memory().freshBytes` stays put).
 *
 * `stateDict()` / `loadStateDict()` save and restore the epoch, the position in it and the
 * generator, so that a run resumed from a checkpoint sees the same batches as one that
 * never stopped. A `for … of` that ends early (`break`) leaves its epoch unfinished; the
 * next `for … of` begins a new epoch, unless the state was just loaded mid-epoch, in which
 * case it finishes that epoch first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader, Generator, TensorDataset, arange } from "@adamant/core";
 * const ds = new TensorDataset(arange(10).reshape([5, 2]), arange(0, 5, 1, { dtype: "int32" }));
 * const loader = new DataLoader(ds, { batchSize: 2, shuffle: true, generator: new Generator(0) });
 * assert(loader.length === 3);
 * const seen: number[] = [];
 * for (const { x, y } of loader) {
 *   assert(x.shape[1] === 2 && x.shape[0] === y.shape[0]);
 *   seen.push(...y.toArray());
 *   x.dispose();
 *   y.dispose();
 * }
 * assert(seen.sort().join() === "0,1,2,3,4");
 * ```
 */
export class DataLoader implements Iterable<Batch> {
  /** The dataset read. */
  readonly dataset: Dataset;
  /** Samples per batch. */
  readonly batchSize: number;
  /** Whether each epoch draws a new order. */
  readonly shuffle: boolean;
  /** Whether a smaller last batch is skipped. */
  readonly dropLast: boolean;
  /** The generator that shuffles. */
  readonly generator: Generator;
  #order = new Int32Array(0);
  #epoch = 0;
  #batch = 0;
  #epochGenerator: number[] | null = null;
  /** The next `for … of` continues a loaded, unfinished epoch instead of beginning one. */
  #resume = false;
  /** Bumped by each iteration that begins, so an older one can tell it was overtaken. */
  #iteration = 0;

  /**
   * Creates a loader over `dataset`.
   *
   * @param dataset What to read (`TensorDataset`, or any `Dataset`).
   * @param options `batchSize`, `shuffle`, `dropLast`, `generator`.
   */
  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    if (
      dataset === null || typeof dataset !== "object" || typeof dataset.get !== "function" ||
      typeof dataset.length !== "number"
    ) {
      throw new TypeError(
        `DataLoader: dataset must have a numeric length and a get(index) method, got ${
          describe(dataset)
        }`,
      );
    }
    if (options === null || typeof options !== "object") {
      throw new TypeError(`DataLoader: options must be an object, got ${describe(options)}`);
    }
    const { batchSize = 1, shuffle = false, dropLast = false, generator = defaultGenerator } =
      options;
    if (typeof batchSize !== "number") {
      throw new TypeError(
        `DataLoader: option batchSize must be a positive integer, got ${describe(batchSize)}`,
      );
    }
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(
        `DataLoader: option batchSize must be a positive integer, got ${batchSize}`,
      );
    }
    for (const [name, value] of [["shuffle", shuffle], ["dropLast", dropLast]] as const) {
      if (typeof value !== "boolean") {
        throw new TypeError(`DataLoader: option ${name} must be a boolean, got ${describe(value)}`);
      }
    }
    if (!(generator instanceof Generator)) {
      throw new TypeError(
        `DataLoader: option generator must be a Generator, got ${describe(generator)}`,
      );
    }
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.dropLast = dropLast;
    this.generator = generator;
  }

  /**
   * Number of batches per epoch: `ceil(samples / batchSize)`, or `floor(…)` with `dropLast`.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataLoader, TensorDataset, arange } from "@adamant/core";
   * const ds = new TensorDataset(arange(10), arange(10));
   * assert(new DataLoader(ds, { batchSize: 4 }).length === 3);
   * assert(new DataLoader(ds, { batchSize: 4, dropLast: true }).length === 2);
   * ```
   */
  get length(): number {
    const n = this.dataset.length;
    return this.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /**
   * Epochs begun so far (an epoch begins with the first batch of a `for … of`).
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataLoader, TensorDataset, arange } from "@adamant/core";
   * const loader = new DataLoader(new TensorDataset(arange(2), arange(2)));
   * for (using _ of loader);
   * assert(loader.epoch === 1);
   * ```
   */
  get epoch(): number {
    return this.#epoch;
  }

  /**
   * The current epoch's order of sample indices, as a copy: batch `b` holds samples
   * `permutation[b * batchSize]` onward. The identity without `shuffle`; empty before the
   * first epoch.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataLoader, Generator, TensorDataset, arange } from "@adamant/core";
   * const ds = new TensorDataset(arange(4), arange(4));
   * const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, generator: new Generator(5) });
   * for (using batch of loader) {
   *   assert(batch.x.toArray().join() === loader.permutation.join());
   * }
   * ```
   */
  get permutation(): Int32Array {
    return this.#order.slice();
  }

  /** Begins an epoch: draws (or resets) the order from the generator's current state. */
  #beginEpoch(): void {
    const n = this.dataset.length;
    if (this.#order.length !== n) this.#order = new Int32Array(n);
    if (this.shuffle) {
      this.#epochGenerator = this.generator.getState();
      drawPermutation(this.#order, this.generator);
    } else {
      for (let i = 0; i < n; i++) this.#order[i] = i;
    }
    this.#epoch++;
    this.#batch = 0;
  }

  /**
   * One epoch of batches. Prefer `for … of`; a new iteration overtakes an older one, whose
   * next step then throws.
   *
   * @returns An iterator over the batches.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataLoader, TensorDataset, arange } from "@adamant/core";
   * const loader = new DataLoader(new TensorDataset(arange(5), arange(5)), { batchSize: 2 });
   * const sizes = [...loader].map((b) => b.x.shape[0]);
   * assert(sizes.join() === "2,2,1");
   * ```
   */
  *[Symbol.iterator](): IterableIterator<Batch> {
    if (this.#resume) this.#resume = false;
    else this.#beginEpoch();
    const iteration = ++this.#iteration;
    const n = this.#order.length, batches = this.length;
    if (n !== this.dataset.length) {
      throw new RangeError(
        `DataLoader: the dataset now has ${this.dataset.length} samples, but this epoch's ` +
          `order was drawn for ${n}`,
      );
    }
    while (this.#batch < batches) {
      const start = this.#batch * this.batchSize;
      const batch = this.#collate(start, Math.min(start + this.batchSize, n));
      this.#batch++;
      yield batch;
      if (iteration !== this.#iteration) {
        throw new Error(
          "DataLoader: another iteration over this loader began, so this one cannot go on " +
            "(use one for … of at a time, or one loader per consumer)",
        );
      }
    }
  }

  /** Stacks samples `order[start]` … `order[end - 1]` into one batch. */
  #collate(start: number, end: number): Batch {
    const ds = this.dataset;
    const { x, y } = ds.getBatch
      ? ds.getBatch(this.#order, start, end)
      : stackSamples(ds, this.#order, start, end);
    return {
      x,
      y,
      [Symbol.dispose]() {
        x.dispose();
        y.dispose();
      },
    };
  }

  /**
   * The loader's position and generator state, to store in a checkpoint. The current
   * epoch's order is saved as the generator state it was drawn from, so the state is a
   * few numbers whatever the dataset size.
   *
   * @returns A JSON-safe state for `loadStateDict`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataLoader, Generator, TensorDataset, arange } from "@adamant/core";
   * const ds = new TensorDataset(arange(6), arange(6));
   * const a = new DataLoader(ds, { batchSize: 2, shuffle: true, generator: new Generator(1) });
   * const it = a[Symbol.iterator]();
   * it.next();
   * const saved = JSON.parse(JSON.stringify(a.stateDict()));
   * const rest = [...it].map((b) => b.x.toArray().join()).join(";");
   * const b = new DataLoader(ds, { batchSize: 2, shuffle: true, generator: new Generator(99) });
   * b.loadStateDict(saved);
   * assert([...b].map((b) => b.x.toArray().join()).join(";") === rest);
   * ```
   */
  stateDict(): DataLoaderState {
    return {
      epoch: this.#epoch,
      batch: this.#batch,
      samples: this.#epoch === 0 ? this.dataset.length : this.#order.length,
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      epochGenerator: this.#epochGenerator === null ? null : [...this.#epochGenerator],
      generator: this.shuffle ? this.generator.getState() : null,
    };
  }

  /**
   * Restores a state from `stateDict`: the epoch count, the current epoch's order and
   * position, and the generator's state (for the default generator, that is the shared
   * generator, as it was when the state was taken). The next `for … of` finishes the saved
   * epoch when it was unfinished.
   *
   * @param state A state from `stateDict` of a loader with the same dataset size,
   * `batchSize` and `shuffle`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { DataLoader, TensorDataset, arange } from "@adamant/core";
   * const ds = new TensorDataset(arange(4), arange(4));
   * const loader = new DataLoader(ds, { batchSize: 2 });
   * loader.loadStateDict({ ...loader.stateDict(), epoch: 1, batch: 1 });
   * assert([...loader].length === 1 && loader.epoch === 1);
   * ```
   */
  loadStateDict(state: DataLoaderState): void {
    const op = "DataLoader.loadStateDict";
    if (state === null || typeof state !== "object") {
      throw new TypeError(
        `${op}: state must be an object from stateDict(), got ${describe(state)}`,
      );
    }
    const { epoch, batch, samples, batchSize, shuffle, epochGenerator, generator } = state;
    const n = this.dataset.length;
    const checks: [string, unknown, unknown][] = [
      ["samples", samples, n],
      ["batchSize", batchSize, this.batchSize],
      ["shuffle", shuffle, this.shuffle],
    ];
    for (const [name, saved, now] of checks) {
      if (saved !== now) {
        throw new RangeError(`${op}: the state has ${name} ${saved}, this loader has ${now}`);
      }
    }
    if (!Number.isInteger(epoch) || epoch < 0) {
      throw new RangeError(`${op}: state.epoch must be a non-negative integer, got ${epoch}`);
    }
    if (!Number.isInteger(batch) || batch < 0 || batch > this.length || (epoch === 0 && batch)) {
      throw new RangeError(
        `${op}: state.batch must be an integer in [0, ${this.length}]` +
          `${epoch === 0 ? " (0 before the first epoch)" : ""}, got ${batch}`,
      );
    }
    const inEpoch = this.shuffle && epoch > 0;
    for (
      const [name, value, needed] of [
        ["epochGenerator", epochGenerator, inEpoch],
        ["generator", generator, this.shuffle],
      ] as const
    ) {
      if (needed && !(Array.isArray(value) && value.length === 5)) {
        throw new TypeError(
          `${op}: state.${name} must be 5 numbers from Generator.getState(), got ${
            describe(value)
          }`,
        );
      }
    }
    if (this.#order.length !== n) this.#order = new Int32Array(n);
    if (inEpoch) {
      const replay = new Generator();
      replay.setState(epochGenerator!);
      drawPermutation(this.#order, replay);
    } else {
      for (let i = 0; i < n; i++) this.#order[i] = i;
    }
    if (epoch === 0) this.#order = new Int32Array(0);
    if (this.shuffle) this.generator.setState(generator!);
    this.#epochGenerator = inEpoch ? [...epochGenerator!] : null;
    this.#epoch = epoch;
    this.#batch = batch;
    this.#resume = epoch > 0 && batch < this.length;
  }
}

/** The generic path: `get(i)` per sample, each copied into one batch buffer per tensor. */
function stackSamples(ds: Dataset, order: Int32Array, start: number, end: number): Sample {
  let first: Sample | null = null, x: Tensor | null = null, y: Tensor | null = null;
  try {
    for (let k = start; k < end; k++) {
      const index = order[k];
      const sample = ds.get(index);
      for (const name of ["x", "y"] as const) {
        const t = sample?.[name];
        if (!(t instanceof Tensor)) {
          throw new TypeError(
            `DataLoader: dataset.get(${index}).${name} must be a Tensor, got ${describe(t)}`,
          );
        }
      }
      if (first === null) {
        first = sample;
        x = Tensor.empty([end - start, ...sample.x.shape], sample.x.dtype);
        y = Tensor.empty([end - start, ...sample.y.shape], sample.y.dtype);
      }
      copyRow(x!, k - start, sample.x, first.x, `dataset.get(${index}).x`);
      copyRow(y!, k - start, sample.y, first.y, `dataset.get(${index}).y`);
      if (sample !== first) {
        sample.x.dispose();
        sample.y.dispose();
      }
    }
  } catch (e) {
    x?.dispose();
    y?.dispose();
    throw e;
  } finally {
    first?.x.dispose();
    first?.y.dispose();
  }
  return { x: x!, y: y! };
}

/** Copies one sample tensor into row `row` of a batch, checking it matches the first. */
function copyRow(out: Tensor, row: number, t: Tensor, first: Tensor, what: string): void {
  if (t.dtype !== first.dtype || !sameShape(t.shape, first.shape)) {
    throw new TypeError(
      `DataLoader: ${what} is ${t.dtype} ${fmt(t.shape)}, but the batch began with ` +
        `${first.dtype} ${fmt(first.shape)}; samples must agree to be stacked`,
    );
  }
  const c = t.isContiguous ? t : t.contiguous();
  const from = c.data, to = out.data, o = row * c.size, s = c.offset;
  for (let i = 0; i < c.size; i++) to[o + i] = from[s + i];
  if (c !== t) c.dispose();
}
