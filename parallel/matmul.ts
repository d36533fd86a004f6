/**
 * `ParallelMatmul`: large float32 matrix products split by rows over the main thread and
 * a worker pool. Once created, it serves every `matmul` of the main thread above its size
 * threshold (through the executor hook of tensor/cpu/matmul.ts); smaller products stay on
 * one thread, where waking the workers would cost more than it saves.
 * @module
 */

import { type MatmulExecutor, setMatmulExecutor, tiledKernel } from "../tensor/cpu/matmul.ts";
import type { MatrixView } from "../tensor/cpu/matmul.ts";
import { MATMUL, MATMUL_IN_HEAP, rowBlock } from "./matmul_program.ts";
import { heapAddress } from "../tensor/heap.ts";
import { clearOf, heapSpan } from "../tensor/cpu/wasm_gemm.ts";
import { WorkerPool } from "./pool.ts";

/**
 * Options of `ParallelMatmul.create`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ParallelMatmulOptions } from "@adamant/core/parallel";
 * const options: ParallelMatmulOptions = { workers: 1, threshold: 1 << 20 };
 * assert.equal(options.workers, 1);
 * ```
 */
export interface ParallelMatmulOptions {
  /** Workers besides the main thread (default: the number of cores minus one, at least 1). */
  workers?: number;
  /** Products of fewer multiply-adds (m·n·k) stay on one thread (default 2^22). */
  threshold?: number;
  /**
   * The largest operand or result copied into shared scratch, in bytes (default 256 MiB;
   * larger products whose operands lie outside the heap stay on one thread). Three shared
   * buffers of this size are reserved; the system commits their pages only as products
   * touch them.
   */
  maxBytes?: number;
}

/** Copies the m x k view `v` into `dest` as a row-major block. */
function pack(v: MatrixView, rows: number, cols: number, dest: Float32Array): void {
  const { data, offset, rowStride, colStride } = v;
  for (let i = 0; i < rows; i++) {
    const start = offset + i * rowStride, at = i * cols;
    if (colStride === 1) dest.set(data.subarray(start, start + cols), at);
    else for (let j = 0; j < cols; j++) dest[at + j] = data[start + j * colStride];
  }
}

/**
 * The arguments of `MATMUL_IN_HEAP` (A's first element and strides, B's, C's first
 * element, as heap element indices) when A, B and C all lie in the heap and C overlaps
 * neither; else null.
 */
export function heapOperands(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array,
  outOffset: number,
): number[] | null {
  const ra = heapSpan(a, m, k), rb = heapSpan(b, k, n);
  const at = heapAddress(out);
  if (ra === null || rb === null || at < 0) return null;
  const c = at / 4 + outOffset;
  if (!clearOf(ra, 4 * c, 4 * m * n) || !clearOf(rb, 4 * c, 4 * m * n)) return null;
  return [ra[0] / 4, a.rowStride, a.colStride, rb[0] / 4, b.rowStride, b.colStride, c];
}

/**
 * Multi-threaded float32 matmul for the main thread: the first block of rows is computed
 * on the main thread, the others in the pool's workers, each with the single-thread kernel,
 * so the result is the same as on one thread. Operands in the heap, which the workers
 * share, are read and written where they lie; others are copied into shared scratch
 * memory first (O(n²) against the product's O(n³)). The main thread blocks while the
 * workers finish its product. `close()` unregisters it and stops the workers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randn } from "@adamant/core";
 * import { ParallelMatmul } from "@adamant/core/parallel";
 * const a = randn([64, 32]), b = randn([32, 48]);
 * const single = a.matmul(b).toArray();
 * await using pm = await ParallelMatmul.create({ workers: 1, threshold: 1 });
 * assert.deepEqual(a.matmul(b).toArray(), single);
 * assert.equal(pm.products, 1);
 * ```
 */
