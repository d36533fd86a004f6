/**
 * adamant: tensors and reverse-mode autograd in plain TypeScript.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { manualSeed, randn, tensor } from "@adamant/core";
 * manualSeed(0);
 * const w = randn([3, 1], { requiresGrad: true });
 * const x = tensor([[1, 2, 3], [4, 5, 6]]);
 * const loss = x.matmul(w).sub(1).square().mean();
 * loss.backward();
 * assert(w.grad!.shape.join() === "3,1");
 * ```
 * @module
 */

export * from "./tensor/mod.ts";
export * from "./autograd/mod.ts";
export * from "./nn/mod.ts";
export * from "./optim/mod.ts";
export * from "./data/mod.ts";
export * from "./io/mod.ts";
