/**
 * The control block a pool and its workers share: an `Int32Array` over a
 * `SharedArrayBuffer` whose cells the hot path reads and writes with `Atomics` instead of
 * messages. A command is started by bumping `GO`; the last worker to finish bumps `DONE`;
 * workers meet mid-command at a generation-counted barrier (`BAR_GEN`, `BAR_COUNT`). Each
 * rank also stamps the generation it reached in a cell of its own, so that a timeout can
 * say which worker did not arrive.
 * @module
 */

/** Generation of the current command: the main thread bumps it to start one. */
export const GO = 0;
/** The command code the workers run next (see `Command`). */
export const COMMAND = 1;
/** Generation of finished commands: bumped by the last worker to finish. */
export const DONE = 2;
/** Workers that have finished the current command. */
export const DONE_COUNT = 3;
/** Barrier generation: bumped by the last worker to arrive. */
export const BAR_GEN = 4;
/** Workers waiting at the current barrier. */
export const BAR_COUNT = 5;
/** Set to 1 when a worker fails or the pool closes: every wait gives up. */
export const ABORT = 6;
/** 1 + the rank of the first worker that failed (0: none). */
export const FAILED = 7;
/** Cells a command may use for integer arguments. */
export const ARGS = 8;
/** Number of argument cells. */
export const ARG_COUNT = 16;
const HEADER = ARGS + ARG_COUNT;

/** Commands every worker understands; programs number theirs from 1. */
export const Command = { noop: 0, exit: -1 } as const;

/** The cell where `rank` stamps the barrier generation it is waiting to pass. */
export function arrivedCell(rank: number): number {
  return HEADER + 2 * rank;
}

/** The cell where `rank` stamps the generation of the last command it finished. */
export function finishedCell(rank: number): number {
  return HEADER + 2 * rank + 1;
}

/** A control block for `size` workers. */
export function createControl(size: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4 * (HEADER + 2 * size)));
}

/**
 * Thrown in a worker whose wait was cut short because another worker failed or the pool
 * closed; the pool reports the first worker's own error instead.
 */
export class AbortedError extends Error {
  override name = "AbortedError";
}

/** Wakes every thread waiting on any cell of the control block. */
export function wakeAll(control: Int32Array): void {
  for (let i = 0; i < control.length; i++) Atomics.notify(control, i);
}

/**
 * Marks the pool as failed by `rank` (the first caller wins) and wakes every waiter.
 *
 * @returns Whether this call was the first failure.
 */
export function markFailed(control: Int32Array, rank: number): boolean {
  const first = Atomics.compareExchange(control, FAILED, 0, rank + 1) === 0;
  Atomics.store(control, ABORT, 1);
  wakeAll(control);
  return first;
}

/** The ranks among `size` whose `cell(rank)` does not hold `generation`. */
export function missingRanks(
  control: Int32Array,
  size: number,
  cell: (rank: number) => number,
  generation: number,
): number[] {
  const missing: number[] = [];
  for (let r = 0; r < size; r++) {
    if (Atomics.load(control, cell(r)) !== generation) missing.push(r);
  }
  return missing;
}

/** "worker 1" or "workers 1, 3". */
export function nameWorkers(ranks: readonly number[]): string {
  return `worker${ranks.length === 1 ? "" : "s"} ${ranks.join(", ")}`;
}

/**
 * Blocks the calling worker until all `size` workers have called it for this generation,
 * or throws: `AbortedError` when the pool aborts, an `Error` naming the workers that did
 * not arrive within `timeoutMs`.
 */
export function barrierWait(
  control: Int32Array,
  rank: number,
  size: number,
  timeoutMs: number,
): void {
  // read the generation before arriving: it cannot move until this worker has arrived
  const generation = Atomics.load(control, BAR_GEN);
  Atomics.store(control, arrivedCell(rank), generation + 1);
  if (Atomics.add(control, BAR_COUNT, 1) === size - 1) {
    Atomics.store(control, BAR_COUNT, 0);
    Atomics.add(control, BAR_GEN, 1);
    Atomics.notify(control, BAR_GEN);
    return;
  }
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(control, BAR_GEN) === generation) {
    if (Atomics.load(control, ABORT) !== 0) throw new AbortedError("barrier: the pool aborted");
    const left = deadline - performance.now();
    if (left <= 0) {
      const missing = missingRanks(control, size, arrivedCell, generation + 1);
      throw new Error(
        `barrier: timed out after ${timeoutMs} ms at worker ${rank}: ` +
          `${nameWorkers(missing)} did not arrive (raise timeoutMs if steps are this slow)`,
      );
    }
    Atomics.wait(control, BAR_GEN, generation, left);
  }
}
