/**
 * The memory behind one or more tensors. Views share a storage; the last tensor to let go
 * of it hands the buffer back to the pool. The version counter lets autograd detect an
 * in-place change to a tensor it saved for backward.
 * @module
 */

import { ARRAY_TYPES, BYTES, type DType, type TypedArray } from "./dtype.ts";
import type { Tensor } from "./tensor.ts";
import { release } from "./pool.ts";
import { acquireBuffer, releaseBuffer } from "./webgpu/buffer_pool.ts";
import { gpuDevice } from "./webgpu/device.ts";
import { checkGpuDType } from "./device.ts";

/** Hands back the buffers of GPU storages that were dropped without `dispose()`. */
const lostBuffers = new FinalizationRegistry<GPUBuffer>((buffer) => releaseBuffer(buffer, true));

/**
 * A reference-counted buffer shared by a tensor and its views. Wrap your own typed array
 * (a `SharedArrayBuffer` view, say) with `pooled = false` to make a tensor over it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Storage, Tensor } from "@adamant/core";
 * const shared = new Float32Array(new SharedArrayBuffer(16));
 * const t = new Tensor(new Storage(shared, false), [2, 2]);
 * assert(t.data === shared);
 * ```
 */
export class Storage {
  /**
   * The elements; a view reads them through its own strides and offset. Empty for GPU
   * storage, where it only carries the dtype.
   */
  readonly data: TypedArray;
  /** The GPU buffer holding the elements, or null for CPU storage. */
  readonly gpu: GPUBuffer | null;
  /** Live tensors that read this storage. */
  refs = 0;
  /** Bumped by every in-place write, so saved tensors can be checked in backward. */
  version = 0;
  /** Pending (fused, not yet computed) tensors that read this storage. */
  readonly readers: Set<Tensor> = new Set();
  /** Whether the buffer came from the pool and may go back to it. */
  readonly pooled: boolean;

  /** Wraps `data`; `pooled` says whether it may return to the buffer pool. */
  constructor(data: TypedArray, pooled: boolean, gpu: GPUBuffer | null = null) {
    this.data = data;
    this.pooled = pooled;
    this.gpu = gpu;
    if (gpu !== null) lostBuffers.register(this, gpu, this);
  }

  /** Storage for `length` elements of `dtype` in a pooled GPU buffer (for `op`'s errors). */
  static onGpu(dtype: DType, length: number, op: string): Storage {
    checkGpuDType(op, dtype);
    const buffer = acquireBuffer(gpuDevice(op), length * BYTES[dtype], op);
    return new Storage(new ARRAY_TYPES[dtype](0), true, buffer);
  }

  /** Computes every pending tensor that reads this storage, before it is written. */
  flushReaders(): void {
    for (const reader of [...this.readers]) reader.realize();
  }

  /** Drops one reference; the last one returns a pooled buffer. */
  unref(): void {
    if (--this.refs !== 0) return;
    if (this.gpu !== null) {
      lostBuffers.unregister(this);
      releaseBuffer(this.gpu);
    } else if (this.pooled) release(this.data);
  }
}
