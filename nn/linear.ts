/**
 * `Linear`: the affine layer `y = x Wᵀ + b`, initialised as PyTorch does.
 * @module
 */

import { checkInt, empty, floatDType } from "./util.ts";
import { linear } from "./functional.ts";
import { kaimingUniform, uniform } from "./init.ts";
import { Module } from "./module.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * Options of `Linear`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear } from "@adamant/core";
 * const layer = new Linear(4, 2, { bias: false, dtype: "float64" });
 * assert(layer.bias === null && layer.weight.dtype === "float64");
 * ```
 */
export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  /** The parameters' dtype: `"float32"` (the default) or `"float64"`. */
  dtype?: "float32" | "float64";
}

/**
 * A fully connected layer: `y = x Wᵀ + b` with `weight` of shape `[out, in]` and `bias` of
 * shape `[out]`. As in PyTorch, the weight is drawn by `kaimingUniform` with `a = √5`
 * (that is U(-1/√in, 1/√in)) and the bias from U(-1/√in, 1/√in), weight first, from the
 * seeded default generator.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, manualSeed, randn } from "@adamant/core";
 * manualSeed(0);
 * const layer = new Linear(3, 2);
 * assert.equal(layer.weight.shape.join(), "2,3");
 * assert(layer.weight.abs().max().item() <= 1 / Math.sqrt(3));
 * assert.equal(layer.forward(randn([5, 3])).shape.join(), "5,2");
 * ```
 */
export class Linear extends Module {
  /** Input features. */
  readonly inFeatures: number;
  /** Output features. */
  readonly outFeatures: number;
  /** The weight, `[outFeatures, inFeatures]`. */
  readonly weight: Tensor;
  /** The bias, `[outFeatures]`, or null when created with `bias: false`. */
  readonly bias: Tensor | null;

  /**
   * Creates the layer with freshly initialised parameters.
   *
   * @param inFeatures The size of each input's last dimension.
   * @param outFeatures The size of each output's last dimension.
   * @param options `bias`, `dtype`.
   */
  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    const dtype = floatDType("Linear", options.dtype);
    this.inFeatures = checkInt("Linear", "inFeatures", inFeatures);
    this.outFeatures = checkInt("Linear", "outFeatures", outFeatures);
    this.weight = this.registerParameter(
      "weight",
      empty("Linear", [outFeatures, inFeatures], dtype),
    );
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (options.bias ?? true) {
      this.bias = this.registerParameter("bias", empty("Linear", [outFeatures], dtype));
      const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
      uniform(this.bias, { a: -bound, b: bound });
    } else {
      this.bias = null;
    }
  }

  /**
   * Applies the layer.
   *
   * @param x Input of shape `[..., inFeatures]`.
   * @returns Output of shape `[..., outFeatures]`.
   */
  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
