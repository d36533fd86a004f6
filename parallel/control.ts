/**
 * The control block a pool and its workers share: an `Int32Array` over a
 * `SharedArrayBuffer` whose cells the hot path reads and writes with `Atomics` instead of
 * messages. A command is posted by writing it into the next of `QUEUE` slots and bumping
 * `GO`; every worker runs the posted commands in order, and the last worker to finish one
 * bumps `DONE`, waking the main thread from the command `WAKE` names on. So the main thread
 * can post commands while the workers run earlier ones, and sleep while they run several:
 * they start each without waiting for it to wake. Workers meet mid-command at a
 * generation-counted barrier (`BAR_GEN`, `BAR_COUNT`). Each rank also stamps the generation
 * it reached in a cell of its own, so that a timeout can say which worker did not arrive.
 * @module
 */

/** Commands posted so far: the main thread bumps it to post one. */
export const GO = 0;
/** Commands every worker has finished: bumped by the last worker to finish one. */
export const DONE = 1;
/** Barrier generation: bumped by the last worker to arrive. */
export const BAR_GEN = 2;
/** Workers waiting at the current barrier. */
export const BAR_COUNT = 3;
/** Set to 1 when a worker fails or the pool closes: every wait gives up. */
export const ABORT = 4;
/** 1 + the rank of the first worker that failed (0: none). */
export const FAILED = 5;
/**
 * The generation whose finish wakes the main thread: the last worker to finish a command
 * notifies `DONE` only from this one on, so that the main thread can sleep through several.
 */
export const WAKE = 6;
/** Number of argument cells of a command. */
export const ARG_COUNT = 16;
/** Commands that may be posted and not yet finished at once (a power of two). */
export const QUEUE = 8;
// a slot: the command code, the count of workers that finished it, its arguments
const SLOTS = 7, SLOT = 2 + ARG_COUNT;
const HEADER = SLOTS + QUEUE * SLOT;

/**
 * The cell holding the code of command `generation` (1 for the first one posted). Like
 * every counter of the block, generations are Int32 and wrap after 2^31; compare them with
 * `reached`, never with `<` or `>=`.
 */
export function commandCell(generation: number): number {
  return SLOTS + (generation & (QUEUE - 1)) * SLOT;
}

/** Whether Int32 generation `a` is at or past `b`, across the wrap at 2^31. */
export function reached(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/** The Int32 generation after `g`. */
export function next(g: number): number {
  return (g + 1) | 0;
}

/** The cell counting the workers that have finished command `generation`. */
export function finishCountCell(generation: number): number {
  return commandCell(generation) + 1;
}

/** The cell of argument `i` of command `generation`. */
export function argCell(generation: number, i: number): number {
  return commandCell(generation) + 2 + i;
}

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

/** The ranks among `size` whose `cell(rank)` has not reached `generation` (stamps only grow). */
export function missingRanks(
  control: Int32Array,
  size: number,
  cell: (rank: number) => number,
  generation: number,
): number[] {
  const missing: number[] = [];
  for (let r = 0; r < size; r++) {
    if (!reached(Atomics.load(control, cell(r)), generation)) missing.push(r);
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
 * not arrive within `timeoutMs`. Before each sleep it calls `help`, work the worker may do
 * meanwhile (another worker's product), which returns whether it did some.
 */
export function barrierWait(
  control: Int32Array,
  rank: number,
  size: number,
  timeoutMs: number,
  help: (() => boolean) | null = null,
): void {
  // read the generation before arriving: it cannot move until this worker has arrived
  const generation = Atomics.load(control, BAR_GEN);
  Atomics.store(control, arrivedCell(rank), next(generation));
  if (Atomics.add(control, BAR_COUNT, 1) === size - 1) {
    Atomics.store(control, BAR_COUNT, 0);
    Atomics.add(control, BAR_GEN, 1);
    Atomics.notify(control, BAR_GEN);
    return;
  }
  const deadline = performance.now() + timeoutMs;
  while (Atomics.load(control, BAR_GEN) === generation) {
    if (Atomics.load(control, ABORT) !== 0) throw new AbortedError("barrier: the pool aborted");
    if (help?.()) continue;
    const left = deadline - performance.now();
    if (left <= 0) {
      const missing = missingRanks(control, size, arrivedCell, next(generation));
      throw new Error(
        `barrier: timed out after ${timeoutMs} ms at worker ${rank}: ` +
          `${nameWorkers(missing)} did not arrive (raise timeoutMs if steps are this slow)`,
      );
    }
    Atomics.wait(control, BAR_GEN, generation, left);
  }
}
