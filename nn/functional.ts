/**
 * Functional forms of the layers (as `torch.nn.functional`): `linear`, `dropout`,
 * `batchNorm` and `layerNorm` take their weights as arguments, so they can be used
 * without a module and gradient-checked with respect to every input. Each is a
 * composition of differentiable tensor ops, so backward (and double backward) comes free.
 * @module
 */

import { noGrad } from "../autograd/grad_mode.ts";
import { bernoulli } from "../tensor/creation.ts";
import { isFloat } from "../tensor/dtype.ts";
import type { Generator } from "../tensor/random.ts";
import { fmt } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * `x @ weightᵀ + bias`: the affine map of `Linear`.
 *
 * @param x Input of shape `[..., in]`.
 * @param weight Weight of shape `[out, in]`.
 * @param bias Optional bias of shape `[out]`.
 * @returns Output of shape `[..., out]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linear, tensor } from "@adamant/core";
 * const y = linear(tensor([[1, 2]]), tensor([[1, 0], [0, 1], [1, 1]]), tensor([0, 0, 1]));
 * assert.equal(y.toArray().join(), "1,2,4");
 * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) {
    throw new TypeError(`linear: weight must be 2-D [out, in], got ${fmt(weight.shape)}`);
  }
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new TypeError(
      `linear: input ${fmt(x.shape)} needs a last dimension of ${weight.shape[1]} ` +
        `to match weight ${fmt(weight.shape)}`,
    );
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new TypeError(
      `linear: bias ${fmt(bias.shape)} must be [${weight.shape[0]}] for weight ${
        fmt(weight.shape)
      }`,
    );
  }
  const y = x.matmul(weight.T);
  return bias ? y.add(bias) : y;
}

/**
 * Options of `dropout`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropout, ones } from "@adamant/core";
 * const x = ones([4]);
 * assert.equal(dropout(x, 0.5, { training: false }), x);
 * ```
 */
export interface DropoutOptions {
  /** Apply dropout (default true); when false the input is returned as is. */
  training?: boolean;
  /** The generator for the mask; the default generator (see `manualSeed`) otherwise. */
  generator?: Generator;
}

/** Throws a RangeError unless `p` is a probability. */
export function checkProbability(op: string, p: number): number {
  if (typeof p !== "number" || !(p >= 0 && p <= 1)) {
    throw new RangeError(`${op}: p must be a probability in [0, 1], got ${p}`);
  }
  return p;
}

/**
 * Inverted dropout: zeroes each element with probability `p` (a Bernoulli mask from the
 * seeded generator) and scales the rest by `1 / (1 - p)`, so the expected value is
 * unchanged. With `training: false` or `p = 0` it returns `x` itself.
 *
 * @param x The input (floating).
 * @param p The probability of zeroing an element, in [0, 1].
 * @param options `training`, `generator`.
 * @returns The masked input.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dropout, manualSeed, ones } from "@adamant/core";
 * manualSeed(0);
 * const y = dropout(ones([1000]), 0.5);
 * const kept = y.gt(0).sum().item();
 * assert(kept > 400 && kept < 600 && y.max().item() === 2);
 * ```
 */
export function dropout(x: Tensor, p = 0.5, options: DropoutOptions = {}): Tensor {
  checkProbability("dropout", p);
  if (!isFloat(x.dtype)) throw new TypeError(`dropout: needs a floating tensor, got ${x.dtype}`);
  if (!(options.training ?? true) || p === 0) return x;
  const mask = bernoulli(1 - p, x.shape, {
    dtype: x.dtype,
    device: x.device,
    generator: options.generator,
  });
  if (p < 1) noGrad(() => mask.mulInPlace(1 / (1 - p)));
  return x.mul(mask);
}

/**
 * Options of `batchNorm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNorm, randn } from "@adamant/core";
 * const y = batchNorm(randn([8, 3]), null, null, { training: true, eps: 1e-3 });
 * assert.equal(y.shape.join(), "8,3");
 * ```
 */
export interface FunctionalBatchNormOptions {
  /** Per-channel scale `[C]`. */
  weight?: Tensor | null;
  /** Per-channel shift `[C]`. */
  bias?: Tensor | null;
  /** Normalise with batch statistics and update the running ones (default false). */
  training?: boolean;
  /**
   * The weight of the new batch statistic in the running update (default 0.1); `null`
   * averages over all batches seen (a cumulative average, with `numBatchesTracked`).
   */
  momentum?: number | null;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** With `momentum: null`: the count of batches, including this one. */
  numBatchesTracked?: number;
}

