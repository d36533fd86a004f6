/**
 * Reverse-mode automatic differentiation: grad mode, the functional `grad`, and gradient
 * checking. `Tensor.backward()` drives the engine.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gradcheck, noGrad } from "@adamant/core/autograd";
assert(typeof gradcheck === "function" && typeof noGrad === "function");
 * ```
 * @module
 */

export type { BackwardOptions } from "./engine.ts";
export type { BackwardFn, GradHook } from "./node.ts";
export { Node } from "./node.ts";
export { enableGrad, isGradEnabled, noGrad } from "./grad_mode.ts";
export { grad, type GradOptions } from "./grad.ts";
export { gradcheck, type GradcheckOptions, gradgradcheck } from "./gradcheck.ts";
