/**
 * The optimizer formulas as pure functions over flat typed arrays and an index range.
 *
 * Each function updates `param[i]` and its state arrays for `from <= i < to`, reading
 * `grad[i]`; index `i` means the same element in every array it is given, so a caller that
 * holds state for one shard of a larger flat array passes `subarray` views. Scalars are
 * computed in double (bias corrections exactly as PyTorch 1.13's single-tensor loops); Adam
 * and AdamW then compute each element in the arrays' own precision, the others in double,
 * stored to the arrays' precision. Nothing is allocated and nothing outside the
 * arguments is read, so the same function serves the single-thread optimizer classes, a
 * worker updating its shard, and the reference for a GPU kernel.
 *
 * @module
 */

import { adamSimd } from "./adam_simd.ts";

/** A floating typed array: what parameters, gradients and optimizer state are stored in. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Adam's and AdamW's per-element state: running averages of the gradient and its square.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AdamState } from "@adamant/core";
 * const state: AdamState = { m: new Float32Array(3), v: new Float32Array(3) };
 * assert(state.vMax === undefined);
 * ```
 */
export interface AdamState {
  /** First moment (PyTorch's `exp_avg`). */
  m: FloatArray;
  /** Second moment (PyTorch's `exp_avg_sq`). */
  v: FloatArray;
  /** Running maximum of `v` (PyTorch's `max_exp_avg_sq`); needed when `amsgrad` is on. */
  vMax?: FloatArray;
}

/**
 * Hyper-parameters of one Adam or AdamW update.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AdamHyper } from "@adamant/core";
 * const hyper: AdamHyper = {
 *   lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
 *   amsgrad: false, maximize: false, step: 1,
 * };
 * assert(hyper.step === 1);
 * ```
 */
export interface AdamHyper {
  /** Learning rate. */
  lr: number;
  /** Decay of the first moment. */
  beta1: number;
  /** Decay of the second moment. */
  beta2: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty (Adam: added to the gradient; AdamW: decoupled, applied to the weight). */
  weightDecay: number;
  /** Use the running maximum of the second moment (`state.vMax` must be given). */
  amsgrad: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
  /** The 1-based number of this update, for the bias corrections. */
  step: number;
}

/**
 * The numbers one Adam or AdamW step uses for every element, derived once from its
 * hyper-parameters (bias corrections exactly as PyTorch 1.13's single-tensor loops); the
 * SIMD loop receives the same ones, so both paths round alike.
 */
export interface AdamScalars {
  sign: number;
  weightDecay: number;
  beta1: number;
  c1: number;
  beta2: number;
  c2: number;
  bc2Sqrt: number;
  eps: number;
  stepSize: number;
  /** AdamW's decoupled decay factor, `1 - lr * weightDecay`. */
  decay: number;
}

function adamScalars(hyper: AdamHyper): AdamScalars {
  const { lr, beta1, beta2, eps, weightDecay, step } = hyper;
  return {
    sign: hyper.maximize ? -1 : 1,
    weightDecay,
    beta1,
    c1: 1 - beta1,
    beta2,
    c2: 1 - beta2,
    bc2Sqrt: Math.sqrt(1 - beta2 ** step),
    eps,
    stepSize: lr / (1 - beta1 ** step),
    decay: 1 - lr * weightDecay,
  };
}

function needVMax(name: string, state: AdamState): FloatArray {
  if (state.vMax === undefined) {
    throw new TypeError(`${name}: amsgrad needs state.vMax, an array like state.v`);
  }
  return state.vMax;
}

/**
 * One Adam step (PyTorch 1.13 `_single_tensor_adam`) on elements `from` to `to` (excluded).
 *
 * @param param The parameters, updated in place.
 * @param grad The gradient of the objective.
 * @param state `m`, `v` (and `vMax` with amsgrad), updated in place.
 * @param hyper The hyper-parameters; `step` counts from 1.
 * @param from The first element.
 * @param to One past the last element.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamUpdate } from "@adamant/core";
 * const p = new Float32Array([1, 2]), g = new Float32Array([0.5, -0.5]);
 * const state = { m: new Float32Array(2), v: new Float32Array(2) };
 * const hyper = {
 *   lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0,
 *   amsgrad: false, maximize: false, step: 1,
 * };
 * adamUpdate(p, g, state, hyper, 0, 2);
 * // the first step moves each element by lr against the sign of its gradient
 * assert(Math.abs(p[0] - 0.9) < 1e-6 && Math.abs(p[1] - 2.1) < 1e-6);
 * ```
 */
