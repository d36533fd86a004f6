/**
 * `grad(output, inputs)`: gradients returned rather than accumulated, as
 * `torch.autograd.grad` does; the building block of gradients of gradients.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";

/**
 * Options of `grad`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grad, tensor } from "@adamant/core";
 * const x = tensor([2], { requiresGrad: true });
 * const [g] = grad(x.pow(3).sum(), [x], { createGraph: true });
 * assert(g.item() === 12);
 * ```
 */
export interface GradOptions {
  /** The gradient of a non-scalar output (like `backward(gradient)`). */
  gradOutput?: Tensor;
  /** Record the backward pass so the result can be differentiated again. */
  createGraph?: boolean;
  /** Keep the graph for another backward pass. */
  retainGraph?: boolean;
}

/**
 * The gradients of `output` with respect to each of `inputs` (zeros where none flows).
 * The inputs' `.grad` fields are left as they were; other leaves of the graph still
 * accumulate, as with `backward()`.
 *
 * @param output The tensor to differentiate.
 * @param inputs Tensors that require grad.
 * @param options `gradOutput`, `createGraph`, `retainGraph`.
 * @returns One gradient per input.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { grad, tensor } from "@adamant/core";
 * const x = tensor([3], { requiresGrad: true });
 * const [dx] = grad(x.mul(x).sum(), [x], { createGraph: true });
 * const [ddx] = grad(dx.sum(), [x]);
 * assert(dx.item() === 6 && ddx.item() === 2);
 * ```
 */
export function grad(
  output: Tensor,
  inputs: readonly Tensor[],
  options: GradOptions = {},
): Tensor[] {
  const before = inputs.map((x) => x.grad);
  for (const x of inputs) x.grad = null;
  try {
    const opts = { createGraph: options.createGraph, retainGraph: options.retainGraph };
    if (options.gradOutput) output.backward(options.gradOutput, opts);
    else output.backward(opts);
    return inputs.map((x) => x.grad ?? x.zerosLike());
  } finally {
    inputs.forEach((x, i) => (x.grad = before[i]));
  }
}
