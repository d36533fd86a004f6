/**
 * Initialisers, as `torch.nn.init`: each fills a tensor in place (without recording the
 * graph, so parameters can be filled), draws from the seeded default generator unless
 * given another, and returns the tensor. Exported as the `init` namespace.
 * @module
 */

import { noGrad } from "../autograd/grad_mode.ts";
import { isFloat } from "../tensor/dtype.ts";
import { defaultGenerator, type Generator } from "../tensor/random.ts";
import { fmt } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { fromData } from "../tensor/ops/elementwise.ts";

/**
 * A nonlinearity `calculateGain` knows, in camelCase (PyTorch's `leaky_relu` is
 * `"leakyRelu"`, `conv_transpose2d` is `"convTranspose2d"`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init } from "@adamant/core";
 * const name: init.Nonlinearity = "tanh";
 * assert.equal(init.calculateGain(name), 5 / 3);
 * ```
 */
export type Nonlinearity =
  | "linear"
  | "conv1d"
  | "conv2d"
  | "conv3d"
  | "convTranspose1d"
  | "convTranspose2d"
  | "convTranspose3d"
  | "sigmoid"
  | "tanh"
  | "relu"
  | "leakyRelu"
  | "selu";

/**
 * Options naming the generator to draw from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Generator, init, zeros } from "@adamant/core";
 * const a = init.normal(zeros([3]), { generator: new Generator(1) });
 * const b = init.normal(zeros([3]), { generator: new Generator(1) });
 * assert.equal(a.sub(b).abs().max().item(), 0);
 * ```
 */
export interface GeneratorOptions {
  /** The generator to draw from; the default generator (see `manualSeed`) otherwise. */
  generator?: Generator;
}

/**
 * Options of `uniform`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const t = init.uniform(zeros([100]), { a: -2, b: -1 });
 * assert(t.max().item() < -1);
 * ```
 */
export interface UniformOptions extends GeneratorOptions {
  /** The lower bound (default 0). */
  a?: number;
  /** The upper bound (default 1). */
  b?: number;
}

/**
 * Options of `normal`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const t = init.normal(zeros([10000]), { mean: 3, std: 0.1 });
 * assert(Math.abs(t.mean().item() - 3) < 0.01);
 * ```
 */
export interface NormalOptions extends GeneratorOptions {
  /** The mean (default 0). */
  mean?: number;
  /** The standard deviation (default 1). */
  std?: number;
}

/**
 * Options of `xavierUniform` and `xavierNormal`.
 *
 * @example
 * ```ts
 * import { init, zeros } from "@adamant/core";
 * init.xavierUniform(zeros([4, 4]), { gain: init.calculateGain("relu") });
 * ```
 */
export interface XavierOptions extends GeneratorOptions {
  /** The scaling factor (default 1), as `calculateGain` gives it. */
  gain?: number;
}

/**
 * Options of `kaimingUniform` and `kaimingNormal`.
 *
 * @example
 * ```ts
 * import { init, zeros } from "@adamant/core";
 * init.kaimingNormal(zeros([8, 4]), { mode: "fanOut", nonlinearity: "relu" });
 * ```
 */
export interface KaimingOptions extends GeneratorOptions {
  /** The negative slope of the rectifier after this layer (`"leakyRelu"` only; default 0). */
  a?: number;
  /** Preserve the variance of the forward pass (`"fanIn"`, the default) or of backward. */
  mode?: "fanIn" | "fanOut";
  /** The nonlinearity after this layer (default `"leakyRelu"`, as in PyTorch). */
  nonlinearity?: Nonlinearity;
}

const LINEAR_GAIN = new Set<string>([
  "linear",
  "conv1d",
  "conv2d",
  "conv3d",
  "convTranspose1d",
  "convTranspose2d",
  "convTranspose3d",
  "sigmoid",
]);