export function adamUpdate(
  param: FloatArray,
  grad: FloatArray,
  state: AdamState,
  hyper: AdamHyper,
  from: number,
  to: number,
): void {
  adamLoop("adamUpdate", false, param, grad, state, hyper, from, to);
}

/**
 * One AdamW step (PyTorch 1.13 `_single_tensor_adamw`): the weight first shrinks by
 * `1 - lr * weightDecay` (decoupled decay), then Adam's update without an L2 term.
 *
 * @param param The parameters, updated in place.
 * @param grad The gradient of the objective.
 * @param state `m`, `v` (and `vMax` with amsgrad), updated in place.
 * @param hyper The hyper-parameters; `step` counts from 1.
 * @param from The first element.
 * @param to One past the last element.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adamwUpdate } from "@adamant/core";
 * const p = new Float64Array([1]), g = new Float64Array([0]);
 * const state = { m: new Float64Array(1), v: new Float64Array(1) };
 * const hyper = {
 *   lr: 0.1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.5,
 *   amsgrad: false, maximize: false, step: 1,
 * };
 * adamwUpdate(p, g, state, hyper, 0, 1);
 * assert(p[0] === 1 - 0.1 * 0.5); // a zero gradient leaves only the decay
 * ```
 */
export function adamwUpdate(
  param: FloatArray,
  grad: FloatArray,
  state: AdamState,
  hyper: AdamHyper,
  from: number,
  to: number,
): void {
  adamLoop("adamwUpdate", true, param, grad, state, hyper, from, to);
}

/**
 * Adam's (or, `decoupled`, AdamW's) element loop: the SIMD loop takes what it can
 * (operands in the heap) and this loop the rest, in the same operations and order. In
 * float32 arrays every operation rounds to float32, as PyTorch's float32 kernels do (in
 * double, then rounded: for +, -, *, / and sqrt that gives float32's own result), and the
 * scalars are rounded to float32 first; float64 arrays compute in double.
 */
function adamLoop(
  name: string,
  decoupled: boolean,
  param: FloatArray,
  grad: FloatArray,
  state: AdamState,
  hyper: AdamHyper,
  from: number,
  to: number,
): void {
  const vMax = hyper.amsgrad ? needVMax(name, state) : null;
  const scalars = adamScalars(hyper);
  const rest = adamSimd(decoupled, param, grad, state, hyper.amsgrad, scalars, from, to);
  const m = state.m, v = state.v, l2 = !decoupled && scalars.weightDecay !== 0;
  if (param instanceof Float32Array) {
    const f = Math.fround;
    const sign = f(scalars.sign), weightDecay = f(scalars.weightDecay);
    const beta1 = f(scalars.beta1), c1 = f(scalars.c1), beta2 = f(scalars.beta2);
    const c2 = f(scalars.c2), bc2Sqrt = f(scalars.bc2Sqrt), eps = f(scalars.eps);
    const stepSize = f(scalars.stepSize), decay = f(scalars.decay);
    for (let i = rest; i < to; i++) {
      let g = f(sign * grad[i]);
      if (l2) g = f(g + f(weightDecay * param[i]));
      const mi = f(f(beta1 * m[i]) + f(c1 * g));
      const vi = f(f(beta2 * v[i]) + f(f(c2 * g) * g));
      m[i] = mi;
      v[i] = vi;
      let second = vi;
      if (vMax !== null) vMax[i] = second = Math.max(vMax[i], vi);
      const update = f(stepSize * f(mi / f(f(f(Math.sqrt(second)) / bc2Sqrt) + eps)));
      param[i] = f((decoupled ? f(param[i] * decay) : param[i]) - update);
    }
    return;
  }
  // the same operations in double (a second loop: one shared by both would run
  // several times slower once V8 sees both a rounding and a plain function)
  const { sign, weightDecay, beta1, c1, beta2, c2, bc2Sqrt, eps, stepSize, decay } = scalars;
  for (let i = rest; i < to; i++) {
    let g = sign * grad[i];
    if (l2) g += weightDecay * param[i];
    const mi = beta1 * m[i] + c1 * g;
    const vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    let second = vi;
    if (vMax !== null) vMax[i] = second = Math.max(vMax[i], vi);
    const update = stepSize * (mi / (Math.sqrt(second) / bc2Sqrt + eps));
    param[i] = (decoupled ? param[i] * decay : param[i]) - update;
  }
}

/**
 * SGD's per-element state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SGDState } from "@adamant/core";
 * const state: SGDState = { momentumBuffer: null }; // plain SGD keeps no buffer
 * assert(state.momentumBuffer === null);
 * ```
 */
export interface SGDState {
  /** The velocity; null when momentum is 0. */
  momentumBuffer: FloatArray | null;
}

