/**
 * Loss functions, as `torch.nn.functional`: each compares an input with a target and
 * reduces the elementwise losses by `reduction` (`"mean"`, the default, `"sum"` or
 * `"none"`). All are compositions of differentiable tensor ops.
 * @module
 */

import { isFloat } from "../tensor/dtype.ts";
import { tensor } from "../tensor/creation.ts";
import { crossEntropyRows } from "../tensor/ops/cross_entropy.ts";
import { fmt } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";

/**
 * How a loss reduces its elementwise values: their mean (the default), their sum, or
 * not at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mseLoss, type Reduction, tensor } from "@adamant/core";
 * const reduction: Reduction = "sum";
 * assert.equal(mseLoss(tensor([1, 2]), tensor([0, 0]), { reduction }).item(), 5);
 * ```
 */
export type Reduction = "mean" | "sum" | "none";

/**
 * The option every loss takes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l1Loss, type LossOptions, tensor } from "@adamant/core";
 * const options: LossOptions = { reduction: "none" };
 * assert.equal(l1Loss(tensor([1, -2]), tensor([0, 0]), options).toArray().join(), "1,2");
 * ```
 */
export interface LossOptions {
  /** `"mean"` (the default), `"sum"` or `"none"` (the elementwise losses). */
  reduction?: Reduction;
}

function reductionOf(op: string, options: LossOptions): Reduction {
  const r = options.reduction ?? "mean";
  if (r !== "mean" && r !== "sum" && r !== "none") {
    throw new RangeError(
      `${op}: option reduction must be "mean", "sum" or "none", got ${JSON.stringify(r)}`,
    );
  }
  return r;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === "none" ? loss : reduction === "sum" ? loss.sum() : loss.mean();
}

function checkTensor(op: string, name: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) {
    throw new TypeError(`${op}: ${name} must be a Tensor, got ${typeof t}`);
  }
}

function checkFloat(op: string, name: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${op}: ${name} must be floating, got ${t.dtype} ${fmt(t.shape)}`);
  }
}

/** Checks that input and target are floating tensors of one shape. */
function checkPair(op: string, input: Tensor, target: Tensor): void {
  checkTensor(op, "input", input);
  checkTensor(op, "target", target);
  checkFloat(op, "input", input);
  checkFloat(op, "target", target);
  if (input.shape.join() !== target.shape.join()) {
    throw new TypeError(
      `${op}: input ${fmt(input.shape)} and target ${fmt(target.shape)} must have the same shape`,
    );
  }
}

/**
 * Mean squared error: `(input - target)²`, reduced.
 *
 * @param input The prediction.
 * @param target The target, of the same shape.
 * @param options `reduction`.
 * @returns The loss (a scalar unless `reduction` is `"none"`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mseLoss, tensor } from "@adamant/core";
 * assert.equal(mseLoss(tensor([1, 3]), tensor([0, 1])).item(), 2.5);
 * ```
 */
export function mseLoss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const reduction = reductionOf("mseLoss", options);
  checkPair("mseLoss", input, target);
  return reduce(input.sub(target).square(), reduction);
}

/**
 * Mean absolute error: `|input - target|`, reduced (its gradient at a zero difference is
 * 0, as in PyTorch).
 *
 * @param input The prediction.
 * @param target The target, of the same shape.
 * @param options `reduction`.
 * @returns The loss.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { l1Loss, tensor } from "@adamant/core";
 * assert.equal(l1Loss(tensor([1, -3]), tensor([0, 0])).item(), 2);
 * ```
 */
export function l1Loss(input: Tensor, target: Tensor, options: LossOptions = {}): Tensor {
  const reduction = reductionOf("l1Loss", options);
  checkPair("l1Loss", input, target);
  return reduce(input.sub(target).abs(), reduction);
}

/**
 * Options of `huberLoss`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { huberLoss, tensor } from "@adamant/core";
 * assert.equal(huberLoss(tensor([3]), tensor([0]), { delta: 2 }).item(), 4);
 * ```
 */
export interface HuberLossOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1; must be positive). */
  delta?: number;
}

/**
 * The Huber loss: `0.5 · d²` where `d = |input - target| < delta`, and
 * `delta · (d - 0.5 · delta)` elsewhere, reduced.
 *
 * @param input The prediction.
 * @param target The target, of the same shape.
 * @param options `delta`, `reduction`.
 * @returns The loss.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { huberLoss, tensor } from "@adamant/core";
 * const loss = huberLoss(tensor([0.5, 3]), tensor([0, 0]), { reduction: "none" });
 * assert.equal(loss.toArray().join(), "0.125,2.5");
 * ```
 */
