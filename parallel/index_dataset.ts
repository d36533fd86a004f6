/**
 * `IndexDataset`: a data set of sample positions, so that a `DataLoader` draws the batches
 * (shuffling, checkpointed position) while `DataParallel` reads the samples themselves
 * from shared memory.
 * @module
 */

import type { Dataset, Sample } from "../data/dataset.ts";
import { tensor } from "../tensor/creation.ts";

/**
 * Samples 0 to `length - 1`, each one its own index: a batch's `x` (and `y`) holds the
 * positions of its samples, as int32. Hand `batch.x.toArray()` to `DataParallel.step`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader } from "@adamant/core";
 * import { IndexDataset } from "@adamant/core/parallel";
 * const loader = new DataLoader(new IndexDataset(5), { batchSize: 2 });
 * const batches = [...loader].map((b) => [...b.x.toArray()].join());
 * assert.deepEqual(batches, ["0,1", "2,3", "4"]);
 * ```
 */
export class IndexDataset implements Dataset {
  /** Number of samples. */
  readonly length: number;

  /**
   * A data set of `length` indices.
   *
   * @param length Number of samples.
   */
  constructor(length: number) {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(`IndexDataset: length must be an integer >= 0, got ${length}`);
    }
    this.length = length;
  }

  /**
   * Sample `index`: its own position, twice.
   *
   * @param index The position.
   * @returns `x` and `y`, each a one-element int32 tensor.
   */
  get(index: number): Sample {
    return { x: tensor([index], { dtype: "int32" }), y: tensor([index], { dtype: "int32" }) };
  }

  /**
   * The positions `indices[start..end)` as one batch.
   *
   * @param indices The epoch's order.
   * @param start First entry.
   * @param end Entry after the last.
   * @returns `x` and `y` holding those positions.
   */
  getBatch(indices: Int32Array, start: number, end: number): Sample {
    const part = Array.from(indices.subarray(start, end));
    return { x: tensor(part, { dtype: "int32" }), y: tensor(part, { dtype: "int32" }) };
  }
}
