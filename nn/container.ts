/**
 * `Sequential`: modules applied one after another.
 * @module
 */

import { Module } from "./module.ts";
import type { Tensor } from "../tensor/tensor.ts";

/**
 * Applies its modules in order, each to the previous one's output. The modules are
 * registered under their positions, `"0"`, `"1"`, …, so parameters are named `"0.weight"`
 * and so on, as in PyTorch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, ReLU, Sequential, randn } from "@adamant/core";
 * const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
 * assert(model.length === 3 && model.at(1) instanceof ReLU);
 * assert.equal(model.forward(randn([3, 4])).shape.join(), "3,2");
 * ```
 */
export class Sequential extends Module {
  #layers: Module[] = [];

  /**
   * Creates the container.
   *
   * @param modules The modules, in the order they are applied.
   */
  constructor(...modules: Module[]) {
    super();
    for (const m of modules) this.append(m);
  }

  /**
   * Adds a module at the end, named by its position.
   *
   * @param module The module.
   * @returns This container.
   */
  append(module: Module): this {
    this.#layers.push(this.registerModule(String(this.#layers.length), module));
    return this;
  }

  /** The number of modules. */
  get length(): number {
    return this.#layers.length;
  }

  /**
   * The module at `index` (negative counts from the end).
   *
   * @param index The position.
   * @returns The module.
   */
  at(index: number): Module {
    const m = Number.isInteger(index) ? this.#layers.at(index) : undefined;
    if (m === undefined) {
      throw new RangeError(
        `Sequential.at: index ${index} is out of range for ${this.#layers.length} modules`,
      );
    }
    return m;
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.#layers[Symbol.iterator]();
  }

  /**
   * Applies every module in turn.
   *
   * @param x The input of the first module.
   * @returns The output of the last module (`x` itself when empty).
   */
  override forward(x: Tensor): Tensor {
    for (const m of this.#layers) x = m.forward(x);
    return x;
  }
}
