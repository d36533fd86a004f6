/**
 * Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017; MIT licence): 70,000 28×28 greyscale
 * images of clothing in 10 classes, read from its four IDX files.
 * @module
 */

import { Storage } from "../tensor/storage.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { Sample } from "./dataset.ts";
import { type IdxArray, readIdxFile } from "./idx.ts";

/**
 * Where Debian's `dataset-fashion-mnist` package installs the files (`apt-get install
 * dataset-fashion-mnist`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_DIR } from "@adamant/core";
 * assert(FASHION_MNIST_DIR.endsWith("fashion-mnist"));
 * ```
 */
export const FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist";

/**
 * The name of each Fashion-MNIST class, by label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { FASHION_MNIST_CLASSES } from "@adamant/core";
 * assert(FASHION_MNIST_CLASSES[9] === "Ankle boot");
 * ```
 */
export const FASHION_MNIST_CLASSES: readonly string[] = Object.freeze([
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
]);

/**
 * The two splits of Fashion-MNIST, each `x`: float32 `[N, 784]` (pixels scaled to [0, 1],
 * rows of the 28×28 image one after another) and `y`: int32 `[N]` (labels 0–9); N is
 * 60,000 for `train` and 10,000 for `test`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type FashionMnist, zeros } from "@adamant/core";
 * const empty: FashionMnist = {
 *   train: { x: zeros([0, 784]), y: zeros([0], { dtype: "int32" }) },
 *   test: { x: zeros([0, 784]), y: zeros([0], { dtype: "int32" }) },
 * };
 * assert(empty.train.x.shape[1] === 784);
 * ```
 */
export interface FashionMnist {
  /** The 60,000 training images and labels. */
  train: Sample;
  /** The 10,000 test images and labels. */
  test: Sample;
}

const SIDE = 28, CLASSES = 10;
const HOW_TO_GET = "install them with `apt-get install dataset-fashion-mnist` (Debian; into " +
  `${FASHION_MNIST_DIR}), or pass the directory that holds the four files of ` +
  "https://github.com/zalandoresearch/fashion-mnist";

/** The file of `base` in `dir`: `base.gz` when present, else `base`, else null. */
async function find(dir: string, base: string): Promise<string | null> {
  for (const name of [`${base}.gz`, base]) {
    const path = `${dir.replace(/\/+$/, "")}/${name}`;
    try {
      if ((await Deno.stat(path)).isFile) return path;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue;
      if (e instanceof Deno.errors.NotCapable) {
        throw new Deno.errors.NotCapable(
          `loadFashionMnist: no read access to ${path}: run with --allow-read=${dir}`,
          { cause: e },
        );
      }
      throw e;
    }
  }
  return null;
}

/** One split: images `[N, 28, 28]` ubyte and labels `[N]` ubyte, checked against each other. */
function toSample(images: IdxArray, labels: IdxArray, imageFile: string, labelFile: string) {
  const op = "loadFashionMnist";
  if (images.type !== "ubyte" || images.shape.length !== 3 || images.shape[1] !== SIDE) {
    throw new TypeError(
      `${op}: ${imageFile} holds ${images.type} [${images.shape.join(", ")}], ` +
        `expected ubyte [N, 28, 28] images`,
    );
  }
  if (images.shape[2] !== SIDE) {
    throw new TypeError(
      `${op}: ${imageFile} holds images of ${images.shape[1]}×${images.shape[2]}, expected 28×28`,
    );
  }
  if (labels.type !== "ubyte" || labels.shape.length !== 1) {
    throw new TypeError(
      `${op}: ${labelFile} holds ${labels.type} [${labels.shape.join(", ")}], ` +
        `expected ubyte [N] labels`,
    );
  }
  const n = images.shape[0];
  if (labels.shape[0] !== n) {
    throw new TypeError(
      `${op}: ${labelFile} has ${labels.shape[0]} labels but ${imageFile} has ${n} images`,
    );
  }
  const scale = new Float32Array(256).map((_, v) => v / 255);
  const pixels = images.data, x = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) x[i] = scale[pixels[i]];
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = labels.data[i];
    if (label >= CLASSES) {
      throw new RangeError(`${op}: ${labelFile}: label ${label} at index ${i} is not in 0..9`);
    }
    y[i] = label;
  }
  return {
    x: new Tensor(new Storage(x, false), [n, SIDE * SIDE]),
    y: new Tensor(new Storage(y, false), [n]),
  };
}

/**
 * Loads Fashion-MNIST from `dir`, which holds `train-images-idx3-ubyte`,
 * `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and `t10k-labels-idx1-ubyte`, each
 * gzipped (`.gz`) or not. Needs read permission for `dir`. When files are missing, the
 * error (`Deno.errors.NotFound`) names them and says how to get them; a malformed file, or
 * label and image counts that disagree, is an error that names the file.
 *
 * @param dir The directory (default `FASHION_MNIST_DIR`, where Debian installs it).
 * @returns The `train` and `test` splits; `x` float32 `[N, 784]` in [0, 1], `y` int32 `[N]`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadFashionMnist } from "@adamant/core";
 * try {
 *   const { train, test } = await loadFashionMnist();
 *   assert(train.x.shape.join() === "60000,784" && test.y.size === 10000);
 * } catch (e) {
 *   // not installed, or no read permission: the message says what to do
 *   assert((e as Error).message.startsWith("loadFashionMnist:"));
 * }
 * ```
 */
export async function loadFashionMnist(dir: string = FASHION_MNIST_DIR): Promise<FashionMnist> {
  if (typeof dir !== "string" || dir === "") {
    throw new TypeError(`loadFashionMnist: dir must be a directory path, got ${String(dir)}`);
  }
  const bases = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
  ];
  const paths = await Promise.all(bases.map((base) => find(dir, base)));
  const missing = bases.filter((_, i) => paths[i] === null);
  if (missing.length > 0) {
    throw new Deno.errors.NotFound(
      `loadFashionMnist: ${dir} lacks ${missing.map((b) => `${b}.gz`).join(", ")}; ${HOW_TO_GET}`,
    );
  }
  const files = paths as string[];
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all(
    files.map((path) => readIdxFile(path)),
  );
  return {
    train: toSample(trainImages, trainLabels, files[0], files[1]),
    test: toSample(testImages, testLabels, files[2], files[3]),
  };
}
