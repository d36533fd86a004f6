/**
 * The worker side of `ParallelMatmul`: worker r multiplies its block of rows of the packed
 * A (in shared scratch) by the packed B, into the same rows of the shared C.
 * @module
 */

import { tiledKernel } from "../tensor/cpu/matmul.ts";
import { heapBuffer } from "../tensor/heap.ts";
import { MR } from "../tensor/cpu/wasm_gemm.ts";
import type { WorkerContext, WorkerProgram } from "./program.ts";

/** The command that multiplies one block of rows of the packed copies. */
export const MATMUL = 1;
/**
 * The same on operands that lie in the shared heap: args m, n, k, then A's first element
 * and row and column strides, B's, and C's first element, as heap element indices.
 */
export const MATMUL_IN_HEAP = 2;

/** The shared scratch: packed A (m x k), packed B (k x n), C (m x n), all float32. */
export interface MatmulInit {
  a: SharedArrayBuffer;
  b: SharedArrayBuffer;
  c: SharedArrayBuffer;
}

/** Rows `[from, to)` of an m-row product that part `part` of `parts` computes. */
export function rowBlock(m: number, parts: number, part: number): [number, number] {
  // blocks of whole register tiles, so no part pays for a ragged edge but the last
  const per = Math.ceil(m / parts / MR) * MR;
  return [Math.min(m, part * per), Math.min(m, (part + 1) * per)];
}

/** Sets up a worker of a parallel matmul pool. */
export function setup(context: WorkerContext, init: MatmulInit): WorkerProgram {
  const a = new Float32Array(init.a), b = new Float32Array(init.b), c = new Float32Array(init.c);
  return {
    run(command) {
      if (command !== MATMUL && command !== MATMUL_IN_HEAP) {
        throw new RangeError(`ParallelMatmul worker: unknown command ${command}`);
      }
      const m = context.arg(0), n = context.arg(1), k = context.arg(2);
      // the main thread computes part 0; worker r part r + 1
      const [from, to] = rowBlock(m, context.size + 1, context.rank + 1);
      if (to <= from) return;
      if (command === MATMUL_IN_HEAP) {
        const [ar, ars, acs, br, brs, bcs, cr] = Array.from(
          { length: 7 },
          (_, i) => context.arg(3 + i),
        );
        const last = (first: number, rows: number, rs: number, cols: number, cs: number) =>
          first + (rows - 1) * rs + (cols - 1) * cs + 1;
        const end = Math.max(last(ar, m, ars, k, acs), last(br, k, brs, n, bcs), cr + m * n);
        const heap = new Float32Array(heapBuffer(4 * end));
        tiledKernel(
          to - from,
          n,
          k,
          { data: heap, offset: ar + from * ars, rowStride: ars, colStride: acs },
          { data: heap, offset: br, rowStride: brs, colStride: bcs },
          heap,
          cr + from * n,
        );
        return;
      }
      tiledKernel(
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
