/**
 * A size-classed pool of GPU storage buffers. Creating a buffer is slow and training
 * allocates the same sizes every step, so released buffers wait here for the next
 * request of their class. Reuse is safe without waiting for the GPU: all work goes
 * through one queue in order, so a later dispatch that writes a reused buffer runs after
 * every earlier dispatch that read it.
 * @module
 */

import { afterSubmit } from "./commands.ts";

/** Pooled buffers beyond this many bytes are destroyed instead. */
const MAX_POOLED_BYTES = 1 << 30;
const MIN_CLASS = 256;

const free = new Map<number, GPUBuffer[]>();
let pooledBytes = 0;
let liveBuffers = 0;
let liveBytes = 0;
let collectedBuffers = 0;

/**
 * The class a request of `bytes` is served from: a power of two, or 1.25, 1.5 or 1.75
 * times one, so that large tensors waste at most a quarter of their size.
 */
export function sizeClass(bytes: number): number {
  if (bytes <= MIN_CLASS) return MIN_CLASS;
  const pow = 2 ** Math.floor(Math.log2(bytes));
  if (pow === bytes) return bytes;
  const step = Math.max(pow / 4, MIN_CLASS);
  return Math.ceil(bytes / step) * step;
}

/** The largest GPU tensor, in bytes, that `device` can bind to a kernel. */
export function maxTensorBytes(device: GPUDevice): number {
  return Math.min(device.limits.maxStorageBufferBindingSize, device.limits.maxBufferSize);
}

/**
 * A storage buffer of at least `bytes` bytes from the pool (contents undefined). Throws,
 * naming `op`, when the size exceeds what the device can bind.
 */
export function acquireBuffer(device: GPUDevice, bytes: number, op: string): GPUBuffer {
  const limit = maxTensorBytes(device);
  if (bytes > limit) {
    throw new RangeError(
      `${op}: a GPU tensor of ${bytes} bytes exceeds this device's limit of ${limit} bytes ` +
        "per buffer (maxStorageBufferBindingSize); split it or keep it on the CPU",
    );
  }
  // a size class past the limit shrinks to the limit, so every tensor that fits gets a buffer
  const cls = Math.min(sizeClass(bytes), Math.floor(limit / 4) * 4);
  let buffer = free.get(cls)?.pop();
  if (buffer !== undefined) pooledBytes -= cls;
  else {
    buffer = device.createBuffer({
      size: cls,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    });
  }
  liveBuffers++;
  liveBytes += cls;
  return buffer;
}

/**
 * Returns a buffer obtained from `acquireBuffer`; `collected` marks one reclaimed from a
 * tensor that was garbage-collected without being disposed.
 */
export function releaseBuffer(buffer: GPUBuffer, collected = false): void {
  if (collected) collectedBuffers++;
  const cls = buffer.size;
  liveBuffers--;
  liveBytes -= cls;
  if (pooledBytes + cls > MAX_POOLED_BYTES) {
    afterSubmit(() => buffer.destroy()); // recorded work may still read it
    return;
  }
  let list = free.get(cls);
  if (!list) free.set(cls, list = []);
  list.push(buffer);
  pooledBytes += cls;
}

/**
 * Counters of the GPU buffer pool.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memory } from "@adamant/core";
 * assert(memory().gpu.liveBuffers >= 0);
 * ```
 */
export interface GpuMemoryInfo {
  /** Buffers held by live GPU tensors. */
  liveBuffers: number;
  /** Bytes of those buffers (their size classes). */
  liveBytes: number;
  /** Bytes of released buffers waiting in the pool for reuse. */
  pooledBytes: number;
  /**
   * Buffers reclaimed so far from tensors that were garbage-collected without `dispose()`
   * (the safety net): a growing count means code that leaks until the collector runs.
   */
  collectedBuffers: number;
}

/** The GPU pool's counters now. */
export function gpuMemory(): GpuMemoryInfo {
  return { liveBuffers, liveBytes, pooledBytes, collectedBuffers };
}
