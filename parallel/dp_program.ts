/**
 * The worker side of `DataParallel`. Each step, worker k gathers its share of the global
 * batch from the shared data set, runs forward and backward with its gradients landing
 * in its slice of the gradient arena, then sums shard k of the gradients across workers
 * (reduce-scatter), clips by the global norm if asked, and updates shard k of the shared
 * parameters with an optimizer that holds only that shard's state (ZeRO-1).
 * @module
 */

import type { Module } from "../nn/module.ts";
import { crossEntropy } from "../nn/loss.ts";
import type { Optimizer, OptimizerStateDict, StateValue } from "../optim/optimizer.ts";
import { tidy } from "../tensor/scope.ts";
import { Storage } from "../tensor/storage.ts";
import { Tensor } from "../tensor/tensor.ts";
import { arrayOver, type DType } from "../tensor/dtype.ts";
import { sizeOf } from "../tensor/shape.ts";
import { SharedArena } from "./arena.ts";
import { sharedView } from "./shared_floats.ts";
import { shardRange, SharedMemoryCollectives } from "./collectives.ts";
import { HelpBoards } from "./help_board.ts";
import { setMatmulExecutor } from "../tensor/cpu/matmul.ts";
import { QUEUE } from "./control.ts";
import {
  batchShare,
  type DataParallelInit,
  type ModuleSpec,
  OPTIMIZERS,
  PHASE_SLOT,
  slotOf,
  STEP,
  syncHyper,
} from "./dp_protocol.ts";
import type { WorkerContext, WorkerProgram } from "./program.ts";

type LossFn = (output: Tensor, target: Tensor) => Tensor;

/** Imports `spec.module` and returns its named export, which must be a function. */
export async function importExport(op: string, spec: ModuleSpec): Promise<
  (...args: unknown[]) => unknown
> {
  let module: Record<string, unknown>;
  try {
    module = await import(spec.module);
  } catch (e) {
    throw new Error(
      `${op}: cannot import module ${spec.module}: ${e instanceof Error ? e.message : e}`,
    );
  }
  const name = spec.export ?? "default";
  const fn = module[name];
  if (typeof fn !== "function") {
    throw new TypeError(`${op}: module ${spec.module} has no exported function ${name}`);
  }
  return fn as (...args: unknown[]) => unknown;
}

