/**
 * `WorkerPool`: N module workers that share a control block with the main thread. Setup
 * and rare requests travel as messages; commands are started and awaited through
 * `Atomics` on the control block, the main thread waiting with `Atomics.waitAsync` so its
 * event loop never blocks.
 *
 * The workers are `node:worker_threads` workers (module workers all the same) because
 * those can be unreferenced: an idle pool does not keep the process alive, so a program
 * that ends without `close()` still ends, and its workers with it. A web `Worker` would
 * keep Deno running for as long as it lives.
 * @module
 */

import { heapMemory } from "../tensor/heap.ts";
import { Worker } from "node:worker_threads";
import {
  ABORT,
  ARG_COUNT,
  argCell,
  Command,
  commandCell,
  createControl,
  DONE,
  FAILED,
  finishedCell,
  GO,
  markFailed,
  missingRanks,
  nameWorkers,
  next,
  QUEUE,
  reached,
  WAKE,
  wakeAll,
} from "./control.ts";
import { type ErrorInfo, errorInfo, type FromWorker, type ToWorker } from "./messages.ts";

/**
 * Options of `WorkerPool.create`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { WorkerPoolOptions } from "@adamant/core/parallel";
 * const options: WorkerPoolOptions = { workers: 2, timeoutMs: 10_000 };
 * assert.equal(options.workers, 2);
 * ```
 */
export interface WorkerPoolOptions {
  /** Number of workers, a positive integer (default: `navigator.hardwareConcurrency`). */
  workers?: number;
  /**
   * How long a barrier, or the main thread waiting for a command, waits before it fails
   * and names the workers that did not arrive (default 60 000 ms).
   */
  timeoutMs?: number;
}

/**
 * A failure inside a worker: its rank, and its own error and stack in the message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerError } from "@adamant/core/parallel";
 * const e = new WorkerError(1, { name: "Error", message: "boom", stack: "Error: boom" });
 * assert.equal(e.rank, 1);
 * assert.match(e.message, /worker 1 failed: Error: boom/);
 * ```
 */
export class WorkerError extends Error {
  /** Always `"WorkerError"`. */
  override name = "WorkerError";
  /** The rank of the worker that failed. */
  readonly rank: number;

  /**
   * Wraps the error info a worker sent.
   *
   * @param rank The worker's rank.
   * @param info Its error's name, message and stack.
   */
  constructor(rank: number, info: ErrorInfo) {
    super(`worker ${rank} failed: ${info.stack ?? `${info.name}: ${info.message}`}`);
    this.rank = rank;
  }
}

/** Waits for `promise`, or `ms` at most (leaving no timer behind). */
async function within(promise: Promise<void>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => timer = setTimeout(resolve, ms));
  await Promise.race([promise, timeout]);
  clearTimeout(timer);
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

function checkOptions(options: WorkerPoolOptions): { workers: number; timeoutMs: number } {
  const workers = options.workers ?? navigator.hardwareConcurrency;
  if (typeof workers !== "number" || !Number.isInteger(workers) || workers < 1) {
    throw new RangeError(`WorkerPool: workers must be a positive integer, got ${workers}`);
  }
  const timeoutMs = options.timeoutMs ?? 60_000;
  if (typeof timeoutMs !== "number" || !(timeoutMs > 0)) {
    throw new RangeError(`WorkerPool: timeoutMs must be a positive number, got ${timeoutMs}`);
  }
  return { workers, timeoutMs };
}

