/**
 * Devices a tensor can live on, and the check that an op's tensors share one.
 * @module
 */

import type { DType } from "./dtype.ts";
import { fmt } from "./shape.ts";

/**
 * Where a tensor's data lives: `"cpu"` (typed arrays) or `"gpu"` (WebGPU buffers; call
 * `await initGpu()` first).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Device, zeros } from "@adamant/core";
 * const device: Device = "cpu";
 * assert.equal(zeros([2], { device }).device, "cpu");
 * ```
 */
export type Device = "cpu" | "gpu";

/** Whether `value` names a device; used to validate user options. */
export function isDevice(value: unknown): value is Device {
  return value === "cpu" || value === "gpu";
}

/** What a device check needs to know of a tensor. */
interface Placed {
  readonly device: Device;
  readonly shape: readonly number[];
}

/** Throws, naming `op` and both devices, when the tensors do not share one device. */
export function checkSameDevice(op: string, a: Placed, b: Placed): void {
  if (a.device !== b.device) {
    throw new TypeError(
      `${op}: tensors on different devices, ${a.device} ${fmt(a.shape)} and ` +
        `${b.device} ${fmt(b.shape)} (move one with .to("${a.device}") or .to("${b.device}"))`,
    );
  }
}

/** Throws, naming `op`, for a dtype the GPU does not store. */
export function checkGpuDType(op: string, dtype: DType): void {
  if (dtype === "float64") {
    throw new TypeError(
      `${op}: float64 is CPU-only; GPU tensors are float32 or int32 (convert with .float())`,
    );
  }
}