export function huberLoss(input: Tensor, target: Tensor, options: HuberLossOptions = {}): Tensor {
  const reduction = reductionOf("huberLoss", options);
  const delta = options.delta ?? 1;
  if (typeof delta !== "number" || !(delta > 0) || !Number.isFinite(delta)) {
    throw new RangeError(`huberLoss: option delta must be a positive number, got ${delta}`);
  }
  checkPair("huberLoss", input, target);
  const d = input.sub(target).abs();
  const loss = d.lt(delta).where(d.square().mul(0.5), d.sub(0.5 * delta).mul(delta));
  return reduce(loss, reduction);
}

/**
 * Options of `binaryCrossEntropyWithLogits`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryCrossEntropyWithLogits, tensor } from "@adamant/core";
 * const loss = binaryCrossEntropyWithLogits(tensor([0]), tensor([1]), { posWeight: tensor([3]) });
 * assert(Math.abs(loss.item() - 3 * Math.LN2) < 1e-6);
 * ```
 */
export interface BinaryCrossEntropyWithLogitsOptions extends LossOptions {
  /** A weight of each element's loss, broadcast against the input. */
  weight?: Tensor | null;
  /** A weight of the positive term, per class (broadcast along the last dimension). */
  posWeight?: Tensor | null;
}

/**
 * Binary cross-entropy on logits, in the numerically stable form
 * `(1 - t) · x + (1 + (posWeight - 1) · t) · softplus(-x)`, equal to
 * `-[posWeight · t · log σ(x) + (1 - t) · log(1 - σ(x))]`, times `weight`, reduced.
 * Targets may be any probabilities in [0, 1].
 *
 * @param logits The logits.
 * @param target Probabilities of the same shape.
 * @param options `weight`, `posWeight`, `reduction`.
 * @returns The loss.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { binaryCrossEntropyWithLogits, tensor } from "@adamant/core";
 * const loss = binaryCrossEntropyWithLogits(tensor([100, -100]), tensor([1, 0]));
 * assert(loss.item() < 1e-6);
 * ```
 */
export function binaryCrossEntropyWithLogits(
  logits: Tensor,
  target: Tensor,
  options: BinaryCrossEntropyWithLogitsOptions = {},
): Tensor {
  const op = "binaryCrossEntropyWithLogits";
  const reduction = reductionOf(op, options);
  checkPair(op, logits, target);
  const softplus = logits.neg().softplus();
  let loss = target.neg().add(1).mul(logits);
  if (options.posWeight) {
    checkTensor(op, "posWeight", options.posWeight);
    const logWeight = options.posWeight.sub(1).mul(target).add(1);
    loss = loss.add(logWeight.mul(softplus));
  } else {
    loss = loss.add(softplus);
  }
  if (options.weight) {
    checkTensor(op, "weight", options.weight);
    loss = loss.mul(options.weight);
  }
  if (loss.shape.join() !== logits.shape.join()) {
    throw new TypeError(
      `${op}: weight or posWeight broadcasts the loss from ${fmt(logits.shape)} to ${
        fmt(loss.shape)
      }`,
    );
  }
  return reduce(loss, reduction);
}

/**
 * Options of `nllLoss`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nllLoss, tensor } from "@adamant/core";
 * const logp = tensor([[-1, -2], [-3, -4]]);
 * const target = tensor([0, -100], { dtype: "int32" });
 * assert.equal(nllLoss(logp, target, { ignoreIndex: -100 }).item(), 1);
 * ```
 */
export interface NllLossOptions extends LossOptions {
  /** A weight per class, `[C]`; the mean divides by the summed weights of the targets. */
  weight?: Tensor | null;
  /** A target value that contributes nothing, to the loss or to the mean (default -100). */
  ignoreIndex?: number;
}

/** Checked class-index targets: a safe copy (ignored entries set to 0) and a valid mask. */
interface Targets {
  /** The targets with ignored entries replaced by class 0 (int32, target's shape). */
  safe: Tensor;
  /** 1 where the target counts, 0 where it is ignored (input dtype, target's shape). */
  valid: Tensor;
  /** The class dimension of the input: 0 for a 1-D input, 1 otherwise. */
  classDim: number;
}

/** Checks class-index targets against the input; returns the class dimension. */
function checkTargetShape(op: string, input: Tensor, target: Tensor, ignoreIndex: number): number {
  checkFloat(op, "input", input);
  if (target.dtype !== "int32") {
    throw new TypeError(
      `${op}: class-index target must be int32, got ${target.dtype} ${fmt(target.shape)}`,
    );
  }
  if (input.ndim === 0) {
    throw new TypeError(`${op}: input must be [C] or [N, C, ...], got a scalar`);
  }
  const classDim = input.ndim === 1 ? 0 : 1;
  const expected = input.shape.filter((_, i) => i !== classDim);
  if (target.shape.join() !== expected.join()) {
    throw new TypeError(
      `${op}: target ${fmt(target.shape)} does not fit input ${fmt(input.shape)}; ` +
        `expected target ${fmt(expected)}`,
    );
  }
  if (!Number.isInteger(ignoreIndex)) {
    throw new RangeError(`${op}: option ignoreIndex must be an integer, got ${ignoreIndex}`);
  }
  return classDim;
}

