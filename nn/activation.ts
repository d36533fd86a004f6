/**
 * Activation modules: stateless wrappers of the tensor methods of the same name.
 * @module
 */

import { Module } from "./module.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * `max(x, 0)` elementwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReLU, tensor } from "@adamant/core";
 * assert.equal(new ReLU().forward(tensor([-1, 2])).toArray().join(), "0,2");
 * ```
 */
export class ReLU extends Module {
  /**
   * Applies the activation.
   *
   * @param x The input.
   * @returns `x.relu()`.
   */
  override forward(x: Tensor): Tensor {
    return x.relu();
  }
}

/**
 * Options of `GELU`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GELU } from "@adamant/core";
 * assert.equal(new GELU({ approximate: "tanh" }).approximate, "tanh");
 * ```
 */
export interface GELUOptions {
  /** `"none"` (the default) for the exact erf form, `"tanh"` for the tanh approximation. */
  approximate?: "none" | "tanh";
}

/**
 * The Gaussian error linear unit, `x · Φ(x)`, exact or tanh-approximated.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GELU, tensor } from "@adamant/core";
 * const y = new GELU().forward(tensor([0, 10]));
 * assert(y.toArray()[0] === 0 && Math.abs(y.toArray()[1] - 10) < 1e-5);
 * ```
 */
export class GELU extends Module {
  /** The form: `"none"` (exact) or `"tanh"`. */
  readonly approximate: "none" | "tanh";

  /**
   * Creates the activation.
   *
   * @param options `approximate`.
   */
  constructor(options: GELUOptions = {}) {
    super();
    const approximate = options.approximate ?? "none";
    if (approximate !== "none" && approximate !== "tanh") {
      throw new RangeError(
        `GELU: approximate must be "none" or "tanh", got ${JSON.stringify(approximate)}`,
      );
    }
    this.approximate = approximate;
  }

  /**
   * Applies the activation.
   *
   * @param x The input.
   * @returns `x.gelu(approximate)`.
   */
  override forward(x: Tensor): Tensor {
    return x.gelu(this.approximate);
  }
}

/**
 * The hyperbolic tangent elementwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Tanh, tensor } from "@adamant/core";
 * assert.equal(new Tanh().forward(tensor([0])).item(), 0);
 * ```
 */
export class Tanh extends Module {
  /**
   * Applies the activation.
   *
   * @param x The input.
   * @returns `x.tanh()`.
   */
  override forward(x: Tensor): Tensor {
    return x.tanh();
  }
}

/**
 * The logistic sigmoid elementwise.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Sigmoid, tensor } from "@adamant/core";
 * assert.equal(new Sigmoid().forward(tensor([0])).item(), 0.5);
 * ```
 */
export class Sigmoid extends Module {
  /**
   * Applies the activation.
   *
   * @param x The input.
   * @returns `x.sigmoid()`.
   */
  override forward(x: Tensor): Tensor {
    return x.sigmoid();
  }
}

/**
 * `x` where positive, `negativeSlope · x` elsewhere.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LeakyReLU, tensor } from "@adamant/core";
 * const y = new LeakyReLU(0.5).forward(tensor([-2, 3]));
 * assert.equal(y.toArray().join(), "-1,3");
 * ```
 */
export class LeakyReLU extends Module {
  /** The slope for negative inputs. */
  readonly negativeSlope: number;

  /**
   * Creates the activation.
   *
   * @param negativeSlope The slope for negative inputs (default 0.01).
   */
  constructor(negativeSlope = 0.01) {
    super();
    if (typeof negativeSlope !== "number" || !Number.isFinite(negativeSlope)) {
      throw new RangeError(
        `LeakyReLU: negativeSlope must be a finite number, got ${negativeSlope}`,
      );
    }
    this.negativeSlope = negativeSlope;
  }

  /**
   * Applies the activation.
   *
   * @param x The input.
   * @returns `x.leakyRelu(negativeSlope)`.
   */
  override forward(x: Tensor): Tensor {
    return x.leakyRelu(this.negativeSlope);
  }
}

function checkDim(op: string, dim: number): number {
  if (!Number.isInteger(dim)) throw new RangeError(`${op}: dim must be an integer, got ${dim}`);
  return dim;
}

/**
 * Softmax along `dim`: each slice along it becomes positive and sums to 1. Unlike
 * PyTorch, whose implicit dimension depends on the input's rank, the default is the last.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Softmax, tensor } from "@adamant/core";
 * const y = new Softmax(1).forward(tensor([[1, 2, 3]]));
 * assert(Math.abs(y.sum().item() - 1) < 1e-6);
 * ```
 */
export class Softmax extends Module {
  /** The dimension normalised over. */
  readonly dim: number;

  /**
   * Creates the activation.
   *
   * @param dim The dimension normalised over (default -1, the last).
   */
  constructor(dim = -1) {
    super();
    this.dim = checkDim("Softmax", dim);
  }

  /**
   * Applies the activation.
   *
   * @param x The input (floating).
   * @returns `x.softmax(dim)`.
   */
  override forward(x: Tensor): Tensor {
    return x.softmax(this.dim);
  }
}

/**
 * Log-softmax along `dim`, computed stably (default the last dimension).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LogSoftmax, tensor } from "@adamant/core";
 * const y = new LogSoftmax().forward(tensor([[0, 0]]));
 * assert(Math.abs(y.toArray()[0] + Math.LN2) < 1e-6);
 * ```
 */
export class LogSoftmax extends Module {
  /** The dimension normalised over. */
  readonly dim: number;

  /**
   * Creates the activation.
   *
   * @param dim The dimension normalised over (default -1, the last).
   */
  constructor(dim = -1) {
    super();
    this.dim = checkDim("LogSoftmax", dim);
  }

  /**
   * Applies the activation.
   *
   * @param x The input (floating).
   * @returns `x.logSoftmax(dim)`.
   */
  override forward(x: Tensor): Tensor {
    return x.logSoftmax(this.dim);
  }
}
