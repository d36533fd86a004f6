/**
 * The worker program behind bench/parallel_bench.ts and bench/cores.ts: a reduce-scatter
 * over two shared buffers, a sharded Adam step over shared parameters, the MLP's forward
 * and backward on a batch of the worker's own, small matmuls that stay in cache, and an
 * echo for message round trips.
 */
import {
  adamUpdate,
  crossEntropy,
  manualSeed,
  type Module,
  rand,
  randint,
  type Tensor,
  tidy,
} from "../mod.ts";
import { reduceRange, shardRange } from "../parallel/collectives.ts";
import type { WorkerContext, WorkerProgram } from "../parallel/mod.ts";
import { buildModel } from "../examples/lib/models.ts";

export const REDUCE = 1, ADAM = 2;
/**
 * Forward and backward of the Fashion-MNIST MLP on 128 samples of the worker's own, with no
 * collective: N workers take as long as one when the machine gives them N free cores.
 */
export const COMPUTE = 3;
/**
 * 200 products of two 64 x 64 matrices (48 KiB in all, so they stay in the core's cache):
 * arithmetic alone. N workers take as long as one unless they share arithmetic units.
 */
export const KERNEL = 4;

export interface BenchInit {
  /** Two buffers of `length` floats, back to back: what reduce-scatter sums. */
  buffers: SharedArrayBuffer;
  /** Parameters, then gradients, `length` floats each. */
  adam: SharedArrayBuffer;
  length: number;
}

export function setup(ctx: WorkerContext, init: BenchInit): WorkerProgram {
  const n = init.length;
  const buffers = [0, 1].map((r) => new Float32Array(init.buffers, 4 * n * r, n));
  const [from, to] = shardRange(n, ctx.size, ctx.rank);
  // ZeRO-1: each worker holds the moments of its shard only, and views that shard
  const param = new Float32Array(init.adam, 4 * from, to - from);
  const grad = new Float32Array(init.adam, 4 * (n + from), to - from);
  const state = { m: new Float32Array(to - from), v: new Float32Array(to - from) };
  let step = 0;
  let mlp: { model: Module; x: Tensor; y: Tensor } | null = null;
  let small: [Tensor, Tensor] | null = null;
  return {
    run(command) {
      if (command === REDUCE) {
        // with one worker this is a plain single-thread sum of the two buffers
        const [a, b] = shardRange(n, ctx.size, ctx.rank);
        ctx.collectives.barrier();
        reduceRange(buffers, undefined, buffers[ctx.rank % 2], a, b);
      } else if (command === KERNEL) {
        small ??= [rand([64, 64]), rand([64, 64])];
        const [a, b] = small;
        for (let i = 0; i < 200; i++) tidy(() => a.matmul(b).realize());
      } else if (command === COMPUTE) {
        if (mlp === null) {
          manualSeed(ctx.rank);
          const x = rand([128, 1, 28, 28]), y = randint(0, 10, [128]);
          mlp = { model: buildModel("mlp", [1, 28, 28], 10), x, y };
        }
        const { model, x, y } = mlp;
        // zeroed in place, as the trainer does: a dropped gradient would go back to the heap
        // only through the collector, and this loop never yields to it
        model.zeroGrad();
        tidy(() => crossEntropy(model.forward(x), y).backward());
      } else if (command === ADAM) {
        adamUpdate(
          param,
          grad,
          state,
          {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weightDecay: 0,
            amsgrad: false,
            maximize: false,
            step: ++step,
          },
          0,
          to - from,
        );
      }
    },
    call(_name, payload) {
      return payload;
    },
  };
}
