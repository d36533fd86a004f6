/**
 * RMSprop (Hinton's lecture notes; centered as in Graves, 2013), with momentum.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";
import {
  checkBoolean,
  checkNonNegative,
  Optimizer,
  type ParamGroup,
  type ParamGroupInput,
  withDefaults,
  zerosLikeArray,
} from "./optimizer.ts";
import { type FloatArray, rmspropUpdate } from "./update.ts";

/**
 * Options of `RMSprop` (every one has a default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RMSprop, type RMSpropOptions, zeros } from "@adamant/core";
 * const options: Partial<RMSpropOptions> = { centered: true };
 * const opt = new RMSprop([zeros([2], { requiresGrad: true })], options);
 * assert(opt.paramGroups[0].lr === 0.01);
 * ```
 */
export interface RMSpropOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** Smoothing constant of the running averages (default 0.99). */
  alpha: number;
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Normalise by the gradient's estimated variance (default false). */
  centered: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * The state `RMSprop` keeps per parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RMSprop, tensor } from "@adamant/core";
 * const w = tensor([1], { requiresGrad: true });
 * const opt = new RMSprop([w], { momentum: 0.9 });
 * w.sum().backward();
 * opt.step();
 * const s = opt.state.get(w)!;
 * assert(s.step === 1 && s.momentumBuffer !== undefined && s.gradAvg === undefined);
 * ```
 */
export interface RMSpropParamState {
  /** Updates done so far. */
  step: number;
  /** Running average of the squared gradient. */
  squareAvg: FloatArray;
  /** The velocity, with momentum. */
  momentumBuffer?: FloatArray;
  /** Running average of the gradient, when centered. */
  gradAvg?: FloatArray;
}

/**
 * RMSprop, as PyTorch 1.13's `_single_tensor_rmsprop`: `v ← αv + (1 − α)g²`; when
 * centered, `ḡ ← αḡ + (1 − α)g` and the denominator is `√(v − ḡ²) + ε`, else `√v + ε`;
 * with momentum `b ← μb + g / denominator` and `θ ← θ − lr·b`, else
 * `θ ← θ − lr·g / denominator`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RMSprop, tensor } from "@adamant/core";
 * const w = tensor([3, -2], { requiresGrad: true });
 * const opt = new RMSprop([w], { lr: 0.05 });
 * for (let i = 0; i < 200; i++) {
 *   opt.zeroGrad();
 *   w.square().sum().backward();
 *   opt.step();
 * }
 * assert(w.abs().max().item() < 0.1);
 * ```
 */
export class RMSprop extends Optimizer<RMSpropOptions, RMSpropParamState> {
  /**
   * Creates an RMSprop optimizer.
   *
   * @param params The tensors to optimize, or parameter groups with their own options.
   * @param options `lr`, `alpha`, `eps`, `weightDecay`, `momentum`, `centered`, `maximize`.
   */
  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupInput<RMSpropOptions>>,
    options: Partial<RMSpropOptions> = {},
  ) {
    super(
      params,
      withDefaults("RMSprop", {
        lr: 1e-2,
        alpha: 0.99,
        eps: 1e-8,
        weightDecay: 0,
        momentum: 0,
        centered: false,
        maximize: false,
      }, options),
    );
  }

  /** Throws for an invalid option, naming it and its value. */
  protected override validate(options: RMSpropOptions): void {
    for (const key of ["lr", "alpha", "eps", "weightDecay", "momentum"]) {
      checkNonNegative("RMSprop", options, key);
    }
    checkBoolean("RMSprop", options, "centered");
    checkBoolean("RMSprop", options, "maximize");
  }

  /** The parameter's state before its first update. */
  protected override initState(
    param: Tensor,
    group: ParamGroup<RMSpropOptions>,
  ): RMSpropParamState {
    const state: RMSpropParamState = { step: 0, squareAvg: this.zerosFor(param) };
    if (group.momentum > 0) state.momentumBuffer = this.zerosFor(param);
    if (group.centered) state.gradAvg = this.zerosFor(param);
    return state;
  }

  /** Updates one parameter with the pure update function. */
  protected override update(
    param: FloatArray,
    grad: FloatArray,
    state: RMSpropParamState,
    group: ParamGroup<RMSpropOptions>,
    size: number,
  ): void {
    // options switched on after the first step start their buffers from zero
    if (group.momentum > 0 && !state.momentumBuffer) {
      state.momentumBuffer = zerosLikeArray(param, size);
    }
    if (group.centered && !state.gradAvg) state.gradAvg = zerosLikeArray(param, size);
    state.step += 1;
    rmspropUpdate(
      param,
      grad,
      state,
      {
        lr: group.lr,
        alpha: group.alpha,
        eps: group.eps,
        weightDecay: group.weightDecay,
        momentum: group.momentum,
        centered: group.centered,
        maximize: group.maximize,
      },
      0,
      size,
    );
  }
}