export class ParallelMatmul implements AsyncDisposable {
  /** The worker pool. */
  readonly pool: WorkerPool;
  /** The size threshold in multiply-adds. */
  readonly threshold: number;
  /** Products served on several threads so far. */
  products = 0;
  /** Of those, the ones whose operands lay in the shared heap, so nothing was copied. */
  productsInHeap = 0;
  readonly #maxBytes: number;
  readonly #a: SharedArrayBuffer;
  readonly #b: SharedArrayBuffer;
  readonly #c: SharedArrayBuffer;
  readonly #previous: MatmulExecutor | null;
  #inside = false;

  private constructor(pool: WorkerPool, threshold: number, maxBytes: number) {
    this.pool = pool;
    this.threshold = threshold;
    this.#maxBytes = maxBytes;
    // fixed-length buffers: V8 compiles loops over growable ones less well
    this.#a = new SharedArrayBuffer(maxBytes);
    this.#b = new SharedArrayBuffer(maxBytes);
    this.#c = new SharedArrayBuffer(maxBytes);
    this.#previous = setMatmulExecutor(this.#execute);
  }

  /**
   * Starts the workers and registers the executor.
   *
   * @param options `workers`, `threshold`, `maxBytes`.
   * @returns The running executor; `close()` it when done.
   */
  static async create(options: ParallelMatmulOptions = {}): Promise<ParallelMatmul> {
    const workers = options.workers ?? Math.max(1, navigator.hardwareConcurrency - 1);
    const threshold = options.threshold ?? 1 << 22;
    if (typeof threshold !== "number" || !(threshold >= 1)) {
      throw new RangeError(`ParallelMatmul: threshold must be a number >= 1, got ${threshold}`);
    }
    const maxBytes = options.maxBytes ?? 1 << 28;
    if (!Number.isInteger(maxBytes) || maxBytes < 4) {
      throw new RangeError(`ParallelMatmul: maxBytes must be an integer >= 4, got ${maxBytes}`);
    }
    const pool = await WorkerPool.create({ workers });
    const pm = new ParallelMatmul(pool, threshold, maxBytes);
    try {
      await pool.load(new URL("./matmul_program.ts", import.meta.url), {
        a: pm.#a,
        b: pm.#b,
        c: pm.#c,
      });
    } catch (e) {
      pm.close();
      throw e;
    }
    return pm;
  }

  /** Threads that share a product: the main thread and the workers. */
  get threads(): number {
    return this.pool.size + 1;
  }

  /** Unregisters the executor (restoring the one before) and stops the workers. */
  close(): void {
    if (this.pool.closed) return;
    setMatmulExecutor(this.#previous);
    this.pool.close();
  }

  /** `await using pm = …` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  readonly #execute: MatmulExecutor = (m, n, k, a, b, out, outOffset) => {
    if (
      this.#inside || this.pool.closed || !(out instanceof Float32Array) ||
      m * n * k < this.threshold || m < 2 * this.threads
    ) return false;
    this.#inside = true;
    try {
      const [, mine] = rowBlock(m, this.threads, 0);
      const inHeap = heapOperands(m, n, k, a, b, out, outOffset);
      if (inHeap !== null) {
        // every thread shares the heap: the workers read A and B and write C where they lie
        this.pool.runBlocking(MATMUL_IN_HEAP, [m, n, k, ...inHeap], () => {
          tiledKernel(mine, n, k, a, b, out, outOffset);
        });
        this.products++;
        this.productsInHeap++;
        return true;
      }
      // only copies need the scratch: larger ones stay on this thread
      if (4 * Math.max(m * k, k * n, m * n) > this.#maxBytes) return false;
      const pa = new Float32Array(this.#a, 0, m * k), pb = new Float32Array(this.#b, 0, k * n);
      pack(a, m, k, pa);
      pack(b, k, n, pb);
      this.pool.runBlocking(MATMUL, [m, n, k], () => {
        tiledKernel(
          mine,
          n,
          k,
          { data: pa, offset: 0, rowStride: k, colStride: 1 },
          { data: pb, offset: 0, rowStride: n, colStride: 1 },
          out,
          outOffset,
        );
      });
      out.set(new Float32Array(this.#c, 4 * mine * n, (m - mine) * n), outOffset + mine * n);
      this.products++;
      return true;
    } finally {
      this.#inside = false;
    }
  };
}