function checkTargets(op: string, input: Tensor, target: Tensor, ignoreIndex: number): Targets {
  const classDim = checkTargetShape(op, input, target, ignoreIndex);
  const classes = input.shape[classDim];
  if (target.device === "gpu") {
    // a GPU target is not read back: an index out of range gathers NaN into the loss
    const counted = target.ne(ignoreIndex);
    const safe = counted.mul(target);
    const valid = counted.to(input.dtype);
    counted.dispose();
    return { safe, valid, classDim };
  }
  const data = target.toArray();
  const safe = new Int32Array(data.length), valid = new Float64Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const k = data[i];
    if (k === ignoreIndex) continue;
    if (k < 0 || k >= classes) {
      throw new RangeError(`${op}: target ${k} is out of range for ${classes} classes`);
    }
    safe[i] = k;
    valid[i] = 1;
  }
  return {
    safe: tensor(safe, { shape: target.shape }),
    valid: tensor(valid, { shape: target.shape, dtype: input.dtype }),
    classDim,
  };
}

function checkClassWeight(op: string, weight: Tensor, classes: number): void {
  checkTensor(op, "weight", weight);
  if (weight.ndim !== 1 || weight.shape[0] !== classes) {
    throw new TypeError(`${op}: weight ${fmt(weight.shape)} must be [${classes}], one per class`);
  }
}

/** The per-element negative log-likelihoods and their weights (zero where ignored). */
function nllParts(
  op: string,
  logp: Tensor,
  target: Tensor,
  weight: Tensor | null | undefined,
  ignoreIndex: number,
): { loss: Tensor; weights: Tensor; targets: Targets } {
  const targets = checkTargets(op, logp, target, ignoreIndex);
  const { safe, valid, classDim } = targets;
  let weights = valid;
  if (weight) {
    checkClassWeight(op, weight, logp.shape[classDim]);
    weights = weight.indexSelect(0, safe.reshape([-1])).reshape(target.shape).mul(valid);
  }
  const picked = logp.gather(classDim, safe.unsqueeze(classDim)).squeeze(classDim);
  return { loss: picked.mul(weights).neg(), weights, targets };
}

/**
 * PyTorch's mean over class-index targets: a total divided by the summed weights of the
 * counted targets, built once for every total that divides by them. When every target is
 * ignored, the loss is NaN as in PyTorch, and so is the division by 0 it comes from; but
 * PyTorch's gradient is then zero, where the division would send NaN back through every
 * logit. Counted targets whose weights sum to 0 still divide by 0 and give NaN gradients, as
 * in PyTorch.
 */
function countedMean(weights: Tensor, valid: Tensor): (total: Tensor) => Tensor {
  const weightSum = weights.sum();
  const none = (weights === valid ? weightSum : valid.sum()).eq(0);
  const divisor = none.where(1, weightSum);
  return (total) => none.where(NaN, total.div(divisor));
}

/**
 * The negative log-likelihood of class-index targets under log-probabilities:
 * `-weight[t] · logp[t]` per sample; the mean divides by the summed weights of the
 * counted targets (ignored targets count for nothing).
 *
 * @param logp Log-probabilities `[N, C]`, `[N, C, d1, ...]` or `[C]`.
 * @param target int32 class indices `[N]`, `[N, d1, ...]` or `[]`.
 * @param options `weight`, `ignoreIndex`, `reduction`.
 * @returns The loss.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nllLoss, tensor } from "@adamant/core";
 * const logp = tensor([[-0.5, -1], [-2, -0.25]]);
 * assert.equal(nllLoss(logp, tensor([1, 0], { dtype: "int32" })).item(), 1.5);
 * ```
 */
export function nllLoss(logp: Tensor, target: Tensor, options: NllLossOptions = {}): Tensor {
  const reduction = reductionOf("nllLoss", options);
  checkTensor("nllLoss", "input", logp);
  checkTensor("nllLoss", "target", target);
  const { loss, weights, targets } = nllParts(
    "nllLoss",
    logp,
    target,
    options.weight,
    options.ignoreIndex ?? -100,
  );
  if (reduction === "none") return loss;
  if (reduction === "sum") return loss.sum();
  return countedMean(weights, targets.valid)(loss.sum());
}

