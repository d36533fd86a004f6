/**
 * Adam and AdamW on GPU parameters: the formula of `adamUpdate` / `adamwUpdate`, with the
 * moments kept as GPU tensors beside the parameter, so a step needs no readback. A
 * contiguous parameter takes one fused dispatch (tensor/webgpu/adam.ts); a strided view
 * composes the same formula from in-place ops.
 * @module
 */

import { keep, tidy } from "../tensor/scope.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { encodeKernel } from "../tensor/webgpu/commands.ts";
import { adam } from "../tensor/webgpu/adam.ts";
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
  const m = state.m ??= keep(param.zerosLike());
  const v = state.v ??= keep(param.zerosLike());
  const vMax = hyper.amsgrad ? state.vMax ??= keep(param.zerosLike()) : undefined;
  if (!param.isContiguous || param.offset !== 0) {
    composedStep(param, grad, m, v, vMax, hyper, decoupled);
    return;
  }
  // the kernel indexes every buffer alike, from element 0
  const g = grad.isContiguous && grad.offset === 0 ? grad : grad.clone();
  const name = decoupled ? "adamw" : "adam";
  encodeKernel(name, (device, encoder) =>
    adam(device, encoder, {
      param: param.buffer,
      grad: g.buffer,
      m: m.buffer,
      v: v.buffer,
      ...(vMax === undefined ? {} : { vMax: vMax.buffer }),
    }, { ...hyper, decoupled, segments: [{ offset: 0, count: param.size }] }));
  if (g !== grad) g.dispose();
  param.storage.version++;
}

/** The same step from in-place ops, for a parameter that is a strided view. */
function composedStep(
  param: Tensor,
  grad: Tensor,
  m: Tensor,
  v: Tensor,
  vMax: Tensor | undefined,
  hyper: AdamHyper,
  decoupled: boolean,
): void {
  const { lr, beta1, beta2, eps, weightDecay, step } = hyper;
  const stepSize = lr / (1 - beta1 ** step);
  const bc2Sqrt = Math.sqrt(1 - beta2 ** step);
  tidy(() => {
    // a detached view shares the storage and may be written in place with grad mode on
    const p = param.detach();
    let g = hyper.maximize ? grad.detach().neg() : grad.detach();
    if (weightDecay !== 0 && !decoupled) g = g.add(p.mul(weightDecay));
    m.mulInPlace(beta1).addInPlace(g, 1 - beta1);
    v.mulInPlace(beta2).addInPlace(g.mul(g), 1 - beta2);
    let second = v;
    if (vMax !== undefined) {
      vMax.copyInPlace(vMax.maximum(v));
      second = vMax;
    }
    const update = m.div(second.sqrt().div(bc2Sqrt).add(eps)).mul(stepSize);
    if (weightDecay !== 0 && decoupled) p.mulInPlace(1 - lr * weightDecay);
    p.subInPlace(update);
  });
}
