/**
 * Convolution and pooling modules over the `conv2d`, `maxPool2d` and `avgPool2d` ops.
 * @module
 */

import {
  avgPool2d,
  type AvgPool2dOptions,
  conv2d,
  type Conv2dOptions,
  maxPool2d,
  type MaxPool2dOptions,
} from "../tensor/ops/conv.ts";
import type { Tensor } from "../tensor/tensor.ts";
import { kaimingUniform, uniform } from "./init.ts";
import { Module } from "./module.ts";
import { checkInt, empty, floatDType } from "./util.ts";

/** One size for both spatial axes, or [height, width]. */
type Pair = number | readonly [number, number];

/** `v` as [height, width] integers of at least `min`, or a RangeError naming the option. */
function pair(op: string, name: string, v: Pair, min: number): [number, number] {
  const p = typeof v === "number" ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every((d) => Number.isInteger(d) && d >= min)) {
    throw new RangeError(
      `${op}: ${name} must be an integer >= ${min} or a pair of them, got ${
        Array.isArray(v) ? `[${v.join(", ")}]` : v
      }`,
    );
  }
  return [p[0], p[1]];
}

/**
 * Options of `Conv2d`: those of the `conv2d` op (`stride`, `padding`, `dilation`,
 * `groups`), plus `bias` and `dtype`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Conv2d, type Conv2dLayerOptions } from "@adamant/core";
 * const options: Conv2dLayerOptions = { stride: 2, padding: 1, groups: 2, bias: false };
 * const conv = new Conv2d(4, 8, 3, options);
 * assert.deepEqual(conv.weight.shape, [8, 2, 3, 3]);
 * assert.equal(conv.bias, null);
 * ```
 */
export interface Conv2dLayerOptions extends Conv2dOptions {
  /** Learn an additive bias per output channel (default true). */
  bias?: boolean;
  /** The parameters' dtype: `"float32"` (the default) or `"float64"`. */
  dtype?: "float32" | "float64";
}

/**
 * A 2-D convolution layer over `[N, C, H, W]` (or `[C, H, W]`) inputs, with `weight`
 * `[outChannels, inChannels / groups, kh, kw]` and `bias` `[outChannels]`. As in PyTorch,
 * the weight is drawn by `kaimingUniform` with `a = √5` and the bias from
 * U(-1/√fanIn, 1/√fanIn), `fanIn = inChannels / groups · kh · kw`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Conv2d, randn } from "@adamant/core";
 * const conv = new Conv2d(3, 16, 3, { padding: 1 });
 * assert.deepEqual(conv.forward(randn([2, 3, 8, 8])).shape, [2, 16, 8, 8]);
 * assert.ok(conv.weight.abs().max().item() <= 1 / Math.sqrt(27));
 * ```
 */
export class Conv2d extends Module {
  /** Input channels. */
  readonly inChannels: number;
  /** Output channels. */
  readonly outChannels: number;
  /** The kernel's [height, width]. */
  readonly kernelSize: readonly [number, number];
  /** The stride, [height, width]. */
  readonly stride: readonly [number, number];
  /** The padding, [height, width]. */
  readonly padding: readonly [number, number];
  /** The dilation, [height, width]. */
  readonly dilation: readonly [number, number];
  /** Channel groups. */
  readonly groups: number;
  /** The filters, `[outChannels, inChannels / groups, kh, kw]`. */
  readonly weight: Tensor;
  /** The bias, `[outChannels]`, or null when created with `bias: false`. */
  readonly bias: Tensor | null;

