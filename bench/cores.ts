/**
 * A control for parallel timings on a shared or noisy machine: `workers` workers each run
 * the MLP's forward and backward on a batch of their own (or, `command` `KERNEL`, small
 * matmuls that stay in cache), with no collective, against one worker alone, in
 * alternation. The ratio of the medians is 1.00 when the machine gives the workers a free
 * core each, and 2.00 when two of them share one.
 */
import { WorkerPool } from "../parallel/mod.ts";
import { type BenchInit, COMPUTE } from "./parallel_program.ts";

/** The median of `values`. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

/**
 * Times `rounds` compute-only commands on one worker and on `workers` at once.
 *
 * @returns The median milliseconds of each, and their ratio.
 */
export async function coreControl(
  workers = 2,
  rounds = 20,
  command = COMPUTE,
): Promise<{ one: number; many: number; ratio: number }> {
  const init: BenchInit = {
    buffers: new SharedArrayBuffer(0),
    adam: new SharedArrayBuffer(0),
    length: 0,
  };
  const program = new URL("./parallel_program.ts", import.meta.url);
  await using one = await WorkerPool.create({ workers: 1 });
  await using many = await WorkerPool.create({ workers });
  await one.load(program, init);
  await many.load(program, init);
  const times: [number[], number[]] = [[], []];
  for (let i = -2; i < rounds; i++) { // two rounds to warm up
    for (const [k, pool] of [one, many].entries()) {
      const start = performance.now();
      await pool.run(command);
      if (i >= 0) times[k].push(performance.now() - start);
    }
  }
  const [a, b] = times.map(median);
  return { one: a, many: b, ratio: b / a };
}