/**
 * Batch normalisation over every dimension but the channels (dimension 1) of
 * `[N, C, ...]`: `(x - mean) / √(var + eps) · weight + bias`. In training, the batch
 * mean and biased variance normalise, and the running statistics (when given) are moved
 * towards the batch mean and the unbiased batch variance, in place; otherwise the running
 * statistics normalise.
 *
 * @param x Input of shape `[N, C, ...]`.
 * @param runningMean Running mean `[C]` (updated in training), or null.
 * @param runningVar Running variance `[C]` (updated in training), or null.
 * @param options `weight`, `bias`, `training`, `momentum`, `eps`.
 * @returns The normalised input, shaped like `x`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchNorm, tensor } from "@adamant/core";
 * const y = batchNorm(tensor([[1], [3]]), null, null, { training: true });
 * assert(Math.abs(y.toArray()[0] + 1) < 1e-4);
 * ```
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  options: FunctionalBatchNormOptions = {},
): Tensor {
  const training = options.training ?? false;
  const eps = options.eps ?? 1e-5;
  if (x.ndim < 2) {
    throw new TypeError(`batchNorm: input must be [N, C, ...], got ${fmt(x.shape)}`);
  }
  const c = x.shape[1];
  const channelShape = x.shape.map((d, i) => (i === 1 ? d : 1));
  for (
    const [name, t] of [
      ["runningMean", runningMean],
      ["runningVar", runningVar],
      ["weight", options.weight],
      ["bias", options.bias],
    ] as const
  ) {
    if (t && (t.ndim !== 1 || t.shape[0] !== c)) {
      throw new TypeError(
        `batchNorm: ${name} ${fmt(t.shape)} must be [${c}] for input ${fmt(x.shape)}`,
      );
    }
  }
  if ((runningMean === null) !== (runningVar === null)) {
    throw new TypeError("batchNorm: give both runningMean and runningVar, or neither");
  }
  if (!training && runningMean === null) {
    throw new TypeError("batchNorm: evaluation needs runningMean and runningVar");
  }
  const axes = x.shape.map((_, i) => i).filter((i) => i !== 1);
  let y: Tensor;
  if (training) {
    const n = x.size / c;
    if (n <= 1) {
      throw new RangeError(
        `batchNorm: training needs more than 1 value per channel, got input ${fmt(x.shape)}`,
      );
    }
    const mean = x.mean(axes, true);
    const centred = x.sub(mean);
    const variance = centred.square().mean(axes, true);
    y = centred.mul(variance.add(eps).rsqrt());
    if (runningMean !== null && runningVar !== null) {
      let momentum = options.momentum === undefined ? 0.1 : options.momentum;
      if (momentum === null) momentum = 1 / Math.max(options.numBatchesTracked ?? 1, 1);
      const m = momentum;
      noGrad(() => {
        const batchMean = mean.reshape([c]), batchVar = variance.reshape([c]);
        const unbiased = batchVar.mul(n / (n - 1));
        runningMean.mulInPlace(1 - m).addInPlace(batchMean, m);
        runningVar.mulInPlace(1 - m).addInPlace(unbiased, m);
        for (const t of [batchMean, batchVar, unbiased]) t.dispose();
      });
    }
  } else {
    const mean = runningMean!.reshape(channelShape);
    const scale = runningVar!.add(eps).rsqrt().reshape(channelShape);
    y = x.sub(mean).mul(scale);
  }
  if (options.weight) y = y.mul(options.weight.reshape(channelShape));
  if (options.bias) y = y.add(options.bias.reshape(channelShape));
  return y;
}

/**
 * Options of `layerNorm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNorm, ones, randn } from "@adamant/core";
 * const y = layerNorm(randn([2, 4]), [4], { weight: ones([4]), eps: 1e-6 });
 * assert.equal(y.shape.join(), "2,4");
 * ```
 */
export interface FunctionalLayerNormOptions {
  /** Elementwise scale shaped like `normalizedShape`. */
  weight?: Tensor | null;
  /** Elementwise shift shaped like `normalizedShape`. */
  bias?: Tensor | null;
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
}

/**
 * Layer normalisation over the last dimensions (those of `normalizedShape`), with the
 * biased variance: `(x - mean) / √(var + eps) · weight + bias`.
 *
 * @param x Input whose trailing dimensions equal `normalizedShape`.
 * @param normalizedShape The normalised trailing shape.
 * @param options `weight`, `bias`, `eps`.
 * @returns The normalised input, shaped like `x`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNorm, tensor } from "@adamant/core";
 * const y = layerNorm(tensor([[1, 3]]), [2]);
 * assert(Math.abs(y.toArray()[1] - 1) < 1e-4);
 * ```
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: readonly number[],
  options: FunctionalLayerNormOptions = {},
): Tensor {
  const k = normalizedShape.length;
  const trailing = x.shape.slice(x.ndim - k);
  if (k === 0 || x.ndim < k || trailing.join() !== normalizedShape.join()) {
    throw new TypeError(
      `layerNorm: input ${fmt(x.shape)} must end in normalizedShape ${fmt(normalizedShape)}`,
    );
  }
  for (const [name, t] of [["weight", options.weight], ["bias", options.bias]] as const) {
    if (t && t.shape.join() !== normalizedShape.join()) {
      throw new TypeError(
        `layerNorm: ${name} ${fmt(t.shape)} must match normalizedShape ${fmt(normalizedShape)}`,
      );
    }
  }
  const axes = normalizedShape.map((_, i) => x.ndim - k + i);
  const centred = x.sub(x.mean(axes, true));
  const variance = centred.square().mean(axes, true);
  let y = centred.mul(variance.add(options.eps ?? 1e-5).rsqrt());
  if (options.weight) y = y.mul(options.weight);
  if (options.bias) y = y.add(options.bias);
  return y;
}
