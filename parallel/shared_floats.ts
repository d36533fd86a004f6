/**
 * Float32 memory that every thread of a pool can view: a range of the shared WebAssembly
 * heap (`tensor/heap.ts`), which the workers adopt, or a `SharedArrayBuffer` where there is
 * no heap. In the heap, the SIMD kernels of every thread work on it in place.
 * @module
 */

import { heapAddress, heapBuffer } from "../tensor/heap.ts";
import { acquire, release } from "../tensor/pool.ts";

/**
 * A description of shared float32 memory, to post to workers; `sharedView` opens it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocShared, sharedView } from "@adamant/core/parallel";
 * const { view, shared } = allocShared(1000);
 * view[7] = 3;
 * assert(sharedView(shared)[7] === 3 && shared.length === 1000);
 * ```
 */
export type SharedFloats =
  | { readonly heap: true; readonly address: number; readonly length: number }
  | { readonly heap: false; readonly buffer: SharedArrayBuffer; readonly length: number };

/**
 * `length` zeroed floats of shared memory: in the heap when it has room, else a
 * `SharedArrayBuffer`. Keep `view` for as long as any thread uses the memory: a heap range
 * returns to the pool when its view is collected.
 *
 * @param length Elements.
 * @returns The owning view and the description to post.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { allocShared } from "@adamant/core/parallel";
 * const { view } = allocShared(4);
 * assert(view.length === 4 && view[0] === 0);
 * ```
 */
export function allocShared(length: number): { view: Float32Array; shared: SharedFloats } {
  const view = acquire("float32", length) as Float32Array;
  const address = heapAddress(view);
  if (address >= 0) {
    view.fill(0);
    return { view, shared: { heap: true, address, length } };
  }
  release(view);
  const buffer = new SharedArrayBuffer(4 * length);
  return { view: new Float32Array(buffer), shared: { heap: false, buffer, length } };
}

/**
 * A view of shared memory described by `allocShared` (on the thread that made it, or on a
 * worker of a pool, which shares its heap).
 *
 * @param shared The description.
 * @returns A float32 view of all of it.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sharedView } from "@adamant/core/parallel";
 * const buffer = new SharedArrayBuffer(8);
 * assert(sharedView({ heap: false, buffer, length: 2 }).length === 2);
 * ```
 */
export function sharedView(shared: SharedFloats): Float32Array {
  if (!shared.heap) return new Float32Array(shared.buffer, 0, shared.length);
  const end = shared.address + 4 * shared.length;
  return new Float32Array(heapBuffer(end), shared.address, shared.length);
}
