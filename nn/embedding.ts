/**
 * `Embedding`: a lookup table of learned vectors, indexed by int32 ids.
 * @module
 */

import { fmt } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { normal } from "./init.ts";
import { Module } from "./module.ts";
import { checkInt, empty, floatDType } from "./util.ts";

/**
 * Options of `Embedding`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Embedding } from "@adamant/core";
 * assert.equal(new Embedding(10, 4, { dtype: "float64" }).weight.dtype, "float64");
 * ```
 */
export interface EmbeddingOptions {
  /** The weight's dtype: `"float32"` (the default) or `"float64"`. */
  dtype?: "float32" | "float64";
}

/**
 * A table of `numEmbeddings` vectors of size `embeddingDim`, drawn from N(0, 1) by the
 * seeded default generator; `forward(ids)` looks up the rows named by int32 `ids` of any
 * shape. The gradient of a row used several times is the sum of its uses.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Embedding, tensor } from "@adamant/core";
 * const table = new Embedding(10, 3);
 * const ids = tensor([[1, 2], [1, 9]], { dtype: "int32" });
 * const y = table.forward(ids);
 * assert.equal(y.shape.join(), "2,2,3");
 * assert.equal(y.select(0, 0).select(0, 0).sub(table.weight.select(0, 1)).abs().max().item(), 0);
 * ```
 */
export class Embedding extends Module {
  /** The number of rows. */
  readonly numEmbeddings: number;
  /** The size of each row. */
  readonly embeddingDim: number;
  /** The table, `[numEmbeddings, embeddingDim]`. */
  readonly weight: Tensor;

  /**
   * Creates the table.
   *
   * @param numEmbeddings The number of rows (ids run from 0 to `numEmbeddings - 1`).
   * @param embeddingDim The size of each row.
   * @param options `dtype`.
   */
  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = checkInt("Embedding", "numEmbeddings", numEmbeddings);
    this.embeddingDim = checkInt("Embedding", "embeddingDim", embeddingDim);
    const dtype = floatDType("Embedding", options.dtype);
    this.weight = this.registerParameter(
      "weight",
      empty("Embedding", [numEmbeddings, embeddingDim], dtype),
    );
    normal(this.weight);
  }

  /**
   * Looks up rows.
   *
   * @param ids int32 ids of any shape, each in [0, numEmbeddings).
   * @returns The rows, of shape `[...ids.shape, embeddingDim]`.
   */
  override forward(ids: Tensor): Tensor {
    if (ids.dtype !== "int32") {
      throw new TypeError(`Embedding: ids must be int32, got ${ids.dtype} ${fmt(ids.shape)}`);
    }
    const flat = ids.reshape([-1]);
    // GPU ids are not read back: an id out of range gathers NaN instead
    const data = flat.device === "cpu" ? flat.toArray() : [];
    for (let i = 0; i < data.length; i++) {
      if (data[i] < 0 || data[i] >= this.numEmbeddings) {
        throw new RangeError(
          `Embedding: id ${data[i]} is out of range for ${this.numEmbeddings} embeddings`,
        );
      }
    }
    return this.weight.indexSelect(0, flat).reshape([...ids.shape, this.embeddingDim]);
  }
}
