import assert from "node:assert/strict";
import { allocShared, WorkerError, WorkerPool } from "../../parallel/mod.ts";
import { heapAlloc, heapBytes } from "../../tensor/heap.ts";
import {
  ALL_REDUCE,
  BROADCAST,
  RECORD,
  REDUCE_SCATTER,
  SLEEP,
  SLOW_BARRIER,
  THROW,
} from "./programs/collective_program.ts";
import { FILL } from "./programs/heap_program.ts";
import { rejectsWith } from "./assert_error.ts";
import { commandCell, next, QUEUE, reached } from "../../parallel/control.ts";

const PROGRAM = new URL("./programs/collective_program.ts", import.meta.url);

/** A pool of `workers` running the collective test program over `length` floats per rank. */
async function collectivePool(workers: number, length: number, timeoutMs = 10_000) {
  const buffers = new SharedArrayBuffer(4 * workers * length);
  const pool = await WorkerPool.create({ workers, timeoutMs });
  await pool.load(PROGRAM, { buffers, length });
  const all = new Float32Array(buffers);
  const rank = (r: number) => all.subarray(r * length, (r + 1) * length);
  return { pool, all, rank };
}

Deno.test("WorkerPool runs no-op round trips and answers calls by rank", async () => {
  await using pool = await WorkerPool.create({ workers: 2 });
  for (let i = 0; i < 50; i++) await pool.run(0);
  await pool.load(PROGRAM, { buffers: new SharedArrayBuffer(8), length: 1 });
  const replies = await pool.call("echo", ["a", "b"], true);
  assert.deepEqual(replies, [{ rank: 0, payload: "a" }, { rank: 1, payload: "b" }]);
});

Deno.test("reduceScatter leaves each rank the weighted sum of its shard, in rank order", async () => {
  const length = 100;
  const { pool, all, rank } = await collectivePool(3, length);
  try {
    for (let i = 0; i < all.length; i++) all[i] = Math.sin(i) * 10;
    const before = all.slice();
    await pool.run(REDUCE_SCATTER);
    // the program weights rank r by 1 / (r + 1); shards are 48, 48 and 4 elements wide
    const shards = [[0, 48], [48, 96], [96, 100]];
    shards.forEach(([from, to], r) => {
      for (let i = from; i < to; i++) {
        let s = 0;
        for (let q = 0; q < 3; q++) s += before[q * length + i] / (q + 1);
        assert.equal(rank(r)[i], Math.fround(s), `rank ${r} element ${i}`);
      }
    });
  } finally {
    pool.close();
  }
});

Deno.test("reduceScatter on one worker leaves its buffer as it was", async () => {
  const { pool, all } = await collectivePool(1, 20);
  try {
    for (let i = 0; i < all.length; i++) all[i] = Math.cos(i) / 3;
    const before = all.slice();
    await pool.run(REDUCE_SCATTER); // rank 0's weight is 1
    assert.deepEqual(all, before);
  } finally {
    pool.close();
  }
});

Deno.test("allReduce and broadcast leave every rank the same buffer", async () => {
  const length = 37;
  const { pool, all, rank } = await collectivePool(2, length);
  try {
    for (let i = 0; i < all.length; i++) all[i] = i * 0.25;
    await pool.run(ALL_REDUCE);
    for (let i = 0; i < length; i++) {
      assert.equal(rank(0)[i], i * 0.25 + (i + length) * 0.25);
      assert.equal(rank(1)[i], rank(0)[i]);
    }
    rank(1).fill(7);
    await pool.run(BROADCAST, [1]);
    assert.deepEqual([...rank(0)], new Array(length).fill(7));
  } finally {
    pool.close();
  }
});

Deno.test("a worker that throws fails the command with its error and stack", async () => {
  const { pool } = await collectivePool(2, 4);
  await assert.rejects(
    () => pool.run(THROW, [1]),
    (e: unknown) => {
      assert(e instanceof WorkerError);
      assert.equal(e.rank, 1);
      assert.match(e.message, /worker 1 failed: RangeError: rank 1 throws on purpose/);
      assert.match(e.message, /collective_program\.ts/); // the stack
      return true;
    },
  );
  assert(pool.closed);
  await assert.rejects(() => pool.run(0), WorkerError);
});

Deno.test("a worker that throws fails the queued command behind it too", async () => {
  const { pool } = await collectivePool(2, 4);
  const first = pool.run(THROW, [1]);
  const second = pool.run(RECORD, [1, 0]);
  for (const run of [first, second]) {
    await assert.rejects(() => run, (e: unknown) => {
      assert(e instanceof WorkerError);
      assert.match(e.message, /worker 1 failed: RangeError: rank 1 throws on purpose/);
      return true;
    });
  }
  assert(pool.closed);
});

