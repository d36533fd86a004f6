/**
 * The WebAssembly heap: one shared `WebAssembly.Memory` that holds the pool's large float
 * buffers, so that SIMD kernels read and write tensors where they lie instead of copying
 * them in and out. The memory is shared because growing a plain one detaches every view
 * of it, while a shared one grows in place and its old views stay valid.
 *
 * The heap only hands out address ranges; `pool.ts` keeps the free lists. It never
 * shrinks, and stops growing at `heapLimit()`, after which the pool falls back to plain
 * `ArrayBuffer`s.
 * @module
 */

const PAGE = 65536;
/** The most the heap may ever hold: the reservation a shared memory makes up front. */
const MAX_BYTES = 1 << 30;
/** Grow at least this much at a time: each grow is a system call. */
const GROW_BYTES = 1 << 22;

let memory: WebAssembly.Memory | null | undefined;
let view: SharedArrayBuffer | null = null;
let top = 0;
let limit = MAX_BYTES;
const buffers = new WeakSet<ArrayBufferLike>();

/** The heap's memory, made on first use; null where shared WebAssembly memory is unavailable. */
export function heapMemory(): WebAssembly.Memory | null {
  if (memory === undefined) {
    try {
      memory = new WebAssembly.Memory({ initial: 0, maximum: MAX_BYTES / PAGE, shared: true });
      refresh();
    } catch {
      memory = null; // e.g. a browser page that is not cross-origin isolated
    }
  }
  return memory;
}

function refresh(): void {
  view = memory!.buffer as unknown as SharedArrayBuffer;
  buffers.add(view);
}

/**
 * The byte address of `bytes` fresh bytes (16-byte aligned), growing the memory as needed,
 * or -1 when the heap is unavailable or would pass its limit.
 */
export function heapAlloc(bytes: number): number {
  const mem = heapMemory();
  const size = Math.ceil(bytes / 16) * 16;
  if (mem === null || top + size > limit) return -1;
  const have = view!.byteLength;
  if (top + size > have) {
    const want = Math.min(Math.max(top + size - have, GROW_BYTES), MAX_BYTES - have);
    try {
      mem.grow(Math.ceil(want / PAGE));
    } catch {
      return -1;
    }
    refresh();
  }
  const at = top;
  top += size;
  return at;
}

/** The heap's current buffer: views over it reach every address handed out so far. */
export function heapBuffer(): SharedArrayBuffer {
  return view!;
}

/** The byte address of `array` in the heap, or -1 when it lies elsewhere. */
export function heapAddress(array: ArrayBufferView): number {
  return buffers.has(array.buffer) ? array.byteOffset : -1;
}

/** Bytes of the heap handed out so far (it never shrinks). */
export function heapBytes(): number {
  return top;
}

/**
 * Caps the heap at `bytes` (at most 1 GiB); returns the previous cap. Allocations past it
 * fall back to plain buffers; tests use it to reach that fallback.
 */
export function setHeapLimit(bytes: number): number {
  const previous = limit;
  limit = Math.min(bytes, MAX_BYTES);
  return previous;
}
