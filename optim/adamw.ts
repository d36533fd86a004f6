/**
 * AdamW (Loshchilov and Hutter, 2017): Adam with weight decay decoupled from the gradient.
 * @module
 */

import { Adam } from "./adam.ts";
import { adamwUpdate } from "./update.ts";

/**
 * AdamW, as PyTorch 1.13's `_single_tensor_adamw`: each step first shrinks every weight by
 * `1 - lr * weightDecay` (default weightDecay 1e-2), then applies Adam's update to the
 * plain gradient (see `Adam` for the algorithm).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AdamW, tensor } from "@adamant/core";
 * const w = tensor([1, 1], { requiresGrad: true });
 * const opt = new AdamW([w], { lr: 0.1, weightDecay: 0.5 });
 * w.mul(0).sum().backward(); // a zero gradient: only the decay acts
 * opt.step();
 * assert(Math.abs(w.toArray()[0] - 0.95) < 1e-7);
 * ```
 */
export class AdamW extends Adam {
  /** The decoupled-decay update. */
  protected override readonly rule: typeof adamwUpdate = adamwUpdate;
}
