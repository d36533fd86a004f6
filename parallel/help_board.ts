/**
 * Products that idle workers help with. A worker about to run a large float32 product of
 * one slab (k <= 256, n <= 1024: a layer's weight gradient, summed over its share of the
 * batch) whose operands lie in the shared heap packs B once, publishes the product on its
 * board, and computes it in groups of row strips that it claims one at a time; a worker
 * waiting at a barrier claims the groups left. Every strip goes through the same packing,
 * tiles and stores whichever thread computes it, so the result does not depend on who
 * helped.
 * @module
 */

import type { MatmulExecutor } from "../tensor/cpu/matmul.ts";
import {
  gemmModule,
  gemmStrips,
  MR,
  packSlab,
  SLAB,
  stripScratch,
} from "../tensor/cpu/wasm_gemm.ts";
import { heapBuffer } from "../tensor/heap.ts";
import { heapOperands } from "./matmul.ts";
import { AbortedError } from "./control.ts";
import type { SharedMemoryCollectives } from "./collectives.ts";

// a board: the claims (groups << 16 | the next group to claim, one cell, so that a claim is
// one compare-and-swap against the product it read), the groups done, then m, n, k, A
// (first element, row and column strides, as heap float indices), packed B and C (bytes)
const CLAIMS = 0, DONE = 1, FIELDS = 2, CELLS = 16;
/** The fewest multiply-adds a product needs to be published. */
const PUBLISHED = 1 << 21;
/** Rows of C in a claim: whole register strips. */
const GROUP = 4 * MR;

/** The boards of `size` workers. */
export function createBoards(size: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * CELLS * size);
}

/** One worker's side of the boards. */
export class HelpBoards {
  readonly #cells: Int32Array;
  readonly #collectives: SharedMemoryCollectives;
  /** Groups of other workers' products this worker has computed. */
  helped = 0;

  /**
   * Registers this worker's side: its executor for `matmul`'s large products, and helping
   * as the work `collectives` does while it waits at a barrier.
   *
   * @param boards The boards, from `createBoards`.
   * @param collectives This worker's collectives.
   */
  constructor(boards: SharedArrayBuffer, collectives: SharedMemoryCollectives) {
    this.#cells = new Int32Array(boards);
    this.#collectives = collectives;
    collectives.helper = () => this.help();
  }

  /** The executor this worker registers: publishes large one-slab products, then joins in. */
  readonly executor: MatmulExecutor = (m, n, k, a, b, out, outOffset) => {
    const g = gemmModule();
    if (
      g === null || !g.heap || !(out instanceof Float32Array) || m * n * k < PUBLISHED ||
      k > SLAB.k || n > SLAB.n || m < 2 * GROUP
    ) return false;
    // the owner's scratch first: every group it claims must be computed
    if (!stripScratch(g)) return false;
    const inHeap = heapOperands(m, n, k, a, b, out, outOffset);
    if (inHeap === null) return false;
    const packed = packSlab(g, b, k, n);
    if (packed < 0) return false;
    const cells = this.#cells, base = this.#collectives.rank * CELLS;
    const groups = Math.ceil(m / GROUP);
    if (groups >= 1 << 15) return false;
    const [aFirst, aRows, aCols, , , , cFirst] = inHeap;
    [m, n, k, aFirst, aRows, aCols, packed, 4 * cFirst].forEach((v, i) =>
      cells[base + FIELDS + i] = v
    );
    Atomics.store(cells, base + DONE, 0);
    // last: a claim only succeeds once the fields above are written
    Atomics.store(cells, base + CLAIMS, groups << 16);
    this.#collectives.wakeWaiting();
    while (this.#claim(this.#collectives.rank)) { /* this worker's own share */ }
    for (;;) {
      const done = Atomics.load(cells, base + DONE);
      if (done >= groups) break;
      if (this.#collectives.aborted) throw new AbortedError("help: the pool aborted");
      Atomics.wait(cells, base + DONE, done, 100);
    }
    return true;
  };

  /** Claims and computes a group of another worker's product; false when none is left. */
  help(): boolean {
    const { rank, size } = this.#collectives;
    for (let r = 0; r < size; r++) {
      if (r !== rank && this.#claim(r)) {
        this.helped++;
        return true;
      }
    }
    return false;
  }

  #claim(r: number): boolean {
    const cells = this.#cells, base = r * CELLS, g = gemmModule()!;
    let group = -1;
    for (;;) {
      const claims = Atomics.load(cells, base + CLAIMS);
      if ((claims & 0xffff) >= claims >>> 16) return false;
      // a helper without scratch leaves the group to the others, before taking it
      if (!stripScratch(g)) return false;
      if (Atomics.compareExchange(cells, base + CLAIMS, claims, claims + 1) === claims) {
        group = claims & 0xffff;
        break;
      }
    }
    const [m, n, k, a, ars, acs, packed, c] = cells.subarray(base + FIELDS, base + FIELDS + 8);
    // a view of the heap as far as A and C reach: either may lie past this thread's last one
    const aEnd = 4 * (a + (m - 1) * ars + (k - 1) * acs + 1);
    const heap = new Float32Array(heapBuffer(Math.max(c + 4 * m * n, aEnd)));
    const ok = gemmStrips(
      g,
      n,
      k,
      { data: heap, offset: a, rowStride: ars, colStride: acs },
      packed,
      c,
      group * GROUP,
      Math.min(m, (group + 1) * GROUP),
    );
    if (!ok) throw new Error("help: the scratch checked before the claim went missing");
    Atomics.add(cells, base + DONE, 1);
    Atomics.notify(cells, base + DONE);
    return true;
  }
}