/**
 * The recommended gain for a nonlinearity, as PyTorch's `calculate_gain`: 1 for linear
 * layers, convolutions and sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + slope²)) for
 * leaky relu (slope `param`, default 0.01), 3/4 for selu.
 *
 * @param nonlinearity The nonlinearity.
 * @param param The negative slope of `"leakyRelu"`.
 * @returns The gain.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init } from "@adamant/core";
 * assert.equal(init.calculateGain("relu"), Math.SQRT2);
 * ```
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  if (LINEAR_GAIN.has(nonlinearity)) return 1;
  switch (nonlinearity) {
    case "tanh":
      return 5 / 3;
    case "relu":
      return Math.SQRT2;
    case "leakyRelu": {
      const slope = param ?? 0.01;
      if (typeof slope !== "number" || !Number.isFinite(slope)) {
        throw new RangeError(`calculateGain: negative slope must be a finite number, got ${slope}`);
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case "selu":
      return 3 / 4;
  }
  throw new RangeError(
    `calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}; use one of ` +
      `${[...LINEAR_GAIN, "tanh", "relu", "leakyRelu", "selu"].join(", ")}`,
  );
}

/**
 * The fan-in and fan-out of a weight of shape `[out, in, ...kernel]`, as PyTorch computes
 * them: `in * kernel size` and `out * kernel size`.
 *
 * @param t A tensor of at least 2 dimensions.
 * @returns `{ fanIn, fanOut }`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const { fanIn, fanOut } = init.calculateFans(zeros([16, 3, 5, 5]));
 * assert(fanIn === 75 && fanOut === 400);
 * ```
 */
export function calculateFans(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new TypeError(
      `calculateFans: fan in and fan out need at least 2 dimensions, got shape ${fmt(t.shape)}`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i];
  return { fanIn: t.shape[1] * receptive, fanOut: t.shape[0] * receptive };
}

function checkTensor(op: string, t: Tensor, random: boolean): void {
  if (!(t instanceof Tensor)) throw new TypeError(`${op}: expected a Tensor, got ${typeof t}`);
  if (random && !isFloat(t.dtype)) {
    throw new TypeError(`${op}: needs a floating tensor, got ${t.dtype}`);
  }
}

/** Writes `draw()` into every element of `t` in row-major order, without recording. */
function fill(t: Tensor, draw: () => number): Tensor {
  const values = new Float64Array(t.size);
  for (let i = 0; i < values.length; i++) values[i] = draw();
  noGrad(() => {
    const source = fromData(values, t.shape, t.dtype);
    t.copyInPlace(source);
    source.dispose();
  });
  return t;
}

function fillUniform(t: Tensor, low: number, high: number, g: Generator): Tensor {
  return fill(t, () => low + (high - low) * g.uniform());
}

function fillNormal(t: Tensor, mean: number, std: number, g: Generator): Tensor {
  return fill(t, () => mean + std * g.normal());
}

function finite(op: string, name: string, value: number): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new RangeError(`${op}: ${name} must be a finite number, got ${value}`);
  }
  return value;
}

/**
 * Fills `t` with draws from U(a, b).
 *
 * @param t The tensor to fill (a floating tensor).
 * @param options `a` (default 0), `b` (default 1), `generator`.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const t = init.uniform(zeros([1000]), { a: -1, b: 1 });
 * assert(t.min().item() >= -1 && t.max().item() < 1);
 * ```
 */
export function uniform(t: Tensor, options: UniformOptions = {}): Tensor {
  checkTensor("uniform", t, true);
  const a = finite("uniform", "a", options.a ?? 0), b = finite("uniform", "b", options.b ?? 1);
  if (a > b) throw new RangeError(`uniform: a (${a}) must not exceed b (${b})`);
  return fillUniform(t, a, b, options.generator ?? defaultGenerator);
}

/**
 * Fills `t` with draws from N(mean, std²).
 *
 * @param t The tensor to fill (a floating tensor).
 * @param options `mean` (default 0), `std` (default 1), `generator`.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const t = init.normal(zeros([10000]), { std: 2 });
 * assert(Math.abs(t.std().item() - 2) < 0.1);
 * ```
 */
export function normal(t: Tensor, options: NormalOptions = {}): Tensor {
  checkTensor("normal", t, true);
  const mean = finite("normal", "mean", options.mean ?? 0);
  const std = finite("normal", "std", options.std ?? 1);
  if (std < 0) throw new RangeError(`normal: std must be non-negative, got ${std}`);
  return fillNormal(t, mean, std, options.generator ?? defaultGenerator);
}

/**
 * Fills `t` with `value`.
 *
 * @param t The tensor to fill.
 * @param value The value.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * assert.equal(init.constant(zeros([3]), 0.5).sum().item(), 1.5);
 * ```
 */
export function constant(t: Tensor, value: number): Tensor {
  checkTensor("constant", t, false);
  if (typeof value !== "number") {
    throw new TypeError(`constant: value must be a number, got ${typeof value}`);
  }
  noGrad(() => t.fillInPlace(value));
  return t;
}