/**
 * Options of `crossEntropy`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossEntropy, tensor } from "@adamant/core";
 * const logits = tensor([[2, 0, 0]]);
 * const smooth = crossEntropy(logits, tensor([0], { dtype: "int32" }), { labelSmoothing: 0.1 });
 * assert(smooth.item() > crossEntropy(logits, tensor([0], { dtype: "int32" })).item());
 * ```
 */
export interface CrossEntropyOptions extends LossOptions {
  /** A weight per class, `[C]`. */
  weight?: Tensor | null;
  /** With class-index targets: a target value that contributes nothing (default -100). */
  ignoreIndex?: number;
  /**
   * Mixes the target with the uniform distribution: the target becomes
   * `(1 - labelSmoothing) · target + labelSmoothing / C` (default 0; in [0, 1]).
   */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits and targets, through a numerically stable `logSoftmax`
 * over the class dimension (1, or 0 for a 1-D input), as PyTorch 1.13 computes it.
 * Targets are int32 class indices (shaped like the input without its class dimension),
 * or floating class probabilities shaped like the input.
 *
 * With class indices, the mean divides by the summed class weights of the counted
 * targets; with probabilities, by the number of samples.
 *
 * The common case (logits `[N, C]`, class indices, the mean, no weights, no smoothing)
 * runs as one fused op on either device, which writes the gradient of each row directly.
 * On the GPU that gradient cannot be differentiated again (`createGraph` throws there);
 * compose `logSoftmax` and `nllLoss` for higher-order gradients of GPU logits.
 *
 * @param logits Unnormalised scores `[N, C]`, `[N, C, d1, ...]` or `[C]`.
 * @param target int32 class indices or floating probabilities.
 * @param options `weight`, `ignoreIndex`, `labelSmoothing`, `reduction`.
 * @returns The loss.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { crossEntropy, tensor } from "@adamant/core";
 * const logits = tensor([[0, 0], [0, 0]]);
 * const loss = crossEntropy(logits, tensor([0, 1], { dtype: "int32" }));
 * assert(Math.abs(loss.item() - Math.LN2) < 1e-6);
 * ```
 */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const op = "crossEntropy";
  const reduction = reductionOf(op, options);
  checkTensor(op, "input", logits);
  checkTensor(op, "target", target);
  checkFloat(op, "input", logits);
  const smoothing = options.labelSmoothing ?? 0;
  if (typeof smoothing !== "number" || !(smoothing >= 0 && smoothing <= 1)) {
    throw new RangeError(`${op}: option labelSmoothing must be in [0, 1], got ${smoothing}`);
  }
  if (logits.ndim === 0) {
    throw new TypeError(`${op}: input must be [C] or [N, C, ...], got a scalar`);
  }
  const classDim = logits.ndim === 1 ? 0 : 1;
  const classes = logits.shape[classDim];
  if (options.weight) checkClassWeight(op, options.weight, classes);
  const ignoreIndex = options.ignoreIndex ?? -100;
  if (
    logits.ndim === 2 && target.dtype === "int32" && !options.weight && smoothing === 0 &&
    reduction === "mean"
  ) {
    checkTargetShape(op, logits, target, ignoreIndex);
    return crossEntropyRows(logits, target, ignoreIndex);
  }
  const weightView = options.weight
    ? options.weight.reshape(logits.shape.map((d, i) => (i === classDim ? d : 1)))
    : null;
  const logp = logits.logSoftmax(classDim);

  if (isFloat(target.dtype)) {
    // class probabilities
    if (target.shape.join() !== logits.shape.join()) {
      throw new TypeError(
        `${op}: probability target ${fmt(target.shape)} must have the input's shape ` +
          `${fmt(logits.shape)}`,
      );
    }
    const t = smoothing > 0 ? target.mul(1 - smoothing).add(smoothing / classes) : target;
    let terms = logp.mul(t);
    if (weightView) terms = terms.mul(weightView);
    if (reduction === "none") return terms.sum(classDim).neg();
    const total = terms.sum().neg();
    return reduction === "sum" ? total : total.div(logits.size / classes);
  }

  const { loss, weights, targets } = nllParts(op, logp, target, options.weight, ignoreIndex);
  const mean = reduction === "mean" ? countedMean(weights, targets.valid) : null;
  const reduce = (perSample: Tensor) =>
    mean !== null ? mean(perSample.sum()) : reduction === "sum" ? perSample.sum() : perSample;
  const nll = reduce(loss);
  if (smoothing === 0) return nll;
  // the uniform part of the smoothed target: -Σ_c w_c · logp_c per sample, zero where ignored
  const smooth = (weightView ? logp.mul(weightView) : logp).sum(classDim).neg().mul(targets.valid);
  return nll.mul(1 - smoothing).add(reduce(smooth).mul(smoothing / classes));
}
