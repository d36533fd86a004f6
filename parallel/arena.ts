/**
 * `SharedArena`: a model's float32 parameters laid out in one flat block of shared memory
 * (`allocShared`: the shared WebAssembly heap, or a `SharedArrayBuffer`), in a fixed
 * order, with the tensors re-pointed at views of it, so that every worker reads and
 * updates the same memory.
 * @module
 */

import { Storage } from "../tensor/storage.ts";
import { fmt } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import { allocShared, type SharedFloats, sharedView } from "./shared_floats.ts";

function checkFloat32(op: string, tensors: readonly Tensor[]): void {
  tensors.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new TypeError(`${op}: entry ${i} is not a Tensor`);
    if (t.dtype !== "float32") {
      throw new TypeError(`${op}: tensor ${i} is ${t.dtype}; the arena holds float32 only`);
    }
  });
}

/**
 * One flat shared float32 buffer holding a list of tensors back to back (tensor i at
 * `offsets[i]`), which it re-points at their place (see `Tensor.rebind`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * import { SharedArena } from "@adamant/core/parallel";
 * const a = tensor([1, 2], { requiresGrad: true }), b = tensor([[3], [4]]);
 * const arena = SharedArena.adopt([a, b]);
 * assert.deepEqual([...arena.data], [1, 2, 3, 4]);
 * arena.data[3] = 9; // the tensors read the arena now
 * assert.deepEqual([...b.toArray()], [3, 9]);
 * assert(arena.shared.length === 4);
 * ```
 */
export class SharedArena {
  /** The shared memory's description, to post to workers (`SharedArena.attach`). */
  readonly shared: SharedFloats;
  /** All elements, tensor after tensor. */
  readonly data: Float32Array;
  /** Where each tensor begins in `data`. */
  readonly offsets: readonly number[];
  /** Each tensor's number of elements. */
  readonly sizes: readonly number[];
  readonly #storage: Storage;

  private constructor(data: Float32Array, shared: SharedFloats, sizes: readonly number[]) {
    const offsets: number[] = [];
    let total = 0;
    for (const size of sizes) {
      offsets.push(total);
      total += size;
    }
    if (data.length !== total) {
      throw new RangeError(
        `SharedArena: the buffer holds ${data.length} floats, the tensors ${total}`,
      );
    }
    this.shared = shared;
    // the owning view where this thread allocated the memory: it keeps a heap range alive
    this.data = data;
    this.offsets = offsets;
    this.sizes = [...sizes];
    this.#storage = new Storage(this.data, false);
  }

  /** Total elements. */
  get length(): number {
    return this.data.length;
  }

  /**
   * Allocates an arena for `tensors`, copies their values in, and re-points them at it.
   *
   * @param tensors Contiguous float32 leaves (a model's parameters, say).
   * @returns The arena.
   */
  static adopt(tensors: readonly Tensor[]): SharedArena {
    checkFloat32("SharedArena.adopt", tensors);
    const sizes = tensors.map((t) => t.size);
    const total = sizes.reduce((a, b) => a + b, 0);
    const { view, shared } = allocShared(total);
    const arena = new SharedArena(view, shared, sizes);
    tensors.forEach((t, i) => arena.data.set(t.toArray(), arena.offsets[i]));
    arena.#bind(tensors);
    return arena;
  }

  /**
   * Re-points `tensors` at an arena that another thread laid out for tensors of the same
   * sizes, without copying: they take the values it holds.
   *
   * @param shared The arena's `shared`, as `adopt` made it.
   * @param tensors Tensors of the same sizes, in the same order.
   * @returns This thread's view of the arena.
   */
  static attach(shared: SharedFloats, tensors: readonly Tensor[]): SharedArena {
    checkFloat32("SharedArena.attach", tensors);
    const arena = new SharedArena(sharedView(shared), shared, tensors.map((t) => t.size));
    arena.#bind(tensors);
    return arena;
  }

  /**
   * Tensors over `slice` (a buffer of this arena's length) shaped like each of `tensors`:
   * gradients that live in one worker's slice of a gradient arena, say.
   *
   * @param slice The memory, `length` floats.
   * @param tensors Tensors giving the shapes, in arena order.
   * @returns One tensor per entry of `tensors`, viewing `slice`.
   */
  viewsOf(slice: Float32Array, tensors: readonly Tensor[]): Tensor[] {
    if (slice.length !== this.length) {
      throw new RangeError(
        `SharedArena.viewsOf: the slice holds ${slice.length} floats, the arena ${this.length}`,
      );
    }
    const storage = new Storage(slice, false);
    return tensors.map((t, i) => new Tensor(storage, t.shape, undefined, this.offsets[i]));
  }

  #bind(tensors: readonly Tensor[]): void {
    tensors.forEach((t, i) => {
      if (t.size !== this.sizes[i]) {
        throw new RangeError(
          `SharedArena: tensor ${i} of shape ${fmt(t.shape)} has ${t.size} elements, the ` +
            `arena's slot ${this.sizes[i]}`,
        );
      }
      t.rebind(this.#storage, this.offsets[i]);
    });
  }
}
