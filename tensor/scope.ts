/**
 * Scopes that dispose the tensors created inside them: `tidy(fn)` for users, and the same
 * mechanism for the autograd engine's temporaries.
 * @module
 */

import type { Tensor } from "./tensor.ts";

const stack: Set<Tensor>[] = [];

/** Records a newly created tensor in the innermost open scope. */
export function track(t: Tensor): void {
  if (stack.length > 0) stack[stack.length - 1].add(t);
}

/** Removes `t` from every open scope, so no scope will dispose it. */
export function untrack(t: Tensor): void {
  for (const scope of stack) scope.delete(t);
}

/** Runs `fn`, returning its result and every tensor it created that is still tracked. */
export function collect<T>(fn: () => T): { result: T; created: Set<Tensor> } {
  const scope = new Set<Tensor>();
  stack.push(scope);
  try {
    const result = fn();
    return { result, created: scope };
  } finally {
    stack.pop();
  }
}

/** Every tensor reachable in a value returned from a scope: arrays and plain objects. */
function tensorsIn(value: unknown, out: Set<Tensor>, isTensor: (v: unknown) => v is Tensor): void {
  if (isTensor(value)) out.add(value);
  else if (Array.isArray(value)) { for (const v of value) tensorsIn(v, out, isTensor); }
  else if (value !== null && typeof value === "object" && !ArrayBuffer.isView(value)) {
    if (value instanceof Map) { for (const v of value.values()) tensorsIn(v, out, isTensor); }
    else if (Object.getPrototypeOf(value) === Object.prototype) {
      for (const v of Object.values(value)) tensorsIn(v, out, isTensor);
    }
  }
}

/**
 * Runs `fn` and disposes every tensor created inside it, except those it returns (in an
 * array, object or Map), those passed to `keep`, and parameters (leaves that require
 * grad). Returned tensors move to the enclosing scope. `fn` must be synchronous: a
 * promise is rejected with an error, because interleaved async code would share a scope.
 *
 * @param fn The code to run.
 * @returns What `fn` returned.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tidy, ones } from "@adamant/core";
 * const y = tidy(() => ones([3]).mul(2).add(1));
 * assert(y.toArray()[0] === 3);
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const { result, created } = collect(fn);
  if (result instanceof Promise) {
    for (const t of created) if (!t.kept) t.dispose();
    throw new TypeError("tidy: fn returned a promise; pass a synchronous function");
  }
  const survivors = new Set<Tensor>();
  tensorsIn(result, survivors, (v): v is Tensor => created.has(v as Tensor));
  for (const t of created) {
    if (survivors.has(t)) track(t);
    else if (!t.kept && !(t.requiresGrad && t.gradFn === null)) t.dispose();
  }
  return result;
}

/**
 * Marks a tensor so that no `tidy` scope disposes it.
 *
 * @param t The tensor to keep.
 * @returns `t` itself.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keep, tidy, zeros } from "@adamant/core";
 * let kept;
 * tidy(() => { kept = keep(zeros([2])); });
 * assert(kept!.toArray().length === 2);
 * ```
 */
export function keep<T extends Tensor>(t: T): T {
  t.kept = true;
  untrack(t);
  return t;
}
