/**
 * Gradient checking by central finite differences in float64: the test every
 * differentiable op passes, for first and second derivatives.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";
import { grad } from "./grad.ts";

/**
 * Options of `gradcheck`.
 *
 * @example
 * ```ts
 * import { gradcheck, tensor } from "@adamant/core";
 * gradcheck((x) => x.exp(), [tensor([0.5], { dtype: "float64" })], { eps: 1e-6, rtol: 1e-4 });
 * ```
 */
export interface GradcheckOptions {
  /** Finite-difference step (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
}

/** Deterministic weights in [-1, 1] that project a tensor output onto a scalar. */
function projection(out: Tensor, salt: number): Tensor {
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = Math.sin(12.9898 * (i + 1) + 78.233 * salt);
  return out.newTensor(w, out.shape);
}

/**
 * Checks the gradients of `fn` at `inputs` (float64 tensors) against central finite
 * differences of `sum(fn(...inputs) * w)` for fixed pseudo-random weights `w`. Inputs are
 * cloned into contiguous leaves: to check strided inputs, make the views inside `fn`.
 *
 * @param fn The function to check.
 * @param inputs Its float64 inputs.
 * @param options `eps`, `atol`, `rtol`.
 * @returns `true`; a mismatch throws an Error naming the input, the element and both values.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradcheck, randn } from "@adamant/core";
 * const x = randn([3, 4], { dtype: "float64" });
 * assert(gradcheck((a) => a.tanh().sum(1), [x]));
 * ```
 */
export function gradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): boolean {
  const eps = options.eps ?? 1e-6, atol = options.atol ?? 1e-5, rtol = options.rtol ?? 1e-3;
  for (const x of inputs) {
    if (x.dtype !== "float64") {
      throw new TypeError(`gradcheck: inputs must be float64 (use .double()), got ${x.dtype}`);
    }
  }
  const xs = inputs.map((x) => {
    const leaf = x.detach().clone();
    leaf.requiresGrad = true;
    return leaf;
  });
  const first = fn(...xs);
  const w = projection(first, 1);
  const loss = (t: Tensor) => t.mul(w).sum();
  // an output that does not require grad (e.g. the gradient of a linear fn) has zero gradient
  const l = loss(first);
  const analytic = l.requiresGrad
    ? grad(l, xs).map((g) => g.toArray())
    : xs.map((x) => new Float64Array(x.size));
  const value = () => loss(fn(...xs)).item();
  xs.forEach((x, i) => {
    const data = x.data;
    for (let j = 0; j < x.size; j++) {
      const keep = data[j];
      data[j] = keep + eps;
      const plus = value();
      data[j] = keep - eps;
      const minus = value();
      data[j] = keep;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[i][j];
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        throw new Error(
          `gradcheck: gradient of input ${i} at flat index ${j} is ${a}, ` +
            `but finite differences give ${numeric}`,
        );
      }
    }
  });
  return true;
}

/**
 * Checks second derivatives: `gradcheck` of the first-order gradients (computed with
 * `createGraph`) projected onto fixed weights.
 *
 * @param fn The function to check.
 * @param inputs Its float64 inputs.
 * @param options `eps`, `atol`, `rtol`.
 * @returns `true`; a mismatch throws.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradgradcheck, randn } from "@adamant/core";
 * assert(gradgradcheck((a) => a.mul(a).exp(), [randn([3], { dtype: "float64" })]));
 * ```
 */
export function gradgradcheck(
  fn: (...inputs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): boolean {
  return gradcheck(
    (...xs) => {
      const out = fn(...xs);
      const grads = grad(out.mul(projection(out, 2)).sum(), xs, { createGraph: true });
      return grads.map((g, i) => g.mul(projection(g, 3 + i)).sum()).reduce((s, t) => s.add(t));
    },
    inputs,
    options,
  );
}
