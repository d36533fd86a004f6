/**
 * The memory behind one or more tensors. Views share a storage; the last tensor to let go
 * of it hands the buffer back to the pool. The version counter lets autograd detect an
 * in-place change to a tensor it saved for backward.
 * @module
 */

import type { TypedArray } from "./dtype.ts";
import { release } from "./pool.ts";

/** A reference-counted buffer shared by a tensor and its views. */
export class Storage {
  /** The elements; a view reads them through its own strides and offset. */
  readonly data: TypedArray;
  /** Live tensors that read this storage. */
  refs = 0;
  /** Bumped by every in-place write, so saved tensors can be checked in backward. */
  version = 0;
  /** Whether the buffer came from the pool and may go back to it. */
  readonly pooled: boolean;

  constructor(data: TypedArray, pooled: boolean) {
    this.data = data;
    this.pooled = pooled;
  }

  /** Drops one reference; the last one returns a pooled buffer. */
  unref(): void {
    if (--this.refs === 0 && this.pooled) release(this.data);
  }
}
