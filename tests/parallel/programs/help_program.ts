/**
 * A test program for helping at barriers: rank 1 sleeps, so that rank 0 is asleep at the
 * barrier, then runs a large product through `matmulKernel`; rank 0 goes straight to the
 * barrier and helps. The operands lie in the shared heap at the float indices given.
 */
import {
  SharedMemoryCollectives,
  type WorkerContext,
  type WorkerProgram,
} from "../../../parallel/mod.ts";
import { HelpBoards } from "../../../parallel/help_board.ts";
import { matmulKernel, setMatmulExecutor } from "../../../tensor/cpu/matmul.ts";
import { heapBuffer } from "../../../tensor/heap.ts";

export interface HelpInit {
  boards: SharedArrayBuffer;
  /** m, n, k, then A's, B's and C's first float in the heap (row-major, A as a transposed view). */
  product: number[];
}

export const PRODUCT = 1;

export function setup(ctx: WorkerContext, init: HelpInit): WorkerProgram {
  if (!(ctx.collectives instanceof SharedMemoryCollectives)) {
    throw new TypeError("no shared memory");
  }
  const boards = new HelpBoards(init.boards, ctx.collectives);
  setMatmulExecutor(boards.executor);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  return {
    run(command) {
      if (command !== PRODUCT) throw new RangeError(`unknown command ${command}`);
      if (ctx.rank === 1) {
        Atomics.wait(sleeper, 0, 0, 50);
        const [m, n, k, a, b, c] = init.product;
        const heap = new Float32Array(heapBuffer(4 * (c + m * n)));
        matmulKernel(
          m,
          n,
          k,
          { data: heap, offset: a, rowStride: 1, colStride: m },
          { data: heap, offset: b, rowStride: n, colStride: 1 },
          heap,
          c,
        );
      }
      ctx.collectives.barrier();
    },
    call(name) {
      if (name === "helped") return boards.helped;
      throw new Error(`unknown call ${name}`);
    },
  };
}
