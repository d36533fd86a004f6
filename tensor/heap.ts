/**
 * The WebAssembly heap: one shared `WebAssembly.Memory` that holds the pool's large buffers,
 * so that SIMD kernels read and write tensors where they lie instead of copying
 * them in and out. The memory is shared because growing a plain one detaches every view
 * of it, while a shared one grows in place and its old views stay valid.
 *
 * The heap only hands out address ranges; `pool.ts` keeps the free lists. It never
 * shrinks, and stops growing at its limit, after which the pool falls back to plain
 * `ArrayBuffer`s. Worker threads adopt the main thread's heap (`adoptHeap`), so shared
 * parameters and gradients lie in every thread's heap at the same addresses: the bump
 * pointer sits in the memory itself and moves atomically, while each thread keeps free
 * lists of its own.
 * @module
 */

const PAGE = 65536;
/**
 * The most the heap may ever hold, the reservation a shared memory makes up front: 2 GiB
 * less a page, so that every address is a positive 32-bit integer, or 1 GiB where the
 * larger reservation is refused.
 */
const CAPS = [2 ** 31 - PAGE, 2 ** 30];
/** Grow at least this much at a time: each grow is a system call. */
const GROW_BYTES = 1 << 22;

/** Bytes at the start of the memory that hold the shared bump pointer and the cap. */
const HEADER_BYTES = 64;

let memory: WebAssembly.Memory | null | undefined;
let view: SharedArrayBuffer | null = null;
/**
 * Element 0: the next free byte, for every thread that shares the memory; element 1: the
 * memory's maximum in bytes, for the threads that adopt it.
 */
let header: Int32Array | null = null;
let maxBytes = CAPS[0];
let limit = maxBytes;
let warned = false;
const buffers = new WeakSet<ArrayBufferLike>();

/** The heap's memory, made on first use; null where shared WebAssembly memory is unavailable. */
export function heapMemory(): WebAssembly.Memory | null {
  if (memory === undefined) {
    memory = null; // e.g. a browser page that is not cross-origin isolated
    for (const cap of CAPS) {
      try {
        memory = new WebAssembly.Memory({ initial: 1, maximum: cap / PAGE, shared: true });
      } catch {
        continue;
      }
      maxBytes = cap;
      limit = Math.min(limit, cap);
      refresh();
      Atomics.store(header!, 0, HEADER_BYTES);
      Atomics.store(header!, 1, cap);
      break;
    }
  }
  return memory;
}

/**
 * Makes `shared` (another thread's `heapMemory()`) this thread's heap; a worker does this
 * before it allocates anything.
 */
export function adoptHeap(shared: WebAssembly.Memory): void {
  if (memory === shared) return;
  if (memory !== undefined) {
    throw new Error("adoptHeap: this thread already has a heap of its own");
  }
  memory = shared;
  refresh();
  maxBytes = Atomics.load(header!, 1);
  limit = Math.min(limit, maxBytes);
}

function refresh(): void {
  view = memory!.buffer as unknown as SharedArrayBuffer;
  buffers.add(view);
  header = new Int32Array(view, 0, HEADER_BYTES / 4);
}

/**
 * The byte address of `bytes` fresh bytes (16-byte aligned), growing the memory as needed,
 * or -1 when the heap is unavailable or would pass its limit.
 */
export function heapAlloc(bytes: number): number {
  const mem = heapMemory();
  const size = Math.ceil(bytes / 16) * 16;
  if (mem === null) return -1;
  // compare-and-swap, never a blind add: two threads adding past a cap this close to 2^31
  // would wrap the cell negative, and later ranges would overlap live ones
  let at = Atomics.load(header!, 0);
  for (;;) {
    if (at + size > limit) return full(size);
    const seen = Atomics.compareExchange(header!, 0, at, at + size);
    if (seen === at) break;
    at = seen;
  }
  return reach(at + size) ? at : full(size);
}

/** -1, after saying once per thread that the heap ran out (unless a test capped it). */
function full(bytes: number): -1 {
  if (!warned && limit === maxBytes) {
    warned = true;
    console.warn(
      `adamant: the WebAssembly heap (${maxBytes >> 20} MiB) has no room for ${
        Math.ceil(bytes / 2 ** 20)
      } MiB more; new buffers are plain memory, where the kernels run without SIMD. ` +
        "Dispose tensors you no longer need, or use smaller batches or fewer workers.",
    );
  }
  return -1;
}

/** Grows the memory (if no other thread has) until it holds `end` bytes; false if it cannot. */
function reach(end: number): boolean {
  if (view!.byteLength >= end) return true;
  refresh(); // another thread may have grown it
  while (view!.byteLength < end) {
    const have = view!.byteLength;
    const want = Math.min(Math.max(end - have, GROW_BYTES), maxBytes - have);
    try {
      memory!.grow(Math.ceil(want / PAGE));
    } catch {
      refresh();
      return view!.byteLength >= end;
    }
    refresh();
  }
  return true;
}

/**
 * The heap's current buffer, covering at least `end` bytes (what another thread handed
 * out too): views over it reach every address handed out so far.
 */
export function heapBuffer(end = 0): SharedArrayBuffer {
  if (end > view!.byteLength) refresh();
  return view!;
}

/** The byte address of `array` in the heap, or -1 when it lies elsewhere. */
export function heapAddress(array: ArrayBufferView): number {
  return buffers.has(array.buffer) ? array.byteOffset : -1;
}

/** Bytes of the heap handed out so far, by every thread that shares it (it never shrinks). */
export function heapBytes(): number {
  return header === null ? 0 : Atomics.load(header, 0);
}

/**
 * Caps the heap at `bytes` (at most its reservation); returns the previous cap.
 * Allocations past it fall back to plain buffers, silently; tests use it to reach that
 * fallback.
 */
export function setHeapLimit(bytes: number): number {
  const previous = limit;
  limit = Math.min(bytes, maxBytes);
  return previous;
}