/**
 * Fills `t` with zeros.
 *
 * @param t The tensor to fill.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, ones } from "@adamant/core";
 * assert.equal(init.zeros(ones([3])).sum().item(), 0);
 * ```
 */
export function zeros(t: Tensor): Tensor {
  return constant(t, 0);
}

/**
 * Fills `t` with ones.
 *
 * @param t The tensor to fill.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * assert.equal(init.ones(zeros([3])).sum().item(), 3);
 * ```
 */
export function ones(t: Tensor): Tensor {
  return constant(t, 1);
}

/**
 * Glorot uniform: U(-bound, bound) with `bound = gain · √(6 / (fanIn + fanOut))`.
 *
 * @param t The weight to fill (at least 2 dimensions).
 * @param options `gain` (default 1), `generator`.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const w = init.xavierUniform(zeros([30, 20]));
 * assert(w.abs().max().item() <= Math.sqrt(6 / 50));
 * ```
 */
export function xavierUniform(t: Tensor, options: XavierOptions = {}): Tensor {
  checkTensor("xavierUniform", t, true);
  const { fanIn, fanOut } = calculateFans(t);
  const gain = finite("xavierUniform", "gain", options.gain ?? 1);
  const bound = Math.sqrt(3) * gain * Math.sqrt(2 / (fanIn + fanOut));
  return fillUniform(t, -bound, bound, options.generator ?? defaultGenerator);
}

/**
 * Glorot normal: N(0, std²) with `std = gain · √(2 / (fanIn + fanOut))`.
 *
 * @param t The weight to fill (at least 2 dimensions).
 * @param options `gain` (default 1), `generator`.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const w = init.xavierNormal(zeros([200, 200]));
 * assert(Math.abs(w.std().item() - Math.sqrt(2 / 400)) < 0.005);
 * ```
 */
export function xavierNormal(t: Tensor, options: XavierOptions = {}): Tensor {
  checkTensor("xavierNormal", t, true);
  const { fanIn, fanOut } = calculateFans(t);
  const gain = finite("xavierNormal", "gain", options.gain ?? 1);
  return fillNormal(
    t,
    0,
    gain * Math.sqrt(2 / (fanIn + fanOut)),
    options.generator ?? defaultGenerator,
  );
}

/** The standard deviation of He initialisation for `t`. */
function kaimingStd(op: string, t: Tensor, options: KaimingOptions): number {
  const mode = options.mode ?? "fanIn";
  if (mode !== "fanIn" && mode !== "fanOut") {
    throw new RangeError(`${op}: mode must be "fanIn" or "fanOut", got ${JSON.stringify(mode)}`);
  }
  const fans = calculateFans(t);
  const fan = mode === "fanIn" ? fans.fanIn : fans.fanOut;
  const gain = calculateGain(options.nonlinearity ?? "leakyRelu", finite(op, "a", options.a ?? 0));
  return fan === 0 ? 0 : gain / Math.sqrt(fan);
}

/**
 * He uniform: U(-bound, bound) with `bound = gain · √(3 / fan)`, the gain from
 * `nonlinearity` and `a`, the fan from `mode`. `Linear` uses it with `a = √5`.
 *
 * @param t The weight to fill (at least 2 dimensions).
 * @param options `a`, `mode`, `nonlinearity`, `generator`.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const w = init.kaimingUniform(zeros([10, 50]), { nonlinearity: "relu" });
 * assert(w.abs().max().item() <= Math.sqrt(6 / 50));
 * ```
 */
export function kaimingUniform(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkTensor("kaimingUniform", t, true);
  const bound = Math.sqrt(3) * kaimingStd("kaimingUniform", t, options);
  return fillUniform(t, -bound, bound, options.generator ?? defaultGenerator);
}

/**
 * He normal: N(0, std²) with `std = gain / √fan`.
 *
 * @param t The weight to fill (at least 2 dimensions).
 * @param options `a`, `mode`, `nonlinearity`, `generator`.
 * @returns `t`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { init, zeros } from "@adamant/core";
 * const w = init.kaimingNormal(zeros([400, 200]), { nonlinearity: "relu" });
 * assert(Math.abs(w.std().item() - 0.1) < 0.005);
 * ```
 */
export function kaimingNormal(t: Tensor, options: KaimingOptions = {}): Tensor {
  checkTensor("kaimingNormal", t, true);
  const std = kaimingStd("kaimingNormal", t, options);
  return fillNormal(t, 0, std, options.generator ?? defaultGenerator);
}
