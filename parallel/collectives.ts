/**
 * Collectives over shared memory: every worker calls the same operation with the same
 * buffers, one per rank (rank r writes only `buffers[r]`, everyone reads every buffer), and
 * meets the others at the control block's barrier. Sums run over the ranks in rank order,
 * in double, so a result is bit-identical from run to run for the same worker count.
 * @module
 */

import type { FloatArray } from "../optim/update.ts";
import { simdLoop, type SimdNode } from "../tensor/cpu/simd_fused.ts";
import { heapAddress } from "../tensor/heap.ts";
import { ABORT, BAR_GEN, barrierWait } from "./control.ts";

/**
 * The operations data-parallel training needs, behind one interface so that another
 * transport (processes, machines) can plug in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardRange } from "@adamant/core/parallel";
 * // what reduceScatter leaves to rank 1 of 2 on 100 elements
 * assert.deepEqual(shardRange(100, 2, 1), [64, 100]);
 * ```
 */
export interface Collectives {
  /** This worker's rank, 0 to size - 1. */
  readonly rank: number;
  /** The number of workers. */
  readonly size: number;
  /**
   * Milliseconds this rank has spent in barriers (those inside collectives too): blocked,
   * or doing its `helper`'s work meanwhile.
   */
  readonly waitedMs: number;
  /** Returns once every worker has called it. */
  barrier(): void;
  /**
   * Sums shard `rank` (see `shardRange`) of every rank's buffer, each scaled by
   * `weights[r]` when given, into the same shard of this rank's buffer.
   *
   * @returns The shard `[from, to)` that now holds the sum.
   */
  reduceScatter(buffers: readonly FloatArray[], weights?: readonly number[]): [number, number];
  /** Leaves the (weighted) sum of all ranks' buffers in every rank's buffer. */
  allReduce(buffers: readonly FloatArray[], weights?: readonly number[]): void;
  /** Copies `buffers[root]` into every rank's buffer. */
  broadcast(buffers: readonly FloatArray[], root: number): void;
}

// Shard boundaries fall on multiples of 16 elements (64 bytes for float32), so two workers
// never write the same cache line.
const ALIGN = 16;

/**
 * The part `[from, to)` of `length` elements that `rank` of `size` owns in a reduce-scatter:
 * contiguous, in rank order, equal up to 16-element alignment (the last may be shorter,
 * and a shard may be empty when `length` is small).
 *
 * @param length Elements to split.
 * @param size Number of ranks.
 * @param rank The rank asked about.
 * @returns The rank's first element and one past its last.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shardRange } from "@adamant/core/parallel";
 * assert.deepEqual(shardRange(10, 2, 0), [0, 10]);
 * assert.deepEqual(shardRange(10, 2, 1), [10, 10]);
 * ```
 */
export function shardRange(length: number, size: number, rank: number): [number, number] {
  const per = Math.ceil(length / size / ALIGN) * ALIGN;
  return [Math.min(length, rank * per), Math.min(length, (rank + 1) * per)];
}

/**
 * Sums `buffers[*][from..to)` (scaled by `weights`) into `out[from..to)`, adding the
 * ranks in order in double and rounding once.
 */
export function reduceRange(
  buffers: readonly FloatArray[],
  weights: readonly number[] | undefined,
  out: FloatArray,
  from: number,
  to: number,
): void {
  const n = buffers.length;
  // one rank of weight 1 (a single worker) sums to itself: skip a pass over the buffer
  if (n === 1 && out === buffers[0] && (weights === undefined || weights[0] === 1)) return;
  from = reduceSimd(buffers, weights, out, from, to);
  if (weights === undefined) {
    if (n === 2) {
      const a = buffers[0], b = buffers[1];
      for (let i = from; i < to; i++) out[i] = a[i] + b[i];
      return;
    }
    for (let i = from; i < to; i++) {
      let s = buffers[0][i];
      for (let r = 1; r < n; r++) s += buffers[r][i];
      out[i] = s;
    }
    return;
  }
  if (n === 2) {
    const a = buffers[0], b = buffers[1], wa = weights[0], wb = weights[1];
    for (let i = from; i < to; i++) out[i] = wa * a[i] + wb * b[i];
    return;
  }
  for (let i = from; i < to; i++) {
    let s = weights[0] * buffers[0][i];
    for (let r = 1; r < n; r++) s += weights[r] * buffers[r][i];
    out[i] = s;
  }
}

/** Elements `reduceRange` has summed by its SIMD loop since the thread started. */
export const simdReduced = { elements: 0 };

/**
 * The SIMD part of `reduceRange` (the first multiple of 4 elements) where every buffer lies
 * in the heap: the fused loop of `../tensor/cpu/simd_fused.ts` over the sum, in `f64x2`
 * lanes, so the bits are the JavaScript loop's. Returns where the JavaScript loop goes on.
 */
