/**
 * Adam (Kingma and Ba, 2014), with PyTorch 1.13's options: L2 weight decay, AMSGrad and
 * maximize.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";
import { tensor } from "../tensor/creation.ts";
import { keep } from "../tensor/scope.ts";
import {
  checkBoolean,
  checkNonNegative,
  type DeviceUpdate,
  Optimizer,
  type ParamGroup,
  type ParamGroupInput,
  withDefaults,
  zerosLikeArray,
} from "./optimizer.ts";
import { type AdamHyper, adamUpdate, adamwUpdate, type FloatArray } from "./update.ts";
import { adamStepOnGpu, type GpuAdamState, PackedAdamGroup } from "./adam_gpu.ts";

/**
 * Options of `Adam` and `AdamW` (every one has a default).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, type AdamOptions, zeros } from "@adamant/core";
 * const options: Partial<AdamOptions> = { lr: 3e-4, betas: [0.9, 0.95] };
 * const opt = new Adam([zeros([2], { requiresGrad: true })], options);
 * assert(opt.paramGroups[0].betas[1] === 0.95);
 * ```
 */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr: number;
  /** Decay rates of the gradient's running average and of its square (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps: number;
  /** Weight decay: Adam adds `weightDecay * param` to the gradient (default 0); AdamW decays
   * the weight directly (default 1e-2). */
  weightDecay: number;
  /** Use AMSGrad's running maximum of the second moment (default false). */
  amsgrad: boolean;
  /** Maximize the objective instead of minimizing it (default false). */
  maximize: boolean;
}

/**
 * The state `Adam` and `AdamW` keep per parameter.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, tensor } from "@adamant/core";
 * const w = tensor([1], { requiresGrad: true });
 * const opt = new Adam([w]);
 * w.sum().backward();
 * opt.step();
 * const s = opt.state.get(w)!;
 * assert(s.step === 1 && Math.abs(s.m[0] - 0.1) < 1e-7);
 * ```
 */
export interface AdamParamState {
  /** Updates done so far. */
  step: number;
  /** First moment (PyTorch's `exp_avg`). */
  m: FloatArray;
  /** Second moment (PyTorch's `exp_avg_sq`). */
  v: FloatArray;
  /** Running maximum of `v`, with amsgrad (PyTorch's `max_exp_avg_sq`). */
  vMax?: FloatArray;
}

/** The defaults of `Adam` (AdamW differs only in weightDecay). */
export function adamDefaults(weightDecay: number): AdamOptions {
  return { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay, amsgrad: false, maximize: false };
}

/** Validates Adam's and AdamW's options, naming the optimizer and the first bad one. */
export function validateAdam(name: string, options: AdamOptions): void {
  checkNonNegative(name, options, "lr");
  checkNonNegative(name, options, "eps");
  const betas = options.betas;
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new TypeError(`${name}: betas must be an array of two numbers, got ${String(betas)}`);
  }
  betas.forEach((beta, i) => {
    if (typeof beta !== "number") {
      throw new TypeError(`${name}: betas[${i}] must be a number, got ${String(beta)}`);
    }
    if (!(beta >= 0 && beta < 1)) {
      throw new RangeError(`${name}: betas[${i}] must be in [0, 1), got ${beta}`);
    }
  });
  checkNonNegative(name, options, "weightDecay");
  checkBoolean(name, options, "amsgrad");
  checkBoolean(name, options, "maximize");
}

/** Adam's state before its first update (vMax appears when amsgrad is on). */
export function adamInitState(zeros: () => FloatArray, amsgrad: boolean): AdamParamState {
  const state: AdamParamState = { step: 0, m: zeros(), v: zeros() };
  if (amsgrad) state.vMax = zeros();
  return state;
}

/** The hyper-parameters of one update of `group` at step `step`, as the update functions take them. */
function hyper(group: ParamGroup<AdamOptions>, step: number): AdamHyper {
  return {
    lr: group.lr,
    beta1: group.betas[0],
    beta2: group.betas[1],
    eps: group.eps,
    weightDecay: group.weightDecay,
    amsgrad: group.amsgrad,
    maximize: group.maximize,
    step,
  };
}

/** The CPU moments of `param` as GPU tensors (none before its first step). */
function uploadMoments(state: AdamParamState, param: Tensor): GpuAdamState {
  if (state.m.length !== param.size) return {};
  const up = (a: FloatArray) => keep(tensor(a, { shape: param.shape, dtype: "float32" }).to("gpu"));
  return {
    m: up(state.m),
    v: up(state.v),
    ...(state.vMax === undefined ? {} : { vMax: up(state.vMax) }),
  };
}

