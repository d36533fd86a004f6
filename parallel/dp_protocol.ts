/**
 * What the main thread of `DataParallel` hands its workers at setup, and the helpers both
 * sides use: the optimizer table, how a global batch splits, and how hyper-parameters
 * travel through shared memory.
 * @module
 */

import { Adagrad } from "../optim/adagrad.ts";
import { Adam } from "../optim/adam.ts";
import { AdamW } from "../optim/adamw.ts";
import type { Optimizer, ParamGroup } from "../optim/optimizer.ts";
import { RMSprop } from "../optim/rmsprop.ts";
import { SGD } from "../optim/sgd.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { SharedFloats } from "./shared_floats.ts";
import type { DType } from "../tensor/dtype.ts";

/** The command that runs one training step. */
export const STEP = 1;

/**
 * The optimizers `DataParallel` shards, by name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OPTIMIZERS } from "@adamant/core/parallel";
 * assert.deepEqual(Object.keys(OPTIMIZERS), ["adam", "adamw", "sgd", "rmsprop", "adagrad"]);
 * ```
 */
export const OPTIMIZERS: Readonly<
  Record<string, new (params: Tensor[], options: Record<string, unknown>) => Optimizer>
> = {
  adam: Adam,
  adamw: AdamW,
  sgd: SGD,
  rmsprop: RMSprop,
  adagrad: Adagrad,
} as never;

/**
 * Where a worker finds what to run: the module, the name of its export, and the
 * (structured-cloneable) arguments to call it with.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ModuleSpec } from "@adamant/core/parallel";
 * const spec: ModuleSpec = { module: "./models.ts", export: "buildModel", args: ["mlp"] };
 * assert.equal(spec.export, "buildModel");
 * ```
 */
export interface ModuleSpec {
  /** The module's URL (absolute: workers resolve it from the library's folder). */
  module: string;
  /** The exported function (default `"default"`). */
  export?: string;
  /** Arguments of the call (default none). */
  args?: readonly unknown[];
}

/** What each worker's setup receives. */
export interface DataParallelInit {
  model: ModuleSpec;
  loss: ModuleSpec | null;
  shapes: number[][];
  /** The parameter arena. */
  params: SharedFloats;
  /** One gradient slice per worker, each as long as the arena. */
  grads: SharedFloats;
  x: SharedArrayBuffer;
  xDType: DType;
  y: SharedArrayBuffer;
  yDType: DType;
  inputShape: number[];
  targetShape: number[];
  /** Int32: `QUEUE` slots of `batchSize` sample indices, one per step in flight. */
  indices: SharedArrayBuffer;
  /**
   * Float64: `QUEUE` slots of per-rank loss sums, then per-rank squared norms, then the
   * total norm.
   */
  results: SharedArrayBuffer;
  /** Float64: per rank, a row of milliseconds per phase summed over its steps (`PHASE_SLOT`). */
  timings: SharedArrayBuffer;
  optimizer: string;
  options: Record<string, unknown>;
  hyperKeys: HyperKey[];
  /** Float64: `QUEUE` slots of the values of `hyperKeys`. */
  hyper: SharedArrayBuffer;
  maxGradNorm: number | null;
  /** The boards of products that workers help each other with (null: one worker). */
  boards: SharedArrayBuffer | null;
}

/**
 * The parts of a worker's step that `DataParallel.timings` reports, in report order (the
 * keys of `WorkerTimings` besides `steps`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PHASES } from "@adamant/core/parallel";
 * assert.deepEqual(PHASES, ["compute", "reduce", "update", "wait"]);
 * ```
 */
export const PHASES = ["compute", "reduce", "update", "wait"] as const;

/** Where each phase, then the step count, sits in a rank's row of the shared timings. */
export const PHASE_SLOT = { compute: 0, reduce: 1, update: 2, wait: 3, steps: 4 } as const;

/** A number of a parameter group, as a key (and an index for array options like betas). */
export type HyperKey = [string, number | null];

/** The numeric options of `group` (entries of numeric arrays each count). */
export function hyperKeys(group: ParamGroup): HyperKey[] {
  const keys: HyperKey[] = [];
  for (const [key, value] of Object.entries(group)) {
    if (typeof value === "number") keys.push([key, null]);
    else if (Array.isArray(value) && value.every((v) => typeof v === "number")) {
      value.forEach((_, i) => keys.push([key, i]));
    }
  }
  return keys;
}

/** Copies the numbers named by `keys` from `group` into `out` (or back, with `toGroup`). */
export function syncHyper(
  keys: readonly HyperKey[],
  group: ParamGroup,
  out: Float64Array,
  toGroup: boolean,
): void {
  const g = group as unknown as Record<string, number | number[]>;
  keys.forEach(([key, index], i) => {
    if (index === null) {
      if (toGroup) g[key] = out[i];
      else out[i] = g[key] as number;
    } else {
      if (toGroup) (g[key] as number[])[index] = out[i];
      else out[i] = (g[key] as number[])[index];
    }
  });
}

/**
 * Slot `slot` of a shared array cut into one slot of `per` elements for each step that may
 * be in flight: the indices, hyper-parameters and results of that step.
 *
 * @example
 * ```ts ignore
 * slotOf(results, 1, 2 * workers + 1); // the second step's results
 * ```
 */
export function slotOf<T extends Int32Array | Float64Array>(all: T, slot: number, per: number): T {
  return all.subarray(slot * per, (slot + 1) * per) as T;
}

/**
 * The samples `[start, start + count)` of a global batch of `total` that `rank` of `size`
 * takes: equal parts, the first `total % size` ranks taking one more.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchShare } from "@adamant/core/parallel";
 * assert.deepEqual(batchShare(10, 3, 0), [0, 4]);
 * assert.deepEqual(batchShare(10, 3, 2), [7, 3]);
 * ```
 */
export function batchShare(total: number, size: number, rank: number): [number, number] {
  const base = Math.floor(total / size), extra = total % size;
  return [rank * base + Math.min(rank, extra), base + (rank < extra ? 1 : 0)];
}
