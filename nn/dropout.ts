/**
 * `Dropout`: inverted dropout in training mode, the identity in evaluation mode.
 * @module
 */

import { checkProbability, dropout } from "./functional.ts";
import { Module } from "./module.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * In training mode, zeroes each element with probability `p` (drawn from the seeded
 * default generator) and scales the others by `1 / (1 - p)`; in evaluation mode
 * (`eval()`), returns its input unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Dropout, manualSeed, ones } from "@adamant/core";
 * manualSeed(0);
 * const drop = new Dropout(0.25);
 * const y = drop.forward(ones([8]));
 * assert(y.toArray().every((v) => v === 0 || Math.abs(v - 1 / 0.75) < 1e-6));
 * const x = ones([8]);
 * assert.equal(drop.eval().forward(x), x);
 * ```
 */
export class Dropout extends Module {
  /** The probability of zeroing an element. */
  readonly p: number;

  /**
   * Creates the layer.
   *
   * @param p The probability of zeroing an element, in [0, 1] (default 0.5).
   */
  constructor(p = 0.5) {
    super();
    this.p = checkProbability("Dropout", p);
  }

  /**
   * Applies dropout in training mode.
   *
   * @param x The input (floating).
   * @returns The masked, rescaled input; `x` itself in evaluation mode.
   */
  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training });
  }
}