/**
 * Hyper-parameters of one SGD update.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SGDHyper } from "@adamant/core";
 * const hyper: SGDHyper = {
 *   lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0,
 *   maximize: false, initMomentum: true,
 * };
 * assert(hyper.initMomentum);
 * ```
 */
export interface SGDHyper {
  /** Learning rate. */
  lr: number;
  /** Momentum factor (0: plain SGD). */
  momentum: number;
  /** Dampening of the gradient's contribution to the momentum. */
  dampening: number;
  /** Nesterov momentum. */
  nesterov: boolean;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
  /**
   * Whether the momentum buffer holds no history yet (the first update with momentum):
   * it is then set to the gradient rather than decayed, as PyTorch does.
   */
  initMomentum: boolean;
}

/**
 * One SGD step (PyTorch 1.13 `_single_tensor_sgd`) on elements `from` to `to` (excluded).
 *
 * @param param The parameters, updated in place.
 * @param grad The gradient of the objective.
 * @param state `momentumBuffer` (an array when `momentum` is not 0), updated in place.
 * @param hyper The hyper-parameters.
 * @param from The first element.
 * @param to One past the last element.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sgdUpdate } from "@adamant/core";
 * const p = new Float32Array([1, 2]), g = new Float32Array([1, -1]);
 * const hyper = {
 *   lr: 0.5, momentum: 0, dampening: 0, nesterov: false, weightDecay: 0,
 *   maximize: false, initMomentum: false,
 * };
 * sgdUpdate(p, g, { momentumBuffer: null }, hyper, 0, 2);
 * assert(p[0] === 0.5 && p[1] === 2.5);
 * ```
 */
export function sgdUpdate(
  param: FloatArray,
  grad: FloatArray,
  state: SGDState,
  hyper: SGDHyper,
  from: number,
  to: number,
): void {
  const { lr, momentum, dampening, weightDecay } = hyper;
  const sign = hyper.maximize ? -1 : 1;
  if (momentum === 0) {
    for (let i = from; i < to; i++) {
      let g = sign * grad[i];
      if (weightDecay !== 0) g += weightDecay * param[i];
      param[i] -= lr * g;
    }
    return;
  }
  const buf = state.momentumBuffer;
  if (buf === null) {
    throw new TypeError("sgdUpdate: momentum needs state.momentumBuffer, an array like param");
  }
  const init = hyper.initMomentum;
  const take = 1 - dampening;
  const nesterov = hyper.nesterov;
  for (let i = from; i < to; i++) {
    let g = sign * grad[i];
    if (weightDecay !== 0) g += weightDecay * param[i];
    // the first update copies the gradient in, whatever the buffer held
    const b = init ? g : momentum * buf[i] + take * g;
    buf[i] = b;
    param[i] -= lr * (nesterov ? g + momentum * b : b);
  }
}

/**
 * RMSprop's per-element state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RMSpropState } from "@adamant/core";
 * const state: RMSpropState = { squareAvg: new Float32Array(4) };
 * assert(state.squareAvg.length === 4);
 * ```
 */
export interface RMSpropState {
  /** Running average of the squared gradient. */
  squareAvg: FloatArray;
  /** Running average of the gradient; needed when `centered` is on. */
  gradAvg?: FloatArray;
  /** The velocity; needed when `momentum` is above 0. */
  momentumBuffer?: FloatArray;
}

/**
 * Hyper-parameters of one RMSprop update.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { RMSpropHyper } from "@adamant/core";
 * const hyper: RMSpropHyper = {
 *   lr: 0.01, alpha: 0.99, eps: 1e-8, weightDecay: 0, momentum: 0,
 *   centered: false, maximize: false,
 * };
 * assert(hyper.alpha === 0.99);
 * ```
 */
export interface RMSpropHyper {
  /** Learning rate. */
  lr: number;
  /** Smoothing constant of the running averages. */
  alpha: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Momentum factor (0: none). */
  momentum: number;
  /** Normalise by an estimate of the gradient's variance instead of its second moment. */
  centered: boolean;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
}

/**
 * One RMSprop step (PyTorch 1.13 `_single_tensor_rmsprop`) on elements `from` to `to`.
 *
 * @param param The parameters, updated in place.
 * @param grad The gradient of the objective.
 * @param state `squareAvg` (with `gradAvg` when centered, `momentumBuffer` with momentum).
 * @param hyper The hyper-parameters.
 * @param from The first element.
 * @param to One past the last element (excluded).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rmspropUpdate } from "@adamant/core";
 * const p = new Float64Array([0]), g = new Float64Array([2]);
 * const hyper = {
 *   lr: 0.01, alpha: 0.75, eps: 0, weightDecay: 0, momentum: 0,
 *   centered: false, maximize: false,
 * };
 * rmspropUpdate(p, g, { squareAvg: new Float64Array(1) }, hyper, 0, 1);
 * // squareAvg = 0.25 * 4 = 1, so the step is lr * 2 / 1
 * assert(Math.abs(p[0] + 0.02) < 1e-15);
 * ```
 */
