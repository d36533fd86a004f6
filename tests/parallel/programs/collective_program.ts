/** A test program: runs one collective per command over buffers the test fills. */
import type { WorkerContext, WorkerProgram } from "../../../parallel/mod.ts";

export interface CollectiveInit {
  buffers: SharedArrayBuffer;
  length: number;
}

export const REDUCE_SCATTER = 1, ALL_REDUCE = 2, BROADCAST = 3, SLOW_BARRIER = 4, THROW = 5;
/** Rank arg(0) (every rank for -1) sleeps arg(1) ms, with no barrier after. */
export const SLEEP = 6;
/** Every rank writes arg(0) at position arg(1) of its buffer, after the value there + 1. */
export const RECORD = 7;

export function setup(ctx: WorkerContext, init: CollectiveInit): WorkerProgram {
  const all = new Float32Array(init.buffers);
  const buffers = Array.from(
    { length: ctx.size },
    (_, r) => all.subarray(r * init.length, (r + 1) * init.length),
  );
  const weights = Array.from({ length: ctx.size }, (_, r) => 1 / (r + 1));
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  return {
    run(command) {
      switch (command) {
        case REDUCE_SCATTER:
          ctx.collectives.reduceScatter(buffers, weights);
          break;
        case ALL_REDUCE:
          ctx.collectives.allReduce(buffers);
          break;
        case BROADCAST:
          ctx.collectives.broadcast(buffers, ctx.arg(0));
          break;
        case SLOW_BARRIER:
          if (ctx.rank === ctx.arg(0)) Atomics.wait(sleeper, 0, 0, ctx.arg(1));
          ctx.collectives.barrier();
          break;
        case SLEEP:
          if (ctx.arg(0) === -1 || ctx.rank === ctx.arg(0)) Atomics.wait(sleeper, 0, 0, ctx.arg(1));
          break;
        case RECORD: {
          const own = buffers[ctx.rank], at = ctx.arg(1);
          own[at] = ctx.arg(0) + (at > 0 ? own[at - 1] : 0);
          break;
        }
        case THROW:
          if (ctx.rank === ctx.arg(0)) throw new RangeError(`rank ${ctx.rank} throws on purpose`);
          ctx.collectives.barrier();
          break;
      }
    },
    call(name, payload) {
      if (name === "echo") return { rank: ctx.rank, payload };
      if (name === "waited") return ctx.collectives.waitedMs;
      throw new Error(`unknown call ${name}`);
    },
  };
}