/**
 * A pool of module workers running one program (see `WorkerProgram`) at a time.
 * `close()` (or `await using`) terminates them; a worker that fails closes the pool and
 * fails the command in flight with a `WorkerError`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerPool } from "@adamant/core/parallel";
 * await using pool = await WorkerPool.create({ workers: 2 });
 * await pool.run(0); // the no-op command: one round trip through the control block
 * assert.equal(pool.size, 2);
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  /** The number of workers. */
  readonly size: number;
  /** The barrier and command timeout, in milliseconds. */
  readonly timeoutMs: number;
  readonly #workers: Worker[];
  readonly #control: Int32Array;
  readonly #pending = new Map<number, Pending>();
  readonly #errors = new Map<number, ErrorInfo>();
  #nextId = 0;
  /** The generation of the last command posted (Int32, as in the control block). */
  #posted = 0;
  /** The main thread's one wait on `DONE`, shared by every `run` in flight. */
  #progress: Promise<void> | null = null;
  /** The last finished command the main thread has seen, and when it first saw it. */
  #seenDone = 0;
  #movedAt = 0;
  /** Calls of `run`/`runBlocking` not yet returned: a failure must wake them. */
  #inFlight = 0;
  #closed = false;
  #failure: Error | null = null;
  /** Resolves once the pool fails or closes, to wake a `run` in flight. */
  readonly #stopped = Promise.withResolvers<void>();
  readonly #onUnload = () => this.close();
  /** Commands and requests in flight: while there are any, the workers keep the process alive. */
  #holds = 0;
  #referenced = true;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(size: number, timeoutMs: number) {
    this.size = size;
    this.timeoutMs = timeoutMs;
    this.#control = createControl(size);
    this.#workers = [];
  }

  /**
   * Spawns the workers and waits until each is ready.
   *
   * @param options `workers` (default: the number of cores), `timeoutMs`.
   * @returns The pool.
   */
  static async create(options: WorkerPoolOptions = {}): Promise<WorkerPool> {
    const { workers, timeoutMs } = checkOptions(options);
    const pool = new WorkerPool(workers, timeoutMs);
    globalThis.addEventListener("unload", pool.#onUnload);
    const url = new URL("./worker.ts", import.meta.url);
    const ready: Promise<unknown>[] = [];
    for (let rank = 0; rank < workers; rank++) {
      const worker = new Worker(url);
      pool.#workers.push(worker);
      const { promise, resolve, reject } = Promise.withResolvers<unknown>();
      pool.#pending.set(-1 - rank, { resolve, reject });
      ready.push(promise);
      worker.on("message", (message: FromWorker) => pool.#receive(rank, message));
      worker.on("error", (e: unknown) => pool.#fail(rank, errorInfo(e), false));
      worker.on("exit", (code: number) => {
        pool.#fail(rank, { name: "Error", message: `the worker exited (code ${code})` }, false);
      });
      const init: ToWorker = {
        type: "init",
        rank,
        size: workers,
        control: pool.#control,
        timeoutMs,
        heap: heapMemory(),
      };
      worker.postMessage(init);
    }
    pool.#hold();
    try {
      await Promise.all(ready);
    } catch (e) {
      pool.close();
      throw e;
    } finally {
      pool.#release();
    }
    return pool;
  }

  /** Whether `close()` has run (or a failure closed the pool). */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Imports the program module at `url` in every worker and calls its
   * `setup(context, init)`; `init` is structured-cloned (a `SharedArrayBuffer` is shared).
   *
   * @param url The program module.
   * @param init What each worker's `setup` receives.
   */
  async load(url: string | URL, init: unknown = null): Promise<void> {
    await this.#request("load", (id) => ({ type: "load", id, url: String(url), init }));
  }

  /**
   * Sends a request to every worker's program and collects the answers in rank order.
   *
   * @param name The request's name, as the program's `call` knows it.
   * @param payload One value for all workers, or (with `perRank`) one per rank.
   * @param perRank Whether `payload` is an array with one entry per rank.
   * @returns Each worker's answer, by rank.
   */
  call(name: string, payload: unknown = null, perRank = false): Promise<unknown[]> {
    if (perRank && (!Array.isArray(payload) || payload.length !== this.size)) {
      throw new RangeError(`WorkerPool.call ${name}: perRank needs ${this.size} payloads`);
    }
    return this.#request("call", (id, rank) => ({
      type: "call",
      id,
      name,
      payload: perRank ? (payload as unknown[])[rank] : payload,
    }));
  }

  /**
   * Runs `command` in every worker and resolves when all have finished it. The command and
   * its integer arguments go through the control block; nothing is posted. Up to `QUEUE`
   * (8) commands may be in flight: call `run` again before awaiting the first, and the
   * workers start each as soon as they finish the one before, in the order posted. Keep
   * the queue full and the main thread wakes once every `QUEUE / 2` commands.
   *
   * @param command The command code (0: no-op; programs number theirs from 1).
   * @param args Up to `ARG_COUNT` (16) integers, read in the workers with `context.arg(i)`.
   */
  async run(command: number, args: readonly number[] = []): Promise<void> {
    const generation = this.#begin("run", command, args);
    this.#hold();
    try {
      let result = "ok";
      while (!reached(Atomics.load(this.#control, DONE), generation)) {
        if (Atomics.load(this.#control, ABORT) !== 0) {
          // the failing worker's report is on its way as a message
          await within(this.#stopped.promise, 1000);
          result = "failed";
          break;
        }
        if (this.#stalled()) {
          result = "timed-out";
          break;
        }
        // one wait for every run in flight: each wake of this thread costs the cores more
        // than a step's bookkeeping does
        this.#progress ??= this.#waitForProgress(generation).finally(() => this.#progress = null);
        await this.#progress;
      }
      this.#finish(result);
    } finally {
      this.#inFlight--;
      this.#release();
    }
  }

  /**
   * Like `run`, but blocks the calling thread until the workers finish, after `during`
   * (work of the caller's own) has run. For synchronous kernels called from the main
   * thread; prefer `run` elsewhere. Nothing else may be in flight.
   *
   * @param command The command code.
   * @param args Up to `ARG_COUNT` (16) integers.
   * @param during Work the caller does while the workers run.
   */
  runBlocking(command: number, args: readonly number[], during?: () => void): void {
    if (this.#posted !== Atomics.load(this.#control, DONE)) {
      throw new Error("WorkerPool.runBlocking: a command is still running; await it first");
    }
    const generation = this.#begin("runBlocking", command, args);
    Atomics.store(this.#control, WAKE, generation);
    try {
      during?.();
      const deadline = performance.now() + this.timeoutMs;
      let result = "ok";
      for (;;) {
        const done = Atomics.load(this.#control, DONE);
        if (reached(done, generation)) break;
        if (Atomics.load(this.#control, ABORT) !== 0) {
          result = "failed";
          break;
        }
        const left = deadline - performance.now();
        if (left <= 0) {
          result = "timed-out";
          break;
        }
        Atomics.wait(this.#control, DONE, done, left);
      }
      this.#finish(result);
    } finally {
      this.#inFlight--;
    }
  }

  /** Terminates every worker; pending work fails. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#idleTimer);
    globalThis.removeEventListener("unload", this.#onUnload);
    // workers blocked in Atomics.wait ignore terminate(): wake them into the abort flag
    Atomics.store(this.#control, ABORT, 1);
    this.#posted = next(this.#posted);
    Atomics.store(this.#control, commandCell(this.#posted), Command.exit);
    Atomics.store(this.#control, GO, this.#posted);
    wakeAll(this.#control);
    for (const worker of this.#workers) worker.terminate();
    const error = this.#failure ?? new Error("WorkerPool: the pool was closed");
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    this.#stopped.resolve();
  }

  /** `await using pool = …` closes the pool at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Posts `command` into the next queue slot and returns its generation. */
  #begin(op: string, command: number, args: readonly number[]): number {
    this.#checkOpen(op);
    // the workers' count, not the pending promises': a finished command frees its slot even
    // before the continuation of its run has run
    if (((this.#posted - Atomics.load(this.#control, DONE)) | 0) >= QUEUE) {
      throw new Error(
        `WorkerPool.${op}: ${QUEUE} commands are already in flight; await one of them first`,
      );
    }
    if (!Number.isInteger(command) || command < 0) {
      throw new RangeError(`WorkerPool.${op}: command must be an integer >= 0, got ${command}`);
    }
    if (args.length > ARG_COUNT) {
      throw new RangeError(`WorkerPool.${op}: at most ${ARG_COUNT} arguments, got ${args.length}`);
    }
    this.#inFlight++;
    const c = this.#control;
    if (this.#posted === Atomics.load(c, DONE)) this.#watch(this.#posted);
    const generation = this.#posted = next(this.#posted);
    // the slot's previous command (generation - QUEUE) is done: at most QUEUE are in flight
    args.forEach((a, i) => Atomics.store(c, argCell(generation, i), a));
    Atomics.store(c, commandCell(generation), command);
    Atomics.store(c, GO, generation);
    Atomics.notify(c, GO);
    // a caller refilling the queue after a wake posts behind a wait set up before it did:
    // move that wait's target up, never down (a worker may already have passed the old one)
    const done = Atomics.load(c, DONE);
    if (this.#progress !== null && !reached(done, generation)) {
      const target = this.#wakeTarget(done);
      if (reached(target, Atomics.load(c, WAKE))) Atomics.store(c, WAKE, target);
    }
    return generation;
  }

  /**
   * Waits until the workers finish enough commands that at most half the queue is left (or
   * the oldest, when fewer are queued): a caller that keeps the queue full then wakes once
   * per `QUEUE / 2` commands and refills it before the workers run out. Returns at once when
   * command `generation` (the caller's) is already done, and early, for the callers to
   * check, when the pool fails or a quarter of the timeout has passed.
   */
  async #waitForProgress(generation: number): Promise<void> {
    const c = this.#control, seen = Atomics.load(c, DONE);
    // done since the caller looked: a target past the last posted command would never come
    if (reached(seen, generation)) return;
    Atomics.store(c, WAKE, this.#wakeTarget(seen));
    // after storing WAKE: a worker that finishes a command after this load sees the new WAKE
    if (Atomics.load(c, DONE) !== seen) return;
    // a worker stuck in the oldest command is noticed within a quarter of the timeout
    const limit = this.timeoutMs + 1000;
    const left = Math.min(limit / 4, this.#movedAt + limit - performance.now());
    const wait = Atomics.waitAsync(c, DONE, seen, Math.max(left, 0));
    // whatever fails the pool (markFailed, #fail, close) wakes this wait
    if (wait.async) await wait.value;
  }

  /**
   * The command whose finish should wake the main thread, `done` being the last finished:
   * the one that leaves `QUEUE / 2` queued, or the oldest when fewer are. Never past the
   * last posted command, which `done` has not reached.
   */
  #wakeTarget(done: number): number {
    const oldest = next(done), ahead = (this.#posted - QUEUE / 2) | 0;
    return reached(ahead, oldest) ? ahead : oldest;
  }

  /** Starts the command timeout's clock from `done`, the last finished command. */
  #watch(done: number): void {
    this.#seenDone = done;
    this.#movedAt = performance.now();
  }

  /**
   * Whether no command has finished for the timeout (plus a second, so that a barrier
   * timeout inside the workers, which names more, comes first): each command gets its whole
   * timeout from when this thread saw the one before it finish, which it sees within a
   * quarter of the timeout.
   */
  #stalled(): boolean {
    const done = Atomics.load(this.#control, DONE);
    if (done !== this.#seenDone) this.#watch(done);
    return performance.now() - this.#movedAt > this.timeoutMs + 1000;
  }

  #finish(result: string): void {
    if (result === "failed" || this.#failure !== null || this.#closed) {
      const failure = this.#failure ?? this.#abortedFailure();
      this.close();
      throw failure;
    }
    if (result === "timed-out") {
      // the command that did not finish is the oldest one in flight; a command queued
      // behind it fails with the same error
      const stuck = next(Atomics.load(this.#control, DONE));
      const missing = missingRanks(this.#control, this.size, finishedCell, stuck);
      this.#failure = new Error(
        `WorkerPool: command ${Atomics.load(this.#control, commandCell(stuck))} timed out ` +
          `after ${this.timeoutMs} ms: ${nameWorkers(missing)} did not finish (raise ` +
          "timeoutMs if steps are this slow)",
      );
      this.close();
      throw this.#failure;
    }
  }

  /** The failure to report once the control block says a worker failed. */
  #abortedFailure(): Error {
    const rank = Atomics.load(this.#control, FAILED) - 1;
    const info = this.#errors.get(rank);
    if (rank >= 0 && info !== undefined) return new WorkerError(rank, info);
    if (rank >= 0) {
      return new WorkerError(rank, {
        name: "Error",
        message: "failed (its error message has not arrived yet)",
      });
    }
    return new Error("WorkerPool: the pool was closed while a command ran");
  }

  #checkOpen(op: string): void {
    if (this.#closed) {
      throw this.#failure ?? new Error(`WorkerPool.${op}: the pool is closed`);
    }
  }

  async #request(
    op: string,
    message: (id: number, rank: number) => ToWorker,
  ): Promise<unknown[]> {
    this.#checkOpen(op);
    this.#hold();
    try {
      return await Promise.all(this.#workers.map((worker, rank) => {
        const id = this.#nextId++;
        const { promise, resolve, reject } = Promise.withResolvers<unknown>();
        this.#pending.set(id, { resolve, reject });
        worker.postMessage(message(id, rank));
        return promise;
      }));
    } finally {
      this.#release();
    }
  }

  /** Keeps the process alive while the workers have work in flight. */
  #hold(): void {
    if (this.#holds++ > 0) return;
    clearTimeout(this.#idleTimer);
    if (!this.#referenced) {
      for (const worker of this.#workers) worker.ref();
      this.#referenced = true;
    }
  }

  /** Once nothing is in flight, lets the process end even though the workers live. */
  #release(): void {
    if (--this.#holds > 0 || this.#closed) return;
    // a little later, so that back-to-back steps do not toggle it every time
    this.#idleTimer = setTimeout(() => {
      for (const worker of this.#workers) worker.unref();
      this.#referenced = false;
    }, 20);
  }

  #receive(rank: number, message: FromWorker): void {
    if (message.type === "ready") {
      this.#settle(-1 - rank, null, null);
    } else if (message.type === "reply") {
      this.#settle(
        message.id,
        message.ok ? message.value : null,
        message.ok ? null : new WorkerError(rank, message.error),
      );
    } else {
      this.#fail(rank, message.error, message.aborted);
    }
  }

  #settle(id: number, value: unknown, error: Error | null): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    if (error === null) pending.resolve(value);
    else pending.reject(error);
  }

  #fail(rank: number, info: ErrorInfo, aborted: boolean): void {
    this.#errors.set(rank, info);
    if (this.#closed || this.#failure !== null) return;
    if (!aborted) {
      markFailed(this.#control, rank);
    }
    const first = Atomics.load(this.#control, FAILED) - 1;
    // an aborted worker only echoes the first failure: wait for that worker's own report
    if (first < 0 || !this.#errors.has(first)) return;
    this.#failure = new WorkerError(first, this.#errors.get(first)!);
    if (this.#inFlight > 0) {
      this.#stopped.resolve(); // the command in flight closes the pool
      Atomics.notify(this.#control, DONE);
    } else this.close();
  }
}
