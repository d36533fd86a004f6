/**
 * A size-classed pool of CPU buffers. First touching fresh memory costs about 10 µs per
 * 4 KiB page on the machines we measure on, so outputs come from released buffers when one
 * of the right class is free, and fresh bytes are counted so tests can assert reuse.
 *
 * Buffers of `HEAP_MIN_BYTES` or more live in the WebAssembly heap (`heap.ts`), where
 * SIMD kernels reach them in place; the rest, and everything once the heap is full, are
 * plain `ArrayBuffer`s. The GC cannot see into the heap, so a heap buffer whose tensor was
 * dropped without `dispose()` comes back through a `FinalizationRegistry`, when the event
 * loop next runs its callbacks. A view made from `t.data` (`subarray`, say) does not keep
 * the buffer alive: keep the tensor, or its `data`, while you use one.
 * @module
 */

import { ARRAY_TYPES, arrayOver, BYTES, type DType, type TypedArray } from "./dtype.ts";
import { gpuMemory, type GpuMemoryInfo } from "./webgpu/buffer_pool.ts";
import { heapAlloc, heapBuffer, heapBytes } from "./heap.ts";

/** Buffers of at most this many bytes are pooled; larger ones are left to the GC. */
const MAX_POOLED_BYTES_TOTAL = 1 << 30;
const MIN_CLASS = 64;
/** Buffers of at least this many bytes go to the WebAssembly heap. */
export const HEAP_MIN_BYTES = 1024;

const free = new Map<number, ArrayBuffer[]>();
/** Free heap blocks: byte addresses, by size class. */
const heapFree = new Map<number, number[]>();

interface HeapBlock {
  address: number;
  cls: number;
}

/** The heap block behind each typed array handed out over the heap. */
const heapBlocks = new WeakMap<TypedArray, HeapBlock>();
const lostBlocks = new FinalizationRegistry<HeapBlock>((block) => freeBlock(block));

function freeBlock(block: HeapBlock): void {
  let list = heapFree.get(block.cls);
  if (!list) heapFree.set(block.cls, list = []);
  list.push(block.address);
  pooledBytes += block.cls;
}

function fromHeap(dtype: DType, cls: number, length: number): TypedArray | null {
  let address = heapFree.get(cls)?.pop();
  if (address !== undefined) {
    pooledBytes -= cls;
    reusedBytes += cls;
  } else {
    address = heapAlloc(cls);
    if (address < 0) return null;
    freshBytes += cls;
  }
  const array = arrayOver(dtype, heapBuffer(), address, length);
  const block = { address, cls };
  heapBlocks.set(array, block);
  lostBlocks.register(array, block, array);
  return array;
}
let pooledBytes = 0;
let freshBytes = 0;
let reusedBytes = 0;

function sizeClass(bytes: number): number {
  let c = MIN_CLASS;
  while (c < bytes) c *= 2;
  return c;
}

/** A typed array of `length` elements from the pool; its contents are undefined. */
export function acquire(dtype: DType, length: number): TypedArray {
  const cls = sizeClass(length * BYTES[dtype]);
  if (cls >= HEAP_MIN_BYTES) {
    const array = fromHeap(dtype, cls, length);
    if (array !== null) return array;
  }
  const list = free.get(cls);
  let buffer = list?.pop();
  if (buffer) {
    pooledBytes -= cls;
    reusedBytes += cls;
  } else {
    buffer = new ArrayBuffer(cls);
    freshBytes += cls;
  }
  return new ARRAY_TYPES[dtype](buffer, 0, length);
}

/** Returns a buffer obtained from `acquire` to the pool. */
export function release(array: TypedArray): void {
  const block = heapBlocks.get(array);
  if (block !== undefined) {
    heapBlocks.delete(array);
    lostBlocks.unregister(array);
    freeBlock(block);
    return;
  }
  const buffer = array.buffer;
  if (!(buffer instanceof ArrayBuffer)) return; // shared memory belongs to its arena
  const cls = buffer.byteLength;
  if (cls !== sizeClass(cls) || pooledBytes + cls > MAX_POOLED_BYTES_TOTAL) return;
  let list = free.get(cls);
  if (!list) free.set(cls, list = []);
  list.push(buffer);
  pooledBytes += cls;
}

/**
 * Counters of the CPU buffer pool: bytes freshly allocated, bytes served again from the
 * pool, and bytes now waiting in it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memory } from "@adamant/core";
 * const { freshBytes } = memory();
 * assert(freshBytes >= 0);
 * ```
 */
export interface MemoryInfo {
  /** Bytes allocated from the system since the process started. */
  freshBytes: number;
  /** Bytes handed out again from the pool since the process started. */
  reusedBytes: number;
  /** Bytes held by the pool, ready for reuse. */
  pooledBytes: number;
  /** Bytes of the WebAssembly heap in use or pooled; the heap never shrinks. */
  heapBytes: number;
  /** The GPU buffer pool: live buffers and bytes, and bytes waiting for reuse. */
  gpu: GpuMemoryInfo;
}

/**
 * Reports the CPU buffer pool's counters, and the GPU pool's live buffers and bytes;
 * compare two readings to see how many bytes a piece of code allocated fresh, or whether
 * GPU tensors leaked.
 *
 * @returns The current counters.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { memory, tidy, zeros } from "@adamant/core";
 * tidy(() => zeros([1024]));
 * const before = memory().freshBytes;
 * tidy(() => zeros([1024]).add(1));
 * assert(memory().freshBytes - before <= 4096);
 * ```
 */
export function memory(): MemoryInfo {
  return { freshBytes, reusedBytes, pooledBytes, heapBytes: heapBytes(), gpu: gpuMemory() };
}
