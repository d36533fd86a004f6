/**
 * Adam and AdamW on GPU parameters: the formula of `adamUpdate` / `adamwUpdate`, with the
 * moments kept as GPU tensors beside the parameter, so a step needs no readback.
 * @module
 */

import { keep, tidy } from "../tensor/scope.ts";
import type { Tensor } from "../tensor/tensor.ts";
import type { AdamHyper } from "./update.ts";

/** The moments of one GPU parameter, created on its first step. */
export interface GpuAdamState {
  /** First moment. */
  m?: Tensor;
  /** Second moment. */
  v?: Tensor;
  /** Running maximum of the second moment (amsgrad). */
  vMax?: Tensor;
}

/** One Adam (or, with `decoupled`, AdamW) step of `param` on its device. */
export function adamStepOnGpu(
  param: Tensor,
  grad: Tensor,
  state: GpuAdamState,
  hyper: AdamHyper,
  decoupled: boolean,
): void {
  const { lr, beta1, beta2, eps, weightDecay, step } = hyper;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  tidy(() => {
    // a detached view shares the storage and may be written in place with grad mode on
    const p = param.detach();
    const m = state.m ??= keep(param.zerosLike());
    const v = state.v ??= keep(param.zerosLike());
    let g = hyper.maximize ? grad.detach().neg() : grad.detach();
    if (weightDecay !== 0 && !decoupled) g = g.add(p.mul(weightDecay));
    m.mulInPlace(beta1).addInPlace(g, 1 - beta1);
    v.mulInPlace(beta2).addInPlace(g.mul(g), 1 - beta2);
    let second = v;
    if (hyper.amsgrad) {
      const vMax = state.vMax ??= keep(param.zerosLike());
      vMax.copyInPlace(vMax.maximum(v));
      second = vMax;
    }
    const update = m.div(second.sqrt().div(bc2Sqrt).add(eps)).mul(stepSize);
    if (weightDecay !== 0 && decoupled) p.mulInPlace(1 - lr * weightDecay);
    p.subInPlace(update);
  });
}
