/**
 * Parallel training on every core: a pool of module workers that share a control block
 * and `SharedArrayBuffer` arenas, collectives over shared memory, data-parallel training
 * with a ZeRO-1 sharded optimizer, and multi-threaded matmul.
 *
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPool } from "@adamant/core/parallel";
 * await using pool = await WorkerPool.create({ workers: 2 });
 * await pool.run(0);
 * assert.equal(pool.size, 2);
 * ```
 * @module
 */

export { SharedArena } from "./arena.ts";
export { allocShared, type SharedFloats, sharedView } from "./shared_floats.ts";
export { type Collectives, shardRange, SharedMemoryCollectives } from "./collectives.ts";
export { createControl } from "./control.ts";
export { DataParallel, type DataParallelOptions, type WorkerTimings } from "./data_parallel.ts";
export { batchShare, type ModuleSpec, OPTIMIZERS, PHASES } from "./dp_protocol.ts";
export { IndexDataset } from "./index_dataset.ts";
export { ParallelMatmul, type ParallelMatmulOptions } from "./matmul.ts";
export type { ProgramSetup, WorkerContext, WorkerProgram } from "./program.ts";
export { WorkerError, WorkerPool, type WorkerPoolOptions } from "./pool.ts";
