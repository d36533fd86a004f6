/**
 * Recording an op for autograd: the one place that decides whether an op's result joins
 * the graph and with which backward function.
 * @module
 */

import { isGradEnabled } from "../../autograd/grad_mode.ts";
import { type BackwardFn, Node } from "../../autograd/node.ts";
import type { Tensor } from "../tensor.ts";

/**
 * Attaches `backward` to `out` when grad mode is on and an input requires grad.
 * `saved` are the tensors backward reads; their versions are checked when it runs.
 */
export function record(
  out: Tensor,
  name: string,
  inputs: readonly (Tensor | number | null)[],
  saved: readonly Tensor[],
  backward: BackwardFn,
): Tensor {
  if (!isGradEnabled()) return out;
  let any = false;
  const tracked = inputs.map((t) => {
    if (typeof t === "object" && t !== null && t.requiresGrad) {
      any = true;
      return t;
    }
    return null;
  });
  if (!any) return out;
  out.gradFn = new Node(name, tracked, backward, saved);
  out.requiresGrad = true;
  return out;
}
