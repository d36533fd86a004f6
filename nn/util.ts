/**
 * Small helpers shared by the layers: argument checks and parameter allocation.
 * @module
 */

import { full } from "../tensor/ops/elementwise.ts";
import { fmt } from "../tensor/shape.ts";
import type { Tensor } from "../tensor/tensor.ts";

/** A parameter dtype option, checked: `"float32"` (default) or `"float64"`. */
export function floatDType(op: string, dtype: unknown): "float32" | "float64" {
  if (dtype === undefined) return "float32";
  if (dtype !== "float32" && dtype !== "float64") {
    throw new TypeError(
      `${op}: option dtype must be "float32" or "float64", got ${JSON.stringify(dtype)}`,
    );
  }
  return dtype;
}

/** Throws a RangeError unless `value` is an integer of at least `min`. */
export function checkInt(op: string, name: string, value: number, min = 0): number {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${value}`);
  }
  return value;
}

/** A zero-filled tensor of `shape` for a parameter, after checking each size. */
export function empty(op: string, shape: readonly number[], dtype: "float32" | "float64"): Tensor {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new RangeError(`${op}: sizes must be non-negative integers, got ${fmt(shape)}`);
    }
  }
  return full(shape, 0, dtype);
}

/** Throws a RangeError unless `value` is a finite number of at least 0. */
export function checkNonNegative(op: string, name: string, value: number): number {
  if (typeof value !== "number" || !(value >= 0) || !Number.isFinite(value)) {
    throw new RangeError(`${op}: ${name} must be a finite number >= 0, got ${value}`);
  }
  return value;
}
