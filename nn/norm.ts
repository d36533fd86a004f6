/**
 * Normalisation layers: `BatchNorm1d`, `BatchNorm2d` (running statistics as buffers) and
 * `LayerNorm`, all over the functional forms in functional.ts.
 * @module
 */

import { noGrad } from "../autograd/grad_mode.ts";
import { full } from "../tensor/ops/elementwise.ts";
import { fmt } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { batchNorm, layerNorm } from "./functional.ts";
import { Module } from "./module.ts";
import { checkInt, checkNonNegative, empty, floatDType } from "./util.ts";

/**
 * Options of `BatchNorm1d` and `BatchNorm2d`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatchNorm2d } from "@adamant/core";
 * const bn = new BatchNorm2d(3, { momentum: null, affine: false });
 * assert(bn.weight === null && bn.momentum === null);
 * ```
 */
export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /**
   * The weight of each new batch statistic in the running ones (default 0.1); `null` for
   * a cumulative average over all batches.
   */
  momentum?: number | null;
  /** Learn a per-channel scale and shift (default true). */
  affine?: boolean;
  /**
   * Keep running statistics (default true); without them, evaluation mode normalises with
   * batch statistics too.
   */
  trackRunningStats?: boolean;
  /** The dtype of parameters and buffers: `"float32"` (the default) or `"float64"`. */
  dtype?: "float32" | "float64";
}

/**
 * What `BatchNorm1d` and `BatchNorm2d` share: per-channel `weight` (ones) and `bias`
 * (zeros), and the buffers `runningMean` (zeros), `runningVar` (ones) and
 * `numBatchesTracked` (an int32 scalar). In training mode a forward pass normalises with
 * the batch mean and biased variance over every dimension but the channels, and moves
 * the running statistics towards the batch mean and unbiased variance:
 * `running = (1 - momentum) · running + momentum · batch`. In evaluation mode the running
 * statistics normalise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatchNorm1d, BatchNormBase } from "@adamant/core";
 * assert(new BatchNorm1d(2) instanceof BatchNormBase);
 * ```
 */
export abstract class BatchNormBase extends Module {
  /** The number of channels, C. */
  readonly numFeatures: number;
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** The running-update weight, or null for a cumulative average. */
  readonly momentum: number | null;
  /** Per-channel scale `[C]`, or null without `affine`. */
  readonly weight: Tensor | null;
  /** Per-channel shift `[C]`, or null without `affine`. */
  readonly bias: Tensor | null;
  /** The running mean `[C]`, or null without `trackRunningStats`. */
  readonly runningMean: Tensor | null;
  /** The running (unbiased) variance `[C]`, or null without `trackRunningStats`. */
  readonly runningVar: Tensor | null;
  /** The number of training batches seen (int32 scalar), or null without `trackRunningStats`. */
  readonly numBatchesTracked: Tensor | null;

  /**
   * Creates the layer.
   *
   * @param numFeatures The number of channels, C.
   * @param options `eps`, `momentum`, `affine`, `trackRunningStats`, `dtype`.
   */
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super();
    const op = this.constructor.name;
    this.numFeatures = checkInt(op, "numFeatures", numFeatures, 1);
    this.eps = checkNonNegative(op, "eps", options.eps ?? 1e-5);
    const momentum = options.momentum === undefined ? 0.1 : options.momentum;
    if (momentum !== null && !(typeof momentum === "number" && momentum >= 0 && momentum <= 1)) {
      throw new RangeError(`${op}: momentum must be in [0, 1] or null, got ${momentum}`);
    }
    this.momentum = momentum;
    const dtype = floatDType(op, options.dtype);
    if (options.affine ?? true) {
      this.weight = this.registerParameter("weight", full([numFeatures], 1, dtype));
      this.bias = this.registerParameter("bias", empty(op, [numFeatures], dtype));
    } else {
      this.weight = this.bias = null;
    }
    if (options.trackRunningStats ?? true) {
      this.runningMean = this.registerBuffer("runningMean", empty(op, [numFeatures], dtype));
      this.runningVar = this.registerBuffer("runningVar", full([numFeatures], 1, dtype));
      this.numBatchesTracked = this.registerBuffer("numBatchesTracked", full([], 0, "int32"));
    } else {
      this.runningMean = this.runningVar = this.numBatchesTracked = null;
    }
  }

  /** Throws a TypeError unless `x` has a rank this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  /**
   * Resets the running statistics: mean 0, variance 1, no batches seen.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BatchNorm1d, randn } from "@adamant/core";
   * const bn = new BatchNorm1d(2);
   * bn.forward(randn([4, 2]).add(5));
   * bn.resetRunningStats();
   * assert.equal(bn.runningMean!.abs().sum().item(), 0);
   * ```
   */
  resetRunningStats(): void {
    noGrad(() => {
      this.runningMean?.fillInPlace(0);
      this.runningVar?.fillInPlace(1);
      this.numBatchesTracked?.fillInPlace(0);
    });
  }

  /**
   * Normalises the input (and, in training mode, updates the running statistics).
   *
   * @param x Input of shape `[N, C, ...]`.
   * @returns The normalised input, shaped like `x`.
   */
  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new TypeError(
        `${this.constructor.name}: input ${fmt(x.shape)} has ${x.shape[1]} channels in ` +
          `dimension 1, expected ${this.numFeatures}`,
      );
    }
    const tracking = this.runningMean !== null;
    let batches: number | undefined;
    if (this.training && this.numBatchesTracked !== null) {
      noGrad(() => this.numBatchesTracked!.addInPlace(1));
      // only the cumulative average needs the count on the host
      if (this.momentum === null) {
        if (x.device !== "cpu") {
          throw new TypeError(
            `${this.constructor.name}: momentum null (a cumulative average) needs the batch ` +
              "count on the host, which a GPU module keeps on the GPU; give a momentum",
          );
        }
        batches = this.numBatchesTracked.item();
      }
    }
    return batchNorm(x, this.runningMean, this.runningVar, {
      weight: this.weight,
      bias: this.bias,
      training: this.training || !tracking,
      momentum: this.momentum,
      eps: this.eps,
      numBatchesTracked: batches,
    });
  }
}

