/**
 * The embedded default data set: 1,797 8×8 images of handwritten digits (UCI optical
 * recognition of handwritten digits; E. Alpaydin and C. Kaynak; CC BY 4.0), and a seeded
 * train/test split for any labelled data.
 * @module
 */

import { Generator } from "../tensor/random.ts";
import { Storage } from "../tensor/storage.ts";
import { Tensor } from "../tensor/tensor.ts";
import { describe, gatherRows, type Sample } from "./dataset.ts";
import { DIGITS_GZIP_BASE64 } from "./digits_data.ts";
import { gunzip } from "./idx.ts";
import { drawPermutation } from "./loader.ts";

const SAMPLES = 1797, FEATURES = 64;

let decoded: Promise<Uint8Array> | null = null;

/** The embedded bytes (pixels, then labels), decoded once and shared. */
function digitsBytes(): Promise<Uint8Array> {
  if (decoded === null) {
    const binary = atob(DIGITS_GZIP_BASE64.replace(/\s+/g, ""));
    const gz = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) gz[i] = binary.charCodeAt(i);
    decoded = gunzip(gz);
  }
  return decoded;
}

/**
 * The UCI handwritten digits: 1,797 samples of 8×8 pixels, each pixel a count 0–16 of
 * the "on" pixels in a 4×4 block of a 32×32 bitmap. Source: UCI Machine Learning
 * Repository, "Optical Recognition of Handwritten Digits", E. Alpaydin and C. Kaynak
 * (1998), CC BY 4.0, as shipped by scikit-learn. Embedded in the library (about 60 KB),
 * so loading needs no permission.
 *
 * @returns `x`: float32 `[1797, 64]` (pixel / 16, in [0, 1], rows of the image one after
 * another), `y`: int32 `[1797]` (the digit, 0–9). New tensors on each call.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadDigits } from "@adamant/core";
 * const { x, y } = await loadDigits();
 * assert(x.shape.join() === "1797,64" && y.shape.join() === "1797");
 * assert(x.max().item() === 1 && y.toArray()[0] === 0);
 * ```
 */
export async function loadDigits(): Promise<Sample> {
  const bytes = await digitsBytes();
  const pixels = SAMPLES * FEATURES;
  if (bytes.length !== pixels + SAMPLES) {
    throw new Error(
      `loadDigits: the embedded data decoded to ${bytes.length} bytes, expected ${
        pixels + SAMPLES
      }`,
    );
  }
  const x = new Float32Array(pixels), y = new Int32Array(SAMPLES);
  for (let i = 0; i < pixels; i++) x[i] = bytes[i] / 16;
  for (let i = 0; i < SAMPLES; i++) y[i] = bytes[pixels + i];
  return {
    x: new Tensor(new Storage(x, false), [SAMPLES, FEATURES]),
    y: new Tensor(new Storage(y, false), [SAMPLES]),
  };
}

/**
 * Options of `splitTrainTest`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { SplitOptions } from "@adamant/core";
 * const options: SplitOptions = { testFraction: 0.25, seed: 7 };
 * assert(options.seed === 7);
 * ```
 */
export interface SplitOptions {
  /** Share of the samples held out for testing, in (0, 1) (default 0.2). */
  testFraction?: number;
  /** Seed of the generator that picks the test samples (default 0). */
  seed?: number;
}

/**
 * Splits labelled data into a training and a held-out test set, deterministically: a
 * `new Generator(seed)` draws a Fisher–Yates permutation of the samples (as the
 * `DataLoader` does), the first `round(N × testFraction)` of it are the test samples, and
 * each split keeps the original order of its samples. The default generator is not touched.
 *
 * @param data `x` and `y` whose first dimension counts the samples.
 * @param options `testFraction` (default 0.2), `seed` (default 0).
 * @returns New tensors for `train` and `test`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadDigits, splitTrainTest } from "@adamant/core";
 * const { train, test } = splitTrainTest(await loadDigits(), { testFraction: 0.2, seed: 0 });
 * assert(test.x.shape[0] === 359 && train.y.shape[0] === 1438);
 * ```
 */
export function splitTrainTest(
  data: Sample,
  options: SplitOptions = {},
): { train: Sample; test: Sample } {
  const op = "splitTrainTest";
  if (!(data?.x instanceof Tensor) || !(data?.y instanceof Tensor)) {
    throw new TypeError(`${op}: data must be { x, y } of tensors, got ${describe(data)}`);
  }
  const { x, y } = data;
  if (x.ndim === 0 || y.ndim === 0 || x.shape[0] !== y.shape[0]) {
    throw new TypeError(
      `${op}: x [${x.shape.join(", ")}] and y [${y.shape.join(", ")}] must share a first ` +
        "dimension counting the samples",
    );
  }
  const { testFraction = 0.2, seed = 0 } = options;
  if (typeof testFraction !== "number" || !(testFraction > 0 && testFraction < 1)) {
    throw new RangeError(`${op}: option testFraction must be in (0, 1), got ${testFraction}`);
  }
  if (typeof seed !== "number" || !Number.isInteger(seed)) {
    throw new TypeError(`${op}: option seed must be an integer, got ${describe(seed)}`);
  }
  const n = x.shape[0], nTest = Math.round(n * testFraction);
  if (nTest < 1 || nTest > n - 1) {
    throw new RangeError(
      `${op}: testFraction ${testFraction} of ${n} samples leaves ${nTest} for testing and ` +
        `${n - nTest} for training; each split needs at least one`,
    );
  }
  const order = new Int32Array(n);
  drawPermutation(order, new Generator(seed));
  order.subarray(0, nTest).sort();
  order.subarray(nTest).sort();
  const part = (start: number, end: number): Sample => ({
    x: gatherRows(op, x, order, start, end),
    y: gatherRows(op, y, order, start, end),
  });
  return { train: part(nTest, n), test: part(0, nTest) };
}