export function rmspropUpdate(
  param: FloatArray,
  grad: FloatArray,
  state: RMSpropState,
  hyper: RMSpropHyper,
  from: number,
  to: number,
): void {
  const { lr, alpha, eps, weightDecay, momentum, centered } = hyper;
  const sign = hyper.maximize ? -1 : 1;
  const c = 1 - alpha;
  const squareAvg = state.squareAvg;
  const gradAvg = centered ? state.gradAvg : undefined;
  const buf = momentum > 0 ? state.momentumBuffer : undefined;
  if (centered && gradAvg === undefined) {
    throw new TypeError("rmspropUpdate: centered needs state.gradAvg, an array like param");
  }
  if (momentum > 0 && buf === undefined) {
    throw new TypeError("rmspropUpdate: momentum needs state.momentumBuffer, an array like param");
  }
  for (let i = from; i < to; i++) {
    let g = sign * grad[i];
    if (weightDecay !== 0) g += weightDecay * param[i];
    const sq = alpha * squareAvg[i] + c * g * g;
    squareAvg[i] = sq;
    let avg: number;
    if (gradAvg !== undefined) {
      const ga = alpha * gradAvg[i] + c * g;
      gradAvg[i] = ga;
      avg = Math.sqrt(sq - ga * ga) + eps;
    } else {
      avg = Math.sqrt(sq) + eps;
    }
    if (buf !== undefined) {
      const b = momentum * buf[i] + g / avg;
      buf[i] = b;
      param[i] -= lr * b;
    } else {
      param[i] -= lr * (g / avg);
    }
  }
}

/**
 * Adagrad's per-element state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AdagradState } from "@adamant/core";
 * const state: AdagradState = { sum: new Float32Array(3).fill(0.1) };
 * assert(Math.abs(state.sum[0] - 0.1) < 1e-7);
 * ```
 */
export interface AdagradState {
  /** Sum of squared gradients (starts at `initialAccumulatorValue`). */
  sum: FloatArray;
}

/**
 * Hyper-parameters of one Adagrad update.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { AdagradHyper } from "@adamant/core";
 * const hyper: AdagradHyper = {
 *   lr: 0.01, lrDecay: 0, weightDecay: 0, eps: 1e-10, maximize: false, step: 1,
 * };
 * assert(hyper.lr === 0.01);
 * ```
 */
export interface AdagradHyper {
  /** Learning rate. */
  lr: number;
  /** The learning rate at step t is `lr / (1 + (t - 1) * lrDecay)`. */
  lrDecay: number;
  /** L2 penalty added to the gradient. */
  weightDecay: number;
  /** Added to the denominator for numerical stability. */
  eps: number;
  /** Ascend the objective instead of descending it. */
  maximize: boolean;
  /** The 1-based number of this update. */
  step: number;
}

/**
 * One Adagrad step (PyTorch 1.13 `_single_tensor_adagrad`) on elements `from` to `to`.
 *
 * @param param The parameters, updated in place.
 * @param grad The gradient of the objective.
 * @param state `sum`, updated in place.
 * @param hyper The hyper-parameters; `step` counts from 1.
 * @param from The first element.
 * @param to One past the last element (excluded).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adagradUpdate } from "@adamant/core";
 * const p = new Float64Array([1]), g = new Float64Array([3]);
 * const hyper = { lr: 0.5, lrDecay: 0, weightDecay: 0, eps: 0, maximize: false, step: 1 };
 * adagradUpdate(p, g, { sum: new Float64Array(1) }, hyper, 0, 1);
 * assert(p[0] === 0.5); // g / sqrt(g * g) = 1
 * ```
 */
export function adagradUpdate(
  param: FloatArray,
  grad: FloatArray,
  state: AdagradState,
  hyper: AdagradHyper,
  from: number,
  to: number,
): void {
  const { lr, lrDecay, weightDecay, eps, step } = hyper;
  const clr = lr / (1 + (step - 1) * lrDecay);
  const sign = hyper.maximize ? -1 : 1;
  const sum = state.sum;
  for (let i = from; i < to; i++) {
    let g = sign * grad[i];
    if (weightDecay !== 0) g += weightDecay * param[i];
    const s = sum[i] + g * g;
    sum[i] = s;
    param[i] -= clr * (g / (Math.sqrt(s) + eps));
  }
}