  /**
   * Creates the layer with freshly initialised parameters.
   *
   * @param inChannels Channels of the input.
   * @param outChannels Channels of the output.
   * @param kernelSize The kernel, one number or [height, width].
   * @param options `stride`, `padding`, `dilation`, `groups`, `bias`, `dtype`.
   */
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | readonly [number, number],
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const op = "Conv2d";
    this.inChannels = checkInt(op, "inChannels", inChannels, 1);
    this.outChannels = checkInt(op, "outChannels", outChannels, 1);
    this.kernelSize = pair(op, "kernelSize", kernelSize, 1);
    this.stride = pair(op, "stride", options.stride ?? 1, 1);
    this.padding = pair(op, "padding", options.padding ?? 0, 0);
    this.dilation = pair(op, "dilation", options.dilation ?? 1, 1);
    const groups = checkInt(op, "groups", options.groups ?? 1, 1);
    if (inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new RangeError(
        `${op}: groups (${groups}) must divide inChannels (${inChannels}) and ` +
          `outChannels (${outChannels})`,
      );
    }
    this.groups = groups;
    const dtype = floatDType(op, options.dtype);
    const [kh, kw] = this.kernelSize;
    this.weight = this.registerParameter(
      "weight",
      empty(op, [outChannels, inChannels / groups, kh, kw], dtype),
    );
    kaimingUniform(this.weight, { a: Math.sqrt(5) });
    if (options.bias ?? true) {
      this.bias = this.registerParameter("bias", empty(op, [outChannels], dtype));
      const bound = 1 / Math.sqrt((inChannels / groups) * kh * kw);
      uniform(this.bias, { a: -bound, b: bound });
    } else {
      this.bias = null;
    }
  }

  /**
   * Convolves the input.
   *
   * @param x Input `[N, inChannels, H, W]` or `[inChannels, H, W]`.
   * @returns Output `[N, outChannels, OH, OW]` (or without N).
   */
  override forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    });
  }
}

/**
 * 2-D max pooling: the maximum of each window of `[N, C, H, W]` (or `[C, H, W]`) inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MaxPool2d, tensor } from "@adamant/core";
 * const y = new MaxPool2d(2).forward(tensor([[[[1, 5, 2, 0], [3, 4, 8, 1]]]]));
 * assert.deepEqual([...y.toArray()], [5, 8]);
 * ```
 */
export class MaxPool2d extends Module {
  /** The window's [height, width]. */
  readonly kernelSize: readonly [number, number];
  /** The stride, [height, width]. */
  readonly stride: readonly [number, number];
  /** The padding, [height, width]. */
  readonly padding: readonly [number, number];
  /** The dilation, [height, width]. */
  readonly dilation: readonly [number, number];

  /**
   * Creates the layer.
   *
   * @param kernelSize The window, one number or [height, width].
   * @param options `stride`, `padding`, `dilation`.
   */
  constructor(kernelSize: number | readonly [number, number], options: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = pair("MaxPool2d", "kernelSize", kernelSize, 1);
    this.stride = pair("MaxPool2d", "stride", options.stride ?? this.kernelSize, 1);
    this.padding = pair("MaxPool2d", "padding", options.padding ?? 0, 0);
    this.dilation = pair("MaxPool2d", "dilation", options.dilation ?? 1, 1);
  }

  /**
   * Pools the input.
   *
   * @param x Input `[N, C, H, W]` or `[C, H, W]`.
   * @returns The window maxima.
   */
  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
    });
  }
}

/**
 * 2-D average pooling: the mean of each window of `[N, C, H, W]` (or `[C, H, W]`) inputs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AvgPool2d, tensor } from "@adamant/core";
 * const y = new AvgPool2d(2).forward(tensor([[[[1, 3, 2, 0], [3, 5, 8, 2]]]]));
 * assert.deepEqual([...y.toArray()], [3, 3]);
 * ```
 */
export class AvgPool2d extends Module {
  /** The window's [height, width]. */
  readonly kernelSize: readonly [number, number];
  /** The stride, [height, width]. */
  readonly stride: readonly [number, number];
  /** The padding, [height, width]. */
  readonly padding: readonly [number, number];
  /** Whether padding cells count in each window's divisor. */
  readonly countIncludePad: boolean;

  /**
   * Creates the layer.
   *
   * @param kernelSize The window, one number or [height, width].
   * @param options `stride`, `padding`, `countIncludePad`.
   */
  constructor(kernelSize: number | readonly [number, number], options: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = pair("AvgPool2d", "kernelSize", kernelSize, 1);
    this.stride = pair("AvgPool2d", "stride", options.stride ?? this.kernelSize, 1);
    this.padding = pair("AvgPool2d", "padding", options.padding ?? 0, 0);
    const include = options.countIncludePad ?? true;
    if (typeof include !== "boolean") {
      throw new TypeError(`AvgPool2d: countIncludePad must be a boolean, got ${include}`);
    }
    this.countIncludePad = include;
  }

  /**
   * Pools the input.
   *
   * @param x Input `[N, C, H, W]` or `[C, H, W]`.
   * @returns The window means.
   */
  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, {
      stride: this.stride,
      padding: this.padding,
      countIncludePad: this.countIncludePad,
    });
  }
}
