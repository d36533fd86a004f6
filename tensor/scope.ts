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
 * grad). Returned tensors move to the enclosing scope. `fn` may be async (to await GPU
 * reads): then the scope stays open until its promise settles, so every tensor created
 * meanwhile belongs to it; do not run other tensor code concurrently with an async
 * scope.
 *
 * @param fn The code to run.
 * @returns What `fn` returned (a promise of it for an async `fn`).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tidy, ones } from "@adamant/core";
 * const y = tidy(() => ones([3]).mul(2).add(1));
 * assert(y.toArray()[0] === 3);
 * const total = await tidy(async () => (await ones([4]).sum().read())[0]);
 * assert.equal(total, 4);
 * ```
 */
export function tidy<T>(fn: () => T): T {
  const scope = new Set<Tensor>();
  stack.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (e) {
    pop(scope);
    throw e;
  }
  if (result instanceof Promise) {
    return result.then(
      (value) => {
        close(scope, value);
        return value;
      },
      (e) => {
        pop(scope);
        throw e;
      },
    ) as T;
  }
  close(scope, result);
  return result;
}

/** Removes `scope` from the stack (an async scope need not be on top when it settles). */
function pop(scope: Set<Tensor>): void {
  const at = stack.lastIndexOf(scope);
  if (at >= 0) stack.splice(at, 1);
}

/** Pops `scope` and disposes what it created, except what `result` holds. */
function close(scope: Set<Tensor>, result: unknown): void {
  pop(scope);
  const survivors = new Set<Tensor>();
  tensorsIn(result, survivors, (v): v is Tensor => scope.has(v as Tensor));
  for (const t of scope) {
    if (survivors.has(t)) track(t);
    else if (!t.kept && !(t.requiresGrad && t.gradFn === null)) t.dispose();
  }
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