/**
 * Batch normalisation of `[N, C]` or `[N, C, L]` inputs over the batch (and length)
 * dimensions, per channel. See `BatchNormBase` for the parameters and buffers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatchNorm1d, randn } from "@adamant/core";
 * const bn = new BatchNorm1d(3);
 * const y = bn.forward(randn([16, 3]).mul(4).add(2));
 * assert(y.mean(0).abs().max().item() < 1e-5);
 * assert(bn.runningMean!.toArray().every((m) => m > 0));
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  /** Accepts `[N, C]` and `[N, C, L]`. */
  protected override checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new TypeError(`BatchNorm1d: expected a 2-D or 3-D input, got ${fmt(x.shape)}`);
    }
  }
}

/**
 * Batch normalisation of `[N, C, H, W]` inputs over the batch and spatial dimensions, per
 * channel. See `BatchNormBase` for the parameters and buffers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BatchNorm2d, randn } from "@adamant/core";
 * const bn = new BatchNorm2d(2);
 * const y = bn.forward(randn([4, 2, 3, 3]));
 * assert.equal(y.shape.join(), "4,2,3,3");
 * bn.eval();
 * assert.equal(bn.forward(randn([1, 2, 3, 3])).shape.join(), "1,2,3,3");
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  /** Accepts `[N, C, H, W]`. */
  protected override checkInput(x: Tensor): void {
    if (x.ndim !== 4) {
      throw new TypeError(`BatchNorm2d: expected a 4-D input, got ${fmt(x.shape)}`);
    }
  }
}

/**
 * Options of `LayerNorm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LayerNorm } from "@adamant/core";
 * assert.equal(new LayerNorm(4, { elementwiseAffine: false }).weight, null);
 * ```
 */
export interface LayerNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Learn an elementwise scale (ones) and shift (zeros) (default true). */
  elementwiseAffine?: boolean;
  /** The parameters' dtype: `"float32"` (the default) or `"float64"`. */
  dtype?: "float32" | "float64";
}

/**
 * Layer normalisation over the trailing `normalizedShape` dimensions of each sample,
 * with the biased variance, in training and evaluation alike.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LayerNorm, randn } from "@adamant/core";
 * const ln = new LayerNorm(8);
 * const y = ln.forward(randn([4, 8]).mul(3));
 * assert(y.mean(1).abs().max().item() < 1e-5);
 * ```
 */
export class LayerNorm extends Module {
  /** The normalised trailing shape. */
  readonly normalizedShape: readonly number[];
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** The elementwise scale, or null without `elementwiseAffine`. */
  readonly weight: Tensor | null;
  /** The elementwise shift, or null without `elementwiseAffine`. */
  readonly bias: Tensor | null;

  /**
   * Creates the layer.
   *
   * @param normalizedShape The trailing shape to normalise over (a number for one dimension).
   * @param options `eps`, `elementwiseAffine`, `dtype`.
   */
  constructor(normalizedShape: number | readonly number[], options: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === "number" ? [normalizedShape] : [...normalizedShape];
    if (shape.length === 0) throw new RangeError("LayerNorm: normalizedShape must not be empty");
    for (const d of shape) checkInt("LayerNorm", "each size of normalizedShape", d, 1);
    this.normalizedShape = shape;
    this.eps = checkNonNegative("LayerNorm", "eps", options.eps ?? 1e-5);
    const dtype = floatDType("LayerNorm", options.dtype);
    if (options.elementwiseAffine ?? true) {
      this.weight = this.registerParameter("weight", full(shape, 1, dtype));
      this.bias = this.registerParameter("bias", empty("LayerNorm", shape, dtype));
    } else {
      this.weight = this.bias = null;
    }
  }

  /**
   * Normalises each sample.
   *
   * @param x Input whose trailing dimensions equal `normalizedShape`.
   * @returns The normalised input, shaped like `x`.
   */
  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, {
      weight: this.weight,
      bias: this.bias,
      eps: this.eps,
    });
  }
}