Deno.test("a queued command's timeout starts when the one before it finishes", async () => {
  const { pool } = await collectivePool(2, 4, 300);
  try {
    // each within its own 300 ms (+1 s of grace), but not within one clock from the first post
    const first = pool.run(SLEEP, [1, 1000]);
    const second = pool.run(SLEEP, [1, 800]);
    await Promise.all([first, second]);
  } finally {
    pool.close();
  }
});

Deno.test("a queued command behind one that times out fails with its error, named", async () => {
  const { pool } = await collectivePool(2, 4, 100);
  const first = pool.run(SLEEP, [1, 3000]);
  const second = pool.run(RECORD, [1, 0]);
  for (const run of [first, second]) {
    await rejectsWith(
      () => run,
      Error,
      "WorkerPool: command 6 timed out after 100 ms: worker 1 did not finish",
    );
  }
  assert(pool.closed);
});

Deno.test("command generations wrap at 2^31 and still compare in order", () => {
  const last = 2 ** 31 - 1, wrapped = next(last);
  assert.equal(wrapped, -(2 ** 31));
  assert.ok(reached(wrapped, last) && !reached(last, wrapped));
  assert.ok(reached(next(wrapped), wrapped) && reached(wrapped, wrapped));
  assert.notEqual(commandCell(wrapped), commandCell(last));
  assert.equal(commandCell(wrapped), commandCell((wrapped + QUEUE) | 0));
});

Deno.test("a barrier timeout names the worker that did not arrive", async () => {
  const { pool } = await collectivePool(2, 4, 200);
  await assert.rejects(
    () => pool.run(SLOW_BARRIER, [1, 2000]),
    (e: unknown) => {
      assert(e instanceof WorkerError);
      assert.match(
        e.message,
        /barrier: timed out after 200 ms at worker 0: worker 1 did not arrive/,
      );
      return true;
    },
  );
  assert(pool.closed);
});

Deno.test("collectives count the time each rank waits at barriers", async () => {
  const { pool } = await collectivePool(2, 4);
  try {
    await pool.run(SLOW_BARRIER, [1, 150]); // rank 1 arrives 150 ms after rank 0
    const [first, last] = await pool.call("waited") as number[];
    assert(first >= 120, `rank 0 waited ${first} ms for a rank 150 ms late`);
    assert(last < first - 100, `rank 1 arrived last but counts ${last} ms of waiting`);
  } finally {
    pool.close();
  }
});

Deno.test("the main thread's event loop runs while the workers work", async () => {
  const { pool } = await collectivePool(2, 4);
  try {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    await pool.run(SLEEP, [-1, 300]);
    clearInterval(timer);
    assert(ticks >= 5, `only ${ticks} timer ticks during a 300 ms command`);
  } finally {
    pool.close();
  }
});

Deno.test("commands posted while others run are queued, and run in order with their own arguments", async () => {
  const { pool, rank } = await collectivePool(2, 8);
  try {
    const order: string[] = [];
    const first = pool.run(SLEEP, [-1, 100]).then(() => order.push("sleep"));
    // posted while the workers sleep: each reads its own arguments, after the one before it
    const second = pool.run(RECORD, [5, 0]).then(() => order.push("record"));
    const noops = Array.from({ length: QUEUE - 2 }, () => pool.run(0));
    await rejectsWith(
      () => pool.run(0),
      Error,
      "WorkerPool.run: 8 commands are already in flight; await one of them first",
    );
    await Promise.all([first, second, ...noops]);
    assert.deepEqual(order, ["sleep", "record"]);
    for (let i = 1; i < 8; i++) {
      const next = pool.run(RECORD, [10 * i, i]);
      if (i % 2 === 1) continue; // two in flight, then await both
      await next;
    }
    await pool.run(0);
    // each value is the one before plus the command's own argument: they ran in order
    const want = [5, 15, 35, 65, 105, 155, 215, 285];
    assert.deepEqual([...rank(0)], want);
    assert.deepEqual([...rank(1)], want);
  } finally {
    pool.close();
  }
});

