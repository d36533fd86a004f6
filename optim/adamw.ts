/**
 * AdamW (Loshchilov and Hutter, 2017): Adam with weight decay decoupled from the gradient.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";
import {
  adamDefaults,
  adamInitState,
  type AdamOptions,
  type AdamParamState,
  validateAdam,
} from "./adam.ts";
import {
  Optimizer,
  type ParamGroup,
  type ParamGroupInput,
  withDefaults,
  zerosLikeArray,
} from "./optimizer.ts";
import { adamwUpdate, type FloatArray } from "./update.ts";

/**
 * AdamW, as PyTorch 1.13's `_single_tensor_adamw`: each step first shrinks every weight by
 * `1 - lr * weightDecay` (default weightDecay 1e-2), then applies Adam's update to the
 * plain gradient (see `Adam` for the algorithm).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AdamW, tensor } from "@adamant/core";
 * const w = tensor([1, 1], { requiresGrad: true });
 * const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.5 });
 * w.mul(0).sum().backward(); // a zero gradient: only the decay acts
 * opt.step();
 * assert(Math.abs(w.toArray()[0] - 0.95) < 1e-7);
 * ```
 */
export class AdamW extends Optimizer<AdamOptions, AdamParamState> {
  /**
   * Creates an AdamW optimizer.
   *
   * @param params The tensors to optimize, or parameter groups with their own options.
   * @param options `lr`, `betas`, `eps`, `weightDecay` (default 1e-2), `amsgrad`, `maximize`.
   */
  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupInput<AdamOptions>>,
    options: Partial<AdamOptions> = {},
  ) {
    super(params, withDefaults("AdamW", adamDefaults(1e-2), options));
  }

  /** Throws for an invalid option, naming it and its value. */
  protected override validate(options: AdamOptions): void {
    validateAdam("AdamW", options);
  }

  /** The parameter's state before its first update. */
  protected override initState(param: Tensor, group: ParamGroup<AdamOptions>): AdamParamState {
    return adamInitState(() => this.zerosFor(param), group.amsgrad);
  }

  /** Updates one parameter with the pure update function. */
  protected override update(
    param: FloatArray,
    grad: FloatArray,
    state: AdamParamState,
    group: ParamGroup<AdamOptions>,
    size: number,
  ): void {
    if (group.amsgrad && state.vMax === undefined) state.vMax = zerosLikeArray(param, size);
    state.step += 1;
    adamwUpdate(
      param,
      grad,
      state,
      {
        lr: group.lr,
        beta1: group.betas[0],
        beta2: group.betas[1],
        eps: group.eps,
        weightDecay: group.weightDecay,
        amsgrad: group.amsgrad,
        maximize: group.maximize,
        step: state.step,
      },
      0,
      size,
    );
  }
}
