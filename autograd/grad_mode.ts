/**
 * Grad mode: whether ops record the graph. Off inside `noGrad`, e.g. for optimizer updates
 * and evaluation.
 * @module
 */

let enabled = true;

/**
 * Whether ops currently record the autograd graph.
 *
 * @returns `false` inside `noGrad`, `true` otherwise.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isGradEnabled, noGrad } from "@adamant/core";
 * assert(isGradEnabled());
 * noGrad(() => assert(!isGradEnabled()));
 * ```
 */
export function isGradEnabled(): boolean {
  return enabled;
}

function withMode<T>(mode: boolean, fn: () => T): T {
  const previous = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/**
 * Runs `fn` without recording the graph: results do not require grad.
 *
 * @param fn The code to run.
 * @returns What `fn` returned.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { noGrad, ones } from "@adamant/core";
 * const w = ones([2], { requiresGrad: true });
 * const y = noGrad(() => w.mul(2));
 * assert(!y.requiresGrad);
 * ```
 */
export function noGrad<T>(fn: () => T): T {
  return withMode(false, fn);
}

/**
 * Runs `fn` with graph recording on, even inside `noGrad`.
 *
 * @param fn The code to run.
 * @returns What `fn` returned.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { enableGrad, noGrad, ones } from "@adamant/core";
 * const w = ones([2], { requiresGrad: true });
 * const y = noGrad(() => enableGrad(() => w.mul(2)));
 * assert(y.requiresGrad);
 * ```
 */
export function enableGrad<T>(fn: () => T): T {
  return withMode(true, fn);
}