/** Sets up worker `context.rank` of a data-parallel run. */
export async function setup(
  context: WorkerContext,
  init: DataParallelInit,
): Promise<WorkerProgram> {
  const { rank, size, collectives } = context;
  const build = await importExport("DataParallel model", init.model);
  const model = build(...(init.model.args ?? [])) as Module;
  const loss: LossFn = init.loss === null
    ? (out, target) => crossEntropy(out, target)
    : (await importExport("DataParallel loss", init.loss)) as LossFn;
  const params = model.parameters();
  const shapes = params.map((p) => p.shape.join("x")).join(", ");
  const expected = init.shapes.map((s) => s.join("x")).join(", ");
  if (shapes !== expected) {
    throw new TypeError(
      `DataParallel: the model built in worker ${rank} has parameters [${shapes}], the main ` +
        `thread's [${expected}]; build it from its arguments alone`,
    );
  }
  const arena = SharedArena.attach(init.params, params);
  const length = arena.length;
  const allGrads = sharedView(init.grads);
  const gradBuffers = Array.from(
    { length: size },
    (_, r) => allGrads.subarray(length * r, length * (r + 1)),
  );
  const grad = gradBuffers[rank];
  arena.viewsOf(grad, params).forEach((g, i) => params[i].grad = g);
  // zeroed as a tensor: SIMD stores into the heap, where `fill` on shared memory is slow
  const gradTensor = new Tensor(new Storage(grad, false), [length]);

  if (init.boards !== null && collectives instanceof SharedMemoryCollectives) {
    // a worker done early helps the others with their weight gradients at the barrier
    setMatmulExecutor(new HelpBoards(init.boards, collectives).executor);
  }
  const [from, to] = shardRange(length, size, rank);
  let optimizer: Optimizer | null = null;
  if (to > from) {
    const shard = new Tensor(new Storage(arena.data, false), [to - from], [1], from);
    shard.requiresGrad = true;
    shard.grad = new Tensor(new Storage(grad, false), [to - from], [1], from);
    optimizer = new OPTIMIZERS[init.optimizer]([shard], init.options);
  }
  // the shared samples as tensors, once: each step selects its rows from them
  const samples = (buffer: SharedArrayBuffer, dtype: DType, shape: readonly number[]) => {
    const data = arrayOver(dtype, buffer);
    return new Tensor(new Storage(data, false), [data.length / sizeOf(shape), ...shape]);
  };
  const x = samples(init.x, init.xDType, init.inputShape);
  const y = samples(init.y, init.yDType, init.targetShape);
  const indexStorage = new Storage(new Int32Array(init.indices), false);
  const batchSize = indexStorage.data.length / QUEUE, keys = init.hyperKeys.length;
  const allResults = new Float64Array(init.results), allHyper = new Float64Array(init.hyper);
  let results = allResults;
  const weights = new Array<number>(size).fill(0);
  // this rank's row: milliseconds per phase, then steps (only this rank writes it)
  const timings = slotOf(new Float64Array(init.timings), rank, PHASE_SLOT.steps + 1);

  function step(): void {
    const start0 = performance.now(), waited0 = collectives.waitedMs;
    const total = context.arg(0), slot = context.arg(1);
    results = slotOf(allResults, slot, 2 * size + 1);
    const [start, count] = batchShare(total, size, rank);
    gradTensor.zeroInPlace();
    results[rank] = count === 0 ? 0 : tidy(() => {
      const mine = new Tensor(indexStorage, [count], [1], slot * batchSize + start);
      const input = x.indexSelect(0, mine), target = y.indexSelect(0, mine);
      const l = loss(model.forward(input), target);
      l.backward();
      return l.item() * count;
    });
    const computed = performance.now();
    for (let r = 0; r < size; r++) weights[r] = batchShare(total, size, r)[1] / total;
    collectives.reduceScatter(gradBuffers, weights);
    const reduced = performance.now(), waited1 = collectives.waitedMs;
    if (init.maxGradNorm !== null) clip(init.maxGradNorm);
    if (optimizer !== null) {
      syncHyper(init.hyperKeys, optimizer.paramGroups[0], slotOf(allHyper, slot, keys), true);
      optimizer.step();
    }
    const updated = performance.now(), waited2 = collectives.waitedMs;
    // a step queued behind this one must not read a shard before its owner has updated it,
    // nor zero a gradient slice that another worker is still summing
    collectives.barrier();
    // waits at barriers (in the reduce-scatter, clipping and the end) count as wait alone,
    // so reduce and update are work and the phases add up to the step
    timings[PHASE_SLOT.compute] += computed - start0;
    timings[PHASE_SLOT.reduce] += reduced - computed - (waited1 - waited0);
    timings[PHASE_SLOT.update] += updated - reduced - (waited2 - waited1);
    timings[PHASE_SLOT.wait] += collectives.waitedMs - waited0;
    timings[PHASE_SLOT.steps]++;
  }

  /** Scales shard `rank` of the gradient by the clip factor of the global 2-norm. */
  function clip(maxNorm: number): void {
    let sum = 0;
    for (let i = from; i < to; i++) sum += grad[i] * grad[i];
    results[size + rank] = sum;
    collectives.barrier();
    let all = 0;
    for (let r = 0; r < size; r++) all += results[size + r];
    const norm = Math.sqrt(all);
    if (rank === 0) results[2 * size] = norm;
    const coef = maxNorm / (norm + 1e-6);
    if (!(coef >= 1)) { for (let i = from; i < to; i++) grad[i] *= coef; }
  }

  return {
    run(command) {
      if (command !== STEP) throw new RangeError(`DataParallel worker: unknown command ${command}`);
      step();
    },
    call(name, payload) {
      if (name === "stateDict") {
        return { from, to, state: optimizer?.stateDict().state[0] ?? null };
      }
      if (name === "loadStateDict") {
        const { state, group } = payload as {
          state: Record<string, StateValue> | null;
          group: Record<string, unknown>;
        };
        if (optimizer === null) return null;
        const sd: OptimizerStateDict = {
          state: state === null ? {} : { 0: state },
          paramGroups: [{ ...group, params: [0] }],
        };
        optimizer.loadStateDict(sd);
        return null;
      }
      throw new RangeError(`DataParallel worker: unknown call ${name}`);
    },
  };
}
