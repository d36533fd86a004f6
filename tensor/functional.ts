/**
 * Free-function forms of the ops, for code that reads better as `add(a, b)` or that joins
 * several tensors.
 * @module
 */

import { Tensor, type TensorLike } from "./tensor.ts";
import * as E from "./ops/elementwise.ts";
import { concat as concatOp, stack as stackOp } from "./ops/join.ts";

function lift(x: TensorLike, like: TensorLike): Tensor {
  if (x instanceof Tensor) return x;
  if (like instanceof Tensor) return E.full([], x, like.dtype, like.device);
  return E.full([], x, "float32");
}

/**
 * Joins tensors along an existing axis.
 *
 * @param tensors Tensors whose shapes agree except along `axis`.
 * @param axis The axis to join along (default 0).
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { concat, ones, zeros } from "@adamant/core";
 * assert(concat([zeros([2, 3]), ones([1, 3])]).shape.join() === "3,3");
 * ```
 */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  return concatOp(tensors, axis);
}

/**
 * Joins same-shaped tensors along a new axis.
 *
 * @param tensors Tensors of one shape.
 * @param axis Where the new axis goes (default 0).
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones, stack } from "@adamant/core";
 * assert(stack([ones([3]), ones([3])], 1).shape.join() === "3,2");
 * ```
 */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  return stackOp(tensors, axis);
}

/**
 * Picks `a` where `cond` is non-zero and `b` elsewhere, broadcasting all three.
 *
 * @param cond A mask.
 * @param a Values where the mask is set.
 * @param b Values elsewhere.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor, where } from "@adamant/core";
 * const x = tensor([-1, 2]);
 * assert(where(x.gt(0), x, 0).toArray().join() === "0,2");
 * ```
 */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  return E.where(cond, a, b);
}

/**
 * Elementwise maximum of two tensors (or a tensor and a number).
 *
 * @param a First operand.
 * @param b Second operand.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { maximum, tensor } from "@adamant/core";
 * assert(maximum(tensor([1, 5]), tensor([3, 2])).toArray().join() === "3,5");
 * ```
 */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return E.maximum(lift(a, b), b);
}

/**
 * Elementwise minimum of two tensors (or a tensor and a number).
 *
 * @param a First operand.
 * @param b Second operand.
 * @returns A new tensor.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { minimum, tensor } from "@adamant/core";
 * assert(minimum(tensor([1, 5]), 3).toArray().join() === "1,3");
 * ```
 */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return E.minimum(lift(a, b), b);
}