/**
 * Adam, exactly as PyTorch 1.13's single-tensor loop (`_single_tensor_adam`). Each step,
 * for every parameter θ with a gradient (γ = lr, λ = weightDecay):
 *
 * ```text
 * t ← t + 1
 * g ← ∇θ f(θ)            (negated when maximize)
 * if λ ≠ 0: g ← g + λ θ
 * m ← β1 m + (1 − β1) g
 * v ← β2 v + (1 − β2) g²
 * if amsgrad: vMax ← max(vMax, v); v̂ ← vMax  else v̂ ← v
 * θ ← θ − γ / (1 − β1^t) · m / (√v̂ / √(1 − β2^t) + ε)
 * ```
 *
 * The scalars (bias corrections, step size) are computed in double; the arithmetic runs
 * in the element loop of `adamUpdate`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, tensor } from "@adamant/core";
 * const w = tensor([3, -2], { requiresGrad: true });
 * const opt = new Adam([w], { lr: 0.1 });
 * for (let i = 0; i < 200; i++) {
 *   opt.zeroGrad();
 *   w.square().sum().backward();
 *   opt.step();
 * }
 * assert(w.abs().max().item() < 0.1);
 * ```
 */
export class Adam extends Optimizer<AdamOptions, AdamParamState> {
  /**
   * Creates an Adam optimizer.
   *
   * @param params The tensors to optimize, or parameter groups with their own options.
   * @param options `lr`, `betas`, `eps`, `weightDecay`, `amsgrad`, `maximize`.
   */
  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupInput<AdamOptions>>,
    options: Partial<AdamOptions> = {},
  ) {
    // AdamW shares this constructor: its name goes into error messages, its default decay
    // is 1e-2 instead of 0
    const name = new.target.name;
    super(params, withDefaults(name, adamDefaults(name === "AdamW" ? 1e-2 : 0), options));
  }

  /** The pure update function applied to each parameter (AdamW swaps in its own). */
  protected readonly rule: typeof adamUpdate = adamUpdate;
  /** Moments of GPU parameters, kept on the GPU. */
  readonly #gpuState = new WeakMap<Tensor, GpuAdamState>();
  /** Each group's GPU parameters packed for the fused kernel, made on its first GPU step. */
  readonly #packs = new WeakMap<ParamGroup<AdamOptions>, PackedAdamGroup>();

  /** Throws for an invalid option, naming it and its value. */
  protected override validate(options: AdamOptions): void {
    validateAdam(this.constructor.name, options);
  }

  /** The parameter's state before its first update. */
  protected override initState(param: Tensor, group: ParamGroup<AdamOptions>): AdamParamState {
    return adamInitState(() => this.zerosFor(param), group.amsgrad);
  }

  /**
   * Steps a group's GPU parameters in one dispatch of the fused kernel: on the first call
   * they are packed into one buffer (see `PackedAdamGroup`); parameters that cannot be
   * packed (strided views) or joined the GPU later step one by one.
   */
  protected override updateGroupOnDevice(
    items: readonly DeviceUpdate<AdamParamState>[],
    group: ParamGroup<AdamOptions>,
  ): void {
    let pack = this.#packs.get(group);
    if (pack === undefined) {
      const packable = group.params.filter((p) =>
        p.device === "gpu" && p.dtype === "float32" && p.isContiguous && p.offset === 0
      );
      for (const p of packable) {
        const state = this.state.get(p);
        if (state !== undefined && !this.#gpuState.has(p)) {
          this.#gpuState.set(p, uploadMoments(state, p));
        }
      }
      pack = new PackedAdamGroup(packable, this.#gpuState);
      this.#packs.set(group, pack);
    }
    const packed = [];
    for (const item of items) {
      if (pack.holds(item.param)) {
        item.state.step += 1;
        // packing replaced the gradient by a view of the packed buffer: read it afresh
        packed.push({ param: item.param, grad: item.param.grad!, step: item.state.step });
      } else this.updateOnDevice(item.param, item.grad, item.state, group);
    }
    if (packed.length > 0) {
      pack.step(packed, (step) => hyper(group, step), this.rule === adamwUpdate);
    }
  }

  /** Updates a GPU parameter with the same formula, its moments staying on the GPU. */
  protected override updateOnDevice(
    param: Tensor,
    grad: Tensor,
    state: AdamParamState,
    group: ParamGroup<AdamOptions>,
  ): void {
    let moments = this.#gpuState.get(param);
    if (moments === undefined) {
      // a parameter moved to the GPU after CPU steps takes its moments along
      this.#gpuState.set(param, moments = uploadMoments(state, param));
    }
    state.step += 1;
    adamStepOnGpu(param, grad, moments, hyper(group, state.step), this.rule === adamwUpdate);
  }

  /** Updates one parameter with the pure update function. */
  protected override update(
    param: FloatArray,
    grad: FloatArray,
    state: AdamParamState,
    group: ParamGroup<AdamOptions>,
    size: number,
  ): void {
    if (state.m.length < size) {
      throw new TypeError(
        `${this.constructor.name}: the state of this ${size}-element parameter lives on the ` +
          "GPU (it was stepped there); create a new optimizer after moving the model back",
      );
    }
    // amsgrad switched on after the first step: start its maximum from zero
    if (group.amsgrad && state.vMax === undefined) state.vMax = zerosLikeArray(param, size);
    state.step += 1;
    this.rule(
      param,
      grad,
      state,
      hyper(group, state.step),
      0,
      size,
    );
  }
}
