/**
 * A test program for the shared heap: each worker opens the floats the main thread laid
 * out, checks they lie in its own heap, and fills its part from a fresh tensor of its own,
 * whose heap address it reports.
 */
import type { WorkerContext, WorkerProgram } from "../../../parallel/mod.ts";
import { type SharedFloats, sharedView } from "../../../parallel/mod.ts";
import { full, type Tensor } from "../../../mod.ts";
import { heapAddress } from "../../../tensor/heap.ts";

export interface HeapInit {
  shared: SharedFloats;
  /** Int32: the heap address of each rank's tensor. */
  addresses: SharedArrayBuffer;
}

/** Each rank r fills its part of the shared floats with r + 1, from a tensor it keeps. */
export const FILL = 1;

export function setup(ctx: WorkerContext, init: HeapInit): WorkerProgram {
  const view = sharedView(init.shared);
  if (heapAddress(view) < 0) throw new Error(`worker ${ctx.rank} does not see the heap`);
  const part = view.length / ctx.size;
  const addresses = new Int32Array(init.addresses);
  const kept: Tensor[] = [];
  return {
    run(command) {
      if (command !== FILL) throw new RangeError(`heap program: unknown command ${command}`);
      const mine = full([part], ctx.rank + 1);
      kept.push(mine);
      addresses[ctx.rank] = heapAddress(mine.data);
      view.set(mine.data, ctx.rank * part);
    },
  };
}
