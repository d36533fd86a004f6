/**
 * Element types and the typed arrays that hold them.
 * @module
 */

/**
 * The element type of a tensor: `float32` (the default), `int32` (labels and indices) or
 * `float64` (CPU only; for gradient checking and precise work).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { zeros } from "@adamant/core";
 * assert(zeros([2], { dtype: "int32" }).dtype === "int32");
 * ```
 */
export type DType = "float32" | "int32" | "float64";

/**
 * The typed array behind each dtype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { TypedArray } from "@adamant/core";
 * const a: TypedArray = new Float32Array(3);
 * assert(a.length === 3);
 * ```
 */
export type TypedArray = Float32Array | Int32Array | Float64Array;

/** The constructor of each dtype's typed array. */
export const ARRAY_TYPES = {
  float32: Float32Array,
  int32: Int32Array,
  float64: Float64Array,
} as const;

/** Bytes per element of each dtype. */
export const BYTES: Record<DType, number> = { float32: 4, int32: 4, float64: 8 };

/**
 * A typed array of `dtype` over `buffer`, plain or shared (`length` elements from byte
 * `offset`; by default all that follow).
 */
export function arrayOver(
  dtype: DType,
  buffer: ArrayBufferLike,
  offset = 0,
  length?: number,
): TypedArray {
  const n = length ?? (buffer.byteLength - offset) / BYTES[dtype];
  return dtype === "float64"
    ? new Float64Array(buffer, offset, n)
    : dtype === "int32"
    ? new Int32Array(buffer, offset, n)
    : new Float32Array(buffer, offset, n);
}

/** Whether `value` names a dtype; used to validate user options. */
export function isDType(value: unknown): value is DType {
  return value === "float32" || value === "int32" || value === "float64";
}

/** The dtype of a typed array, or undefined for arrays adamant does not store. */
export function dtypeOfArray(array: ArrayBufferView): DType | undefined {
  if (array instanceof Float32Array) return "float32";
  if (array instanceof Int32Array) return "int32";
  if (array instanceof Float64Array) return "float64";
  return undefined;
}

/** Whether the dtype holds real numbers (gradients and transcendental ops need one). */
export function isFloat(dtype: DType): boolean {
  return dtype !== "int32";
}
