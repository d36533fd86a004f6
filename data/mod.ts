/**
 * Datasets, the DataLoader, the IDX / Fashion-MNIST reader and the embedded digits set.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { DataLoader, Generator, loadDigits, splitTrainTest, TensorDataset } from "@adamant/core";
 * const { train } = splitTrainTest(await loadDigits(), { testFraction: 0.2, seed: 0 });
 * const loader = new DataLoader(new TensorDataset(train.x, train.y), {
 *   batchSize: 64,
 *   shuffle: true,
 *   generator: new Generator(0),
 * });
 * let seen = 0;
 * for (using batch of loader) seen += batch.y.size;
 * assert(seen === 1438 && loader.length === 23);
 * ```
 * @module
 */

export { type Dataset, type Sample, TensorDataset } from "./dataset.ts";
export { type Batch, DataLoader, type DataLoaderOptions, type DataLoaderState } from "./loader.ts";
export { type IdxArray, type IdxType, readIdx, readIdxFile, type ReadIdxOptions } from "./idx.ts";
export {
  FASHION_MNIST_CLASSES,
  FASHION_MNIST_DIR,
  type FashionMnist,
  loadFashionMnist,
} from "./fashion_mnist.ts";
export { loadDigits, type SplitOptions, splitTrainTest } from "./digits.ts";
