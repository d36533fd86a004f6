/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay.
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
import { type FloatArray, sgdUpdate } from "./update.ts";

/**
 * Options of `SGD`; `lr` is required (PyTorch 1.13 has no default for it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, type SGDOptions, zeros } from "@adamant/core";
 * const options: Partial<SGDOptions> & { lr: number } = { lr: 0.1, momentum: 0.9, nesterov: true };
 * const opt = new SGD([zeros([2], { requiresGrad: true })], options);
 * assert(opt.paramGroups[0].nesterov);
 * ```
 */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the gradient's share of the momentum (default 0). */
  dampening: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Nesterov momentum; needs momentum > 0 and dampening 0 (default false). */
  nesterov: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * The state `SGD` keeps per parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, tensor } from "@adamant/core";
 * const w = tensor([1], { requiresGrad: true });
 * const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
 * w.mul(3).sum().backward();
 * opt.step();
 * assert(opt.state.get(w)!.momentumBuffer![0] === 3); // the first gradient
 * ```
 */
export interface SGDParamState {
  /** The velocity; null until the first step with momentum. */
  momentumBuffer: FloatArray | null;
}

/**
 * SGD, as PyTorch 1.13's `_single_tensor_sgd`: with λ = weightDecay, μ = momentum,
 * τ = dampening, `g ← ∇θ + λθ`; with momentum, `b ← μb + (1 − τ)g` (b ← g on the first
 * step) and `g ← g + μb` (Nesterov) or `g ← b`; then `θ ← θ − lr·g`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, tensor } from "@adamant/core";
 * const w = tensor([2], { requiresGrad: true });
 * const opt = new SGD([w], { lr: 0.25 });
 * w.square().sum().backward(); // grad 4
 * opt.step();
 * assert(w.item() === 1);
 * ```
 */
export class SGD extends Optimizer<SGDOptions, SGDParamState> {
  /**
   * Creates an SGD optimizer.
   *
   * @param params The tensors to optimize, or parameter groups with their own options.
   * @param options `lr` (required), `momentum`, `dampening`, `weightDecay`, `nesterov`,
   *   `maximize`.
   */
  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupInput<SGDOptions>>,
    options: Partial<SGDOptions> & { lr: number },
  ) {
    super(
      params,
      withDefaults<SGDOptions>("SGD", {
        lr: undefined as unknown as number, // required: validate() says so when it is missing
        momentum: 0,
        dampening: 0,
        weightDecay: 0,
        nesterov: false,
        maximize: false,
      }, options),
    );
  }

  /** Throws for an invalid option, naming it and its value. */
  protected override validate(options: SGDOptions): void {
    if (options.lr === undefined) {
      throw new TypeError("SGD: lr is required (SGD has no default learning rate)");
    }
    checkNonNegative("SGD", options, "lr");
    checkNonNegative("SGD", options, "momentum");
    if (typeof options.dampening !== "number") {
      throw new TypeError(`SGD: dampening must be a number, got ${String(options.dampening)}`);
    }
    checkNonNegative("SGD", options, "weightDecay");
    checkBoolean("SGD", options, "nesterov");
    checkBoolean("SGD", options, "maximize");
    if (options.nesterov && (options.momentum <= 0 || options.dampening !== 0)) {
      throw new RangeError(
        `SGD: nesterov needs momentum > 0 and dampening 0, got momentum ${options.momentum}, ` +
          `dampening ${options.dampening}`,
      );
    }
  }

  /** The parameter's state before its first update. */
  protected override initState(): SGDParamState {
    return { momentumBuffer: null };
  }

  /** Updates one parameter with the pure update function. */
  protected override update(
    param: FloatArray,
    grad: FloatArray,
    state: SGDParamState,
    group: ParamGroup<SGDOptions>,
    size: number,
  ): void {
    let initMomentum = false;
    if (group.momentum !== 0 && state.momentumBuffer === null) {
      state.momentumBuffer = zerosLikeArray(param, size);
      initMomentum = true;
    }
    sgdUpdate(
      param,
      grad,
      state,
      {
        lr: group.lr,
        momentum: group.momentum,
        dampening: group.dampening,
        nesterov: group.nesterov,
        weightDecay: group.weightDecay,
        maximize: group.maximize,
        initMomentum,
      },
      0,
      size,
    );
  }
}