Deno.test("with the queue full, the main thread sleeps until half of it has drained", async () => {
  const { pool } = await collectivePool(2, 4);
  try {
    const start = performance.now();
    const runs = Array.from({ length: QUEUE }, () => pool.run(SLEEP, [-1, 20]));
    await runs[0];
    // the first is done after 20 ms, but the wake comes when QUEUE / 2 (4) have finished
    const waited = performance.now() - start;
    assert(waited >= 75, `the oldest command resolved after ${waited} ms, before 4 had finished`);
    await Promise.all(runs);
  } finally {
    pool.close();
  }
});

Deno.test("every run resolves once its command is done, however the runs are awaited", async () => {
  // a lost wake-up would leave a run waiting a quarter of the 60 s timeout
  const { pool, rank } = await collectivePool(2, 64, 60_000);
  const deadline = async <T>(run: Promise<T>) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const lost = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("a wake-up was lost")), 5000);
    });
    try {
      return await Promise.race([run, lost]);
    } finally {
      clearTimeout(timer); // else it fires later, in another test, as an unhandled rejection
    }
  };
  try {
    let at = 0;
    const post = () => {
      at++;
      return pool.run(RECORD, [1, at - 1]);
    };
    // one at a time: a command can finish between a run's check and its wait
    for (let i = 0; i < 200; i++) await deadline(pool.run(0));
    // only the newest awaited
    const newest = Array.from({ length: QUEUE }, post);
    await deadline(newest[QUEUE - 1]);
    // each in order
    for (const run of Array.from({ length: QUEUE }, post)) await deadline(run);
    // the queue kept full, the oldest awaited before each post past it
    const inFlight: Promise<void>[] = [];
    while (at < 64) {
      inFlight.push(post());
      if (inFlight.length === QUEUE) await deadline(inFlight.shift()!);
    }
    await deadline(Promise.all(inFlight));
    assert.deepEqual([...rank(0)], Array.from({ length: 64 }, (_, i) => i + 1));
  } finally {
    pool.close();
  }
});

Deno.test("a worker that never finishes times out the command, named", async () => {
  const { pool } = await collectivePool(2, 4, 100);
  await rejectsWith(
    () => pool.run(SLEEP, [1, 3000]),
    Error,
    "WorkerPool: command 6 timed out after 100 ms: worker 1 did not finish",
  );
  assert(pool.closed);
});

Deno.test("WorkerPool rejects bad options and misuse clearly", async () => {
  await rejectsWith(
    () => WorkerPool.create({ workers: 0 }),
    RangeError,
    "WorkerPool: workers must be a positive integer, got 0",
  );
  await rejectsWith(
    () => WorkerPool.create({ timeoutMs: -1 }),
    RangeError,
    "WorkerPool: timeoutMs must be a positive number, got -1",
  );
  const pool = await WorkerPool.create({ workers: 1 });
  await rejectsWith(
    () => pool.run(0, new Array(17).fill(0)),
    RangeError,
    "WorkerPool.run: at most 16 arguments, got 17",
  );
  await pool.run(0, new Array(16).fill(0)); // the pool stays usable after a rejected call
  await assert.rejects(
    () => pool.load(new URL("./programs/missing.ts", import.meta.url)),
    (e: unknown) => e instanceof WorkerError && /missing\.ts/.test(e.message),
  );
  await assert.rejects(
    () => pool.run(1),
    /worker 0 failed: Error: command 1 arrived before any program/,
  );
  assert(pool.closed);
  await assert.rejects(() => pool.run(0), /command 1 arrived before any program/);
  pool.close();
});

Deno.test("workers share the main thread's heap: same addresses, separate allocations", async () => {
  const workers = 2, part = 4096;
  const { view, shared } = allocShared(workers * part);
  assert.equal(shared.heap, true, "the main thread has a heap");
  const addresses = new SharedArrayBuffer(4 * workers);
  await using pool = await WorkerPool.create({ workers });
  await pool.load(new URL("./programs/heap_program.ts", import.meta.url), { shared, addresses });
  const top = heapBytes(); // every block the main thread holds lies below
  await pool.run(FILL);
  const blocks = [...new Int32Array(addresses)];
  for (let r = 0; r < workers; r++) {
    assert.ok(view.subarray(r * part, (r + 1) * part).every((v) => v === r + 1), `rank ${r}`);
    assert.ok(blocks[r] >= top, `rank ${r}'s block at ${blocks[r]} is not past ${top}`);
  }
  assert.ok(Math.abs(blocks[0] - blocks[1]) >= 4 * part, "the workers' blocks overlap");
  const mine = heapAlloc(4 * part); // and the main thread's next range is none of theirs
  assert.ok(blocks.every((b) => mine >= b + 4 * part || mine + 4 * part <= b));
});