function reduceSimd(
  buffers: readonly FloatArray[],
  weights: readonly number[] | undefined,
  out: FloatArray,
  from: number,
  to: number,
): number {
  const count = to - from - (to - from) % 4, bytes = out.BYTES_PER_ELEMENT;
  const outAt = heapAddress(out);
  if (count <= 0 || outAt < 0) return from;
  const pointers: number[] = [];
  for (const b of buffers) {
    const at = heapAddress(b);
    if (at < 0 || b.constructor !== out.constructor) return from;
    pointers.push(at + from * bytes);
  }
  // (w0 * b0 + w1 * b1) + w2 * b2 ...: the JavaScript loop's order
  const term = (r: number): SimdNode =>
    weights === undefined
      ? { leaf: r }
      : { op: "mul", args: [{ scalar: r }, { leaf: r }], params: [] };
  let node = term(0);
  for (let r = 1; r < buffers.length; r++) node = { op: "add", args: [node, term(r)], params: [] };
  const f64 = bytes === 8, scalars = weights?.length ?? 0;
  const loop = simdLoop(
    `reduce|${buffers.length}|${scalars}|${f64}`,
    node,
    buffers.length,
    scalars,
    f64,
  );
  if (loop === null) return from;
  loop(outAt + from * bytes, count, ...pointers, ...(weights ?? []));
  simdReduced.elements += count;
  return from + count;
}

/**
 * `Collectives` for workers of one pool, over its control block; used inside a worker
 * program (see `WorkerContext`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createControl, SharedMemoryCollectives } from "@adamant/core/parallel";
 * // one rank alone: every collective returns at once
 * const c = new SharedMemoryCollectives(createControl(1), 0, 1, 1000);
 * const buf = new Float32Array([1, 2]);
 * c.allReduce([buf], [0.5]);
 * assert.deepEqual([...buf], [0.5, 1]);
 * ```
 */
export class SharedMemoryCollectives implements Collectives {
  /** This worker's rank. */
  readonly rank: number;
  /** The number of workers. */
  readonly size: number;
  readonly #control: Int32Array;
  readonly #timeoutMs: number;
  #waitedMs = 0;

  /**
   * Collectives for `rank` of `size` over `control`.
   *
   * @param control The pool's control block.
   * @param rank This worker's rank.
   * @param size The number of workers.
   * @param timeoutMs How long a barrier waits before naming the missing workers.
   */
  constructor(control: Int32Array, rank: number, size: number, timeoutMs: number) {
    this.#control = control;
    this.rank = rank;
    this.size = size;
    this.#timeoutMs = timeoutMs;
  }

  /**
   * Work this rank may do while it waits at a barrier (another rank's product, say): called
   * before each sleep, it returns whether it did some, and the wait goes on either way.
   */
  helper: (() => boolean) | null = null;

  /** Wakes the ranks asleep at a barrier, so that they look for work for their `helper`. */
  wakeWaiting(): void {
    Atomics.notify(this.#control, BAR_GEN);
  }

  /** Whether the pool has aborted (a worker failed, or the pool closed). */
  get aborted(): boolean {
    return Atomics.load(this.#control, ABORT) !== 0;
  }

  /** Milliseconds this rank has spent in barriers so far, blocked or helping. */
  get waitedMs(): number {
    return this.#waitedMs;
  }

  /** Returns once every worker has called it. */
  barrier(): void {
    if (this.size === 1) return;
    const start = performance.now();
    try {
      barrierWait(this.#control, this.rank, this.size, this.#timeoutMs, this.helper);
    } finally {
      this.#waitedMs += performance.now() - start;
    }
  }

  /**
   * Sums shard `rank` of every buffer into this rank's buffer (after a barrier, so all
   * inputs are written).
   *
   * @param buffers One buffer per rank, all of one length.
   * @param weights A factor per rank (none: a plain sum).
   * @returns The shard that now holds the sum.
   */
  reduceScatter(buffers: readonly FloatArray[], weights?: readonly number[]): [number, number] {
    this.#check("reduceScatter", buffers, weights);
    this.barrier();
    const [from, to] = shardRange(buffers[0].length, this.size, this.rank);
    reduceRange(buffers, weights, buffers[this.rank], from, to);
    return [from, to];
  }

  /**
   * Leaves the sum in every rank's buffer: a reduce-scatter, then each rank copies the
   * other shards from their owners.
   *
   * @param buffers One buffer per rank, all of one length.
   * @param weights A factor per rank (none: a plain sum).
   */
  allReduce(buffers: readonly FloatArray[], weights?: readonly number[]): void {
    this.reduceScatter(buffers, weights);
    this.barrier();
    const own = buffers[this.rank];
    for (let r = 0; r < this.size; r++) {
      if (r === this.rank) continue;
      const [from, to] = shardRange(own.length, this.size, r);
      own.set(buffers[r].subarray(from, to), from);
    }
    this.barrier(); // nobody writes its buffer again before every copy is done
  }

  /**
   * Copies the root's buffer into every other rank's.
   *
   * @param buffers One buffer per rank, all of one length.
   * @param root The rank whose buffer is copied.
   */
  broadcast(buffers: readonly FloatArray[], root: number): void {
    this.#check("broadcast", buffers);
    if (!Number.isInteger(root) || root < 0 || root >= this.size) {
      throw new RangeError(
        `broadcast: root must be a rank from 0 to ${this.size - 1}, got ${root}`,
      );
    }
    this.barrier();
    if (this.rank !== root) buffers[this.rank].set(buffers[root]);
    this.barrier();
  }

  #check(op: string, buffers: readonly FloatArray[], weights?: readonly number[]): void {
    if (buffers.length !== this.size) {
      throw new RangeError(
        `${op}: needs one buffer per rank (${this.size}), got ${buffers.length}`,
      );
    }
    if (buffers.some((b) => b.length !== buffers[0].length)) {
      throw new RangeError(
        `${op}: buffers differ in length (${buffers.map((b) => b.length).join(", ")})`,
      );
    }
    if (weights !== undefined && weights.length !== this.size) {
      throw new RangeError(
        `${op}: needs one weight per rank (${this.size}), got ${weights.length}`,
      );
    }
  }
}
