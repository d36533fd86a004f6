/**
 * The worker side of `ParallelMatmul`: worker r multiplies its block of rows of the packed
 * A (in shared scratch) by the packed B, into the same rows of the shared C.
 * @module
 */

import { matmulKernel } from "../tensor/cpu/matmul.ts";
import type { WorkerContext, WorkerProgram } from "./program.ts";

/** The command that multiplies one block of rows. */
export const MATMUL = 1;

/** The shared scratch: packed A (m x k), packed B (k x n), C (m x n), all float32. */
export interface MatmulInit {
  a: SharedArrayBuffer;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
}

/** Rows `[from, to)` of an m-row product that part `part` of `parts` computes. */
export function rowBlock(m: number, parts: number, part: number): [number, number] {
  // blocks of whole 4-row register tiles, so no part pays for a ragged edge but the last
  const per = Math.ceil(m / parts / 4) * 4;
  return [Math.min(m, part * per), Math.min(m, (part + 1) * per)];
}

/** Sets up a worker of a parallel matmul pool. */
export function setup(context: WorkerContext, init: MatmulInit): WorkerProgram {
  const a = new Float32Array(init.a), b = new Float32Array(init.b), c = new Float32Array(init.c);
  return {
    run(command) {
      if (command !== MATMUL) {
        throw new RangeError(`ParallelMatmul worker: unknown command ${command}`);
      }
      const m = context.arg(0), n = context.arg(1), k = context.arg(2);
      // the main thread computes part 0; worker r part r + 1
      const [from, to] = rowBlock(m, context.size + 1, context.rank + 1);
      if (to <= from) return;
      matmulKernel(
        to - from,
        n,
        k,
        { data: a, offset: from * k, rowStride: k, colStride: 1 },
        { data: b, offset: 0, rowStride: n, colStride: 1 },
        c,
        from * n,
      );
    },
  };
}
