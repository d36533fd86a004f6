/**
 * What a worker program is: a module that exports `setup(context, init)`, run in every
 * worker of a pool, returning the handlers the pool calls.
 * @module
 */

import type { Collectives } from "./collectives.ts";

/**
 * What a program sees of its worker: its rank, the collectives, and the integer
 * arguments of the current command.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { WorkerContext } from "@adamant/core/parallel";
 * const describe = (ctx: WorkerContext) => `rank ${ctx.rank} of ${ctx.size}`;
 * assert.equal(typeof describe, "function");
 * ```
 */
export interface WorkerContext {
  /** This worker's rank, 0 to size - 1. */
  readonly rank: number;
  /** The number of workers in the pool. */
  readonly size: number;
  /** Barrier and reductions among the pool's workers. */
  readonly collectives: Collectives;
  /** The barrier timeout the pool was created with, in milliseconds. */
  readonly timeoutMs: number;
  /** Integer argument `i` (0 to 15) of the current command, as `WorkerPool.run` wrote it. */
  arg(i: number): number;
}

/**
 * The handlers a program's `setup` returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { WorkerProgram } from "@adamant/core/parallel";
 * const program: WorkerProgram = { run(command) { if (command !== 1) throw new Error("?"); } };
 * assert.doesNotThrow(() => program.run(1));
 * ```
 */
export interface WorkerProgram {
  /** Runs command `command` (>= 1) synchronously; the hot path. */
  run(command: number): void;
  /** Answers a request sent by `WorkerPool.call` (rare work: state gathering, say). */
  call?(name: string, payload: unknown): unknown;
}

/**
 * The signature of the `setup` export of a program module.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProgramSetup } from "@adamant/core/parallel";
 * const setup: ProgramSetup = (ctx) => ({ run() { ctx.collectives.barrier(); } });
 * assert.equal(typeof setup, "function");
 * ```
 */
export type ProgramSetup = (
  context: WorkerContext,
  init: unknown,
) => WorkerProgram | Promise<WorkerProgram>;
