/**
 * Adam and AdamW on GPU parameters: the formula of `adamUpdate` / `adamwUpdate`, with the
 * moments kept as GPU tensors beside the parameter, so a step needs no readback. A
 * contiguous parameter takes one fused dispatch (tensor/webgpu/adam.ts); a strided view
 * composes the same formula from in-place ops.
 * @module
 */

import { zeros } from "../tensor/creation.ts";
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

/**
 * The GPU parameters of one group laid out in one buffer, with their gradients, moments
 * (and amsgrad maxima) in buffers of the same layout, so that one dispatch of the fused
 * kernel steps the whole group. Each parameter is re-pointed at its slot (as `Tensor.rebind`
 * does on the CPU) and its `.grad` is a view of the gradient buffer, which backward
 * accumulates into in place.
 */
export class PackedAdamGroup {
  readonly #offsets = new Map<Tensor, number>();
  readonly #param: Tensor;
  readonly #grad: Tensor;
  readonly #m: Tensor;
  readonly #v: Tensor;
  #vMax: Tensor | null = null;

  /**
   * Packs `params` (GPU, contiguous), taking along their values, gradients and any moments
   * `moments` holds for them (which it then holds as views of the packed buffers).
   */
  constructor(params: readonly Tensor[], moments: WeakMap<Tensor, GpuAdamState>) {
    let total = 0;
    for (const p of params) {
      this.#offsets.set(p, total);
      total += p.size;
    }
    const packed = () => keep(zeros([total], { device: "gpu" }));
    this.#param = packed();
    this.#grad = packed();
    this.#m = packed();
    this.#v = packed();
    for (const p of params) {
      this.#adopt(p);
      const grad = p.grad;
      if (grad !== null) {
        this.#slot(this.#grad, p).copyInPlace(grad);
        grad.dispose();
      }
      p.grad = keep(this.#slot(this.#grad, p));
      const state = moments.get(p);
      if (state?.m) this.#slot(this.#m, p).copyInPlace(state.m);
      if (state?.v) this.#slot(this.#v, p).copyInPlace(state.v);
      if (state?.vMax) this.#slot(this.#maxima(), p).copyInPlace(state.vMax);
      for (const t of [state?.m, state?.v, state?.vMax]) t?.dispose();
      moments.set(p, {
        m: keep(this.#slot(this.#m, p)),
        v: keep(this.#slot(this.#v, p)),
        ...(this.#vMax === null ? {} : { vMax: keep(this.#slot(this.#vMax, p)) }),
      });
    }
  }

  /** Whether `param` is one of the packed parameters. */
  holds(param: Tensor): boolean {
    return this.#offsets.has(param);
  }

  /**
   * Steps the packed parameters among `items` (all of which `holds`), one dispatch per
   * distinct step count (one, unless some parameter missed steps).
   */
  step(
    items: readonly { param: Tensor; grad: Tensor; step: number }[],
    hyper: (step: number) => AdamHyper,
    decoupled: boolean,
  ): void {
    const byStep = new Map<number, { offset: number; count: number }[]>();
    for (const { param, grad, step } of items) {
      const offset = this.#offsets.get(param)!;
      // a parameter re-pointed elsewhere (loadStateDict, say) comes back into its slot
      if (param.storage !== this.#param.storage || param.offset !== offset) this.#adopt(param);
      if (grad.storage !== this.#grad.storage || grad.offset !== offset) {
        // a gradient made afresh (after zeroGrad({ setToNone: true })) moves into its slot
        this.#slot(this.#grad, param).copyInPlace(grad);
        grad.dispose();
        param.grad = keep(this.#slot(this.#grad, param));
      }
      const segments = byStep.get(step) ?? [];
      segments.push({ offset, count: param.size });
      byStep.set(step, segments);
    }
    const vMax = hyper(1).amsgrad ? this.#maxima() : null;
    for (const [step, segments] of byStep) {
      encodeKernel(decoupled ? "adamw" : "adam", (device, encoder) =>
        adam(device, encoder, {
          param: this.#param.buffer,
          grad: this.#grad.buffer,
          m: this.#m.buffer,
          v: this.#v.buffer,
          ...(vMax === null ? {} : { vMax: vMax.buffer }),
        }, { ...hyper(step), decoupled, segments }));
    }
    this.#param.storage.version++;
  }

  /** The amsgrad maxima, created (zero) when first needed. */
  #maxima(): Tensor {
    return this.#vMax ??= keep(this.#m.zerosLike());
  }

  /** `param`'s slot in `packed`, shaped like it. */
  #slot(packed: Tensor, param: Tensor): Tensor {
    return packed.narrow(0, this.#offsets.get(param)!, param.size).view(param.shape);
  }

  /** Copies `param` into its slot and re-points it there. */
  #adopt(param: Tensor): void {
    const slot = this.#slot(this.#param, param);
    slot.copyInPlace(param.detach());
    param.adoptStorage(slot);
    slot.dispose();
  }
}
