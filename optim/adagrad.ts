/**
 * Adagrad (Duchi, Hazan and Singer, 2011), with learning-rate decay.
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
} from "./optimizer.ts";
import { adagradUpdate, type FloatArray } from "./update.ts";

/**
 * Options of `Adagrad` (every one has a default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adagrad, type AdagradOptions, zeros } from "@adamant/core";
 * const options: Partial<AdagradOptions> = { initialAccumulatorValue: 0.1 };
 * const opt = new Adagrad([zeros([2], { requiresGrad: true })], options);
 * assert(opt.paramGroups[0].eps === 1e-10);
 * ```
 */
export interface AdagradOptions {
  /** Learning rate (default 1e-2). */
  lr: number;
  /** The rate at step t is `lr / (1 + (t - 1) * lrDecay)` (default 0). */
  lrDecay: number;
  /** L2 penalty added to the gradient (default 0). */
  weightDecay: number;
  /** Where the sum of squared gradients starts (default 0). */
  initialAccumulatorValue: number;
  /** Added to the denominator for numerical stability (default 1e-10). */
  eps: number;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * The state `Adagrad` keeps per parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adagrad, tensor } from "@adamant/core";
 * const w = tensor([1], { requiresGrad: true });
 * const opt = new Adagrad([w]);
 * w.mul(2).sum().backward();
 * opt.step();
 * assert(opt.state.get(w)!.sum[0] === 4);
 * ```
 */
export interface AdagradParamState {
  /** Updates done so far. */
  step: number;
  /** Sum of squared gradients. */
  sum: FloatArray;
}

/**
 * Adagrad, as PyTorch 1.13's `_single_tensor_adagrad`: `s ← s + g²`,
 * `θ ← θ − lr / (1 + (t − 1)·lrDecay) · g / (√s + ε)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adagrad, tensor } from "@adamant/core";
 * const w = tensor([1], { requiresGrad: true });
 * const opt = new Adagrad([w], { lr: 0.5 });
 * w.mul(3).sum().backward();
 * opt.step();
 * assert(Math.abs(w.item() - 0.5) < 1e-6); // g / √(g²) = 1
 * ```
 */
export class Adagrad extends Optimizer<AdagradOptions, AdagradParamState> {
  /**
   * Creates an Adagrad optimizer.
   *
   * @param params The tensors to optimize, or parameter groups with their own options.
   * @param options `lr`, `lrDecay`, `weightDecay`, `initialAccumulatorValue`, `eps`,
   *   `maximize`.
   */
  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupInput<AdagradOptions>>,
    options: Partial<AdagradOptions> = {},
  ) {
    super(
      params,
      withDefaults("Adagrad", {
        lr: 1e-2,
        lrDecay: 0,
        weightDecay: 0,
        initialAccumulatorValue: 0,
        eps: 1e-10,
        maximize: false,
      }, options),
    );
  }

  /** Throws for an invalid option, naming it and its value. */
  protected override validate(options: AdagradOptions): void {
    for (const key of ["lr", "lrDecay", "weightDecay", "initialAccumulatorValue", "eps"]) {
      checkNonNegative("Adagrad", options, key);
    }
    checkBoolean("Adagrad", options, "maximize");
  }

  /** The parameter's state before its first update. */
  protected override initState(
    param: Tensor,
    group: ParamGroup<AdagradOptions>,
  ): AdagradParamState {
    const sum = this.zerosFor(param);
    if (group.initialAccumulatorValue !== 0) sum.fill(group.initialAccumulatorValue);
    return { step: 0, sum };
  }

  /** Updates one parameter with the pure update function. */
  protected override update(
    param: FloatArray,
    grad: FloatArray,
    state: AdagradParamState,
    group: ParamGroup<AdagradOptions>,
    size: number,
  ): void {
    state.step += 1;
    adagradUpdate(
      param,
      grad,
      state,
      {
        lr: group.lr,
        lrDecay: group.lrDecay,
        weightDecay: group.weightDecay,
        eps: group.eps,
        maximize: group.maximize,
        step: state.step,
      },
      0,
      size,
    );
  }
}
