/**
 * The script every pool worker runs. Messages set it up and load a program; then it
 * waits on the control block for commands: a short blocking wait first (a command that
 * follows closely wakes it in microseconds), then `Atomics.waitAsync`, so that messages
 * still get through while it idles.
 * @module
 */

import { parentPort } from "node:worker_threads";
import { adoptHeap } from "../tensor/heap.ts";
import { SharedMemoryCollectives } from "./collectives.ts";
import {
  ABORT,
  AbortedError,
  argCell,
  Command,
  commandCell,
  DONE,
  finishCountCell,
  finishedCell,
  GO,
  markFailed,
  next,
  reached,
  WAKE,
} from "./control.ts";
import { errorInfo, type FromWorker, type ToWorker } from "./messages.ts";
import type { ProgramSetup, WorkerContext, WorkerProgram } from "./program.ts";

// How long a worker blocks waiting for the next command before it yields to its event loop.
const SPIN_MS = 2;

let context: WorkerContext | null = null;
let program: WorkerProgram | null = null;

const port = parentPort!;

function post(message: FromWorker): void {
  port.postMessage(message);
}

/** The generation of the command being run (the program's `context.arg` reads its slot). */
let current = 0;

async function loop(ctx: WorkerContext, control: Int32Array): Promise<void> {
  for (;;) {
    if (Atomics.load(control, ABORT) !== 0) return;
    if (Atomics.load(control, GO) === current) {
      if (Atomics.wait(control, GO, current, SPIN_MS) === "timed-out") {
        const wait = Atomics.waitAsync(control, GO, current);
        if (wait.async) await wait.value;
      }
      continue;
    }
    // the next command in order, even when the main thread has posted another behind it
    const generation = current = next(current);
    const command = Atomics.load(control, commandCell(generation));
    if (command === Command.exit) return;
    try {
      if (command !== Command.noop) {
        if (program === null) throw new Error(`command ${command} arrived before any program`);
        program.run(command);
      }
    } catch (e) {
      const aborted = e instanceof AbortedError;
      if (!aborted) markFailed(control, ctx.rank);
      post({ type: "failed", error: errorInfo(e), aborted });
      return;
    }
    Atomics.store(control, finishedCell(ctx.rank), generation);
    // every worker finishes command g before g + 1, so DONE moves up one command at a time
    if (Atomics.add(control, finishCountCell(generation), 1) === ctx.size - 1) {
      Atomics.store(control, finishCountCell(generation), 0);
      Atomics.add(control, DONE, 1);
      // the main thread sets WAKE before it reads DONE to wait on it: no wake-up is lost
      if (reached(generation, Atomics.load(control, WAKE))) Atomics.notify(control, DONE);
    }
  }
}

async function handle(message: ToWorker): Promise<void> {
  if (message.type === "init") {
    // first, before anything allocates: shared tensors then lie in this thread's heap too
    if (message.heap !== null) adoptHeap(message.heap);
    const c = message.control;
    context = {
      rank: message.rank,
      size: message.size,
      timeoutMs: message.timeoutMs,
      collectives: new SharedMemoryCollectives(c, message.rank, message.size, message.timeoutMs),
      arg: (i: number) => Atomics.load(c, argCell(current, i)),
    };
    post({ type: "ready" });
    loop(context, c).catch((e) => post({ type: "failed", error: errorInfo(e), aborted: false }));
    return;
  }
  try {
    if (context === null) throw new Error(`message ${message.type} arrived before init`);
    if (message.type === "load") {
      const module = await import(message.url);
      const setup = module.setup as ProgramSetup | undefined;
      if (typeof setup !== "function") {
        throw new TypeError(`${message.url} does not export a setup(context, init) function`);
      }
      program = await setup(context, message.init);
      post({ type: "reply", id: message.id, ok: true, value: null });
    } else {
      if (program?.call === undefined) {
        throw new Error(`call ${message.name}: the loaded program takes no calls`);
      }
      const value = await program.call(message.name, message.payload);
      post({ type: "reply", id: message.id, ok: true, value });
    }
  } catch (e) {
    post({ type: "reply", id: message.id, ok: false, error: errorInfo(e) });
  }
}

port.on("message", (message: ToWorker) => {
  handle(message);
});
