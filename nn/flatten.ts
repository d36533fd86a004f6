/**
 * `Flatten`: merges a range of dimensions into one.
 * @module
 */

import { Module } from "./module.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * Flattens dimensions `startDim` to `endDim` (inclusive) into one; by default every
 * dimension but the batch dimension, so `[N, C, H, W]` becomes `[N, C·H·W]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Flatten, zeros } from "@adamant/core";
 * assert.equal(new Flatten().forward(zeros([2, 3, 4, 5])).shape.join(), "2,60");
 * assert.equal(new Flatten(0, 1).forward(zeros([2, 3, 4])).shape.join(), "6,4");
 * ```
 */
export class Flatten extends Module {
  /** The first dimension flattened. */
  readonly startDim: number;
  /** The last dimension flattened. */
  readonly endDim: number;

  /**
   * Creates the layer.
   *
   * @param startDim The first dimension flattened (default 1).
   * @param endDim The last dimension flattened (default -1, the last).
   */
  constructor(startDim = 1, endDim = -1) {
    super();
    for (const [name, v] of [["startDim", startDim], ["endDim", endDim]] as const) {
      if (!Number.isInteger(v)) {
        throw new RangeError(`Flatten: ${name} must be an integer, got ${v}`);
      }
    }
    this.startDim = startDim;
    this.endDim = endDim;
  }

  /**
   * Flattens the input.
   *
   * @param x The input.
   * @returns A view (or copy) with the dimensions merged.
   */
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}
