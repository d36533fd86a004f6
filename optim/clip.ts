/**
 * Gradient clipping: by the total norm over all parameters, or elementwise by value.
 * @module
 */

import { Tensor } from "../tensor/tensor.ts";

/**
 * Options of `clipGradNorm`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ClipGradNormOptions } from "@adamant/core";
 * const options: ClipGradNormOptions = { normType: Infinity };
 * assert(options.normType === Infinity);
 * ```
 */
export interface ClipGradNormOptions {
  /** The p of the p-norm: any p > 0, or `Infinity` for the largest magnitude (default 2). */
  normType?: number;
  /** Throw when the total norm is NaN or infinite instead of scaling by it (default false). */
  errorIfNonfinite?: boolean;
}

function gradsOf(op: string, params: Tensor | Iterable<Tensor>): Tensor[] {
  const list = params instanceof Tensor ? [params] : Array.from(params);
  list.forEach((p, i) => {
    if (!(p instanceof Tensor)) {
      throw new TypeError(`${op}: params[${i}] is not a Tensor (got ${String(p)})`);
    }
  });
  return list.map((p) => p.grad).filter((g): g is Tensor => g !== null);
}

/** Calls `fn` with each element of `t`, in row-major order, reading through its strides. */
function forEachElement(t: Tensor, fn: (x: number) => void): void {
  if (t.isContiguous) {
    const data = t.data;
    for (let i = t.offset, end = t.offset + t.size; i < end; i++) fn(data[i]);
    return;
  }
  const values = t.toArray();
  for (let i = 0; i < values.length; i++) fn(values[i]);
}

/** Multiplies `t`'s elements by `factor` in place, bumping its version. */
function scaleInPlace(t: Tensor, factor: number): void {
  if (t.isContiguous) {
    const data = t.data;
    for (let i = t.offset, end = t.offset + t.size; i < end; i++) data[i] *= factor;
    t.storage.version++;
  } else {
    const view = t.detach(); // an op-result gradient (createGraph) may not be written directly
    view.mulInPlace(factor);
    view.dispose();
  }
}

/**
 * Scales the gradients of `params` together so that their total norm (the norm of all
 * gradient elements as one vector) is at most `maxNorm`, as PyTorch 1.13's
 * `clip_grad_norm_`: each gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`.
 * Parameters without a gradient are skipped. The norm is computed in double.
 *
 * @param params The parameters (a tensor or a list of them) whose `.grad` to clip.
 * @param maxNorm The largest total norm allowed.
 * @param options `normType` (2 by default; `Infinity` for the largest magnitude),
 *   `errorIfNonfinite`.
 * @returns The total norm before clipping.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipGradNorm, tensor } from "@adamant/core";
 * const w = tensor([0, 0], { requiresGrad: true });
 * w.mul(tensor([3, 4])).sum().backward(); // grad [3, 4], norm 5
 * const norm = clipGradNorm([w], 1);
 * assert(norm === 5);
 * assert(Math.abs(w.grad!.toArray()[1] - 0.8) < 1e-6);
 * ```
 */
export function clipGradNorm(
  params: Tensor | Iterable<Tensor>,
  maxNorm: number,
  options: ClipGradNormOptions = {},
): number {
  const normType = options.normType ?? 2;
  if (typeof maxNorm !== "number" || !(maxNorm >= 0)) {
    throw new RangeError(`clipGradNorm: maxNorm must be a number >= 0, got ${maxNorm}`);
  }
  if (typeof normType !== "number" || !(normType > 0)) {
    throw new RangeError(`clipGradNorm: normType must be > 0 or Infinity, got ${normType}`);
  }
  const grads = gradsOf("clipGradNorm", params);
  if (grads.length === 0) return 0;
  let total = 0;
  if (normType === Infinity) {
    let nan = false;
    for (const g of grads) {
      forEachElement(g, (x) => {
        const a = Math.abs(x);
        if (a > total) total = a;
        else if (a !== a) nan = true;
      });
    }
    if (nan) total = NaN; // as PyTorch's max, NaN wins
  } else {
    let sum = 0;
    if (normType === 2) { for (const g of grads) forEachElement(g, (x) => sum += x * x); }
    else for (const g of grads) forEachElement(g, (x) => sum += Math.abs(x) ** normType);
    total = normType === 2 ? Math.sqrt(sum) : sum ** (1 / normType);
  }
  if (options.errorIfNonfinite && !Number.isFinite(total)) {
    throw new RangeError(
      `clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; ` +
        "pass errorIfNonfinite: false to scale by it anyway",
    );
  }
  const coef = maxNorm / (total + 1e-6);
  // a factor of 1 changes nothing; NaN is applied, as PyTorch does
  if (!(coef >= 1)) { for (const g of grads) scaleInPlace(g, coef); }
  return total;
}

/**
 * Clamps every gradient element of `params` to [-clipValue, clipValue] in place, as
 * PyTorch's `clip_grad_value_`. Parameters without a gradient are skipped.
 *
 * @param params The parameters (a tensor or a list of them) whose `.grad` to clip.
 * @param clipValue The largest magnitude allowed (>= 0).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clipGradValue, tensor } from "@adamant/core";
 * const w = tensor([0, 0, 0], { requiresGrad: true });
 * w.mul(tensor([-3, 0.5, 4])).sum().backward();
 * clipGradValue([w], 1);
 * assert(w.grad!.toArray().join() === "-1,0.5,1");
 * ```
 */
export function clipGradValue(params: Tensor | Iterable<Tensor>, clipValue: number): void {
  if (typeof clipValue !== "number" || !(clipValue >= 0)) {
    throw new RangeError(`clipGradValue: clipValue must be a number >= 0, got ${clipValue}`);
  }
  for (const g of gradsOf("clipGradValue", params)) {
    if (g.isContiguous) {
      const data = g.data;
      for (let i = g.offset, end = g.offset + g.size; i < end; i++) {
        const x = data[i];
        if (x > clipValue) data[i] = clipValue;
        else if (x < -clipValue) data[i] = -clipValue;
      }
      g.storage.version++;
    } else {
      const view = g.detach();
      const clamped = view.clamp(-clipValue, clipValue);
      view.copyInPlace(clamped);
      clamped.dispose();
      view.dispose();
    }
  }
}
