/**
 * optim/ against PyTorch 1.13: tests/fixtures/gen_optim.py records 50 steps of every
 * optimizer and option combination on a 7-element parameter fed a stored gradient
 * sequence, each scheduler's rates over 50 steps, and gradient clipping; this file replays
 * them through the public API.
 */
import {
  Adagrad,
  Adam,
  AdamW,
  clipGradNorm,
  clipGradValue,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  type LRScheduler,
  MultiStepLR,
  OneCycleLR,
  type Optimizer,
  ReduceLROnPlateau,
  RMSprop,
  SequentialLR,
  SGD,
  StepLR,
  type Tensor,
  tensor,
} from "../../mod.ts";
import { assertClose, jsonRoundTrip } from "./assert.ts";
import assert from "node:assert/strict";

interface OptimizerCase {
  name: string;
  optimizer: "Adam" | "AdamW" | "SGD" | "RMSprop" | "Adagrad";
  options: Record<string, unknown>;
  dtype: "float32" | "float64";
  params: number[][];
  state: Record<string, number | number[] | null>;
}

interface SchedulerSpec {
  scheduler: string;
  options: Record<string, unknown>;
}

interface SchedulerCase {
  name: string;
  spec: SchedulerSpec & { optimizer: "SGD" | "Adam"; lrs: number[]; schedulers?: SchedulerSpec[] };
  lrs: number[][];
  momentum?: number[][];
  /** ReduceLROnPlateau's metric per step. */
  metrics?: number[];
}

interface ClipCase {
  kind: "norm" | "value";
  maxNorm?: number;
  normType?: number | "inf";
  clipValue?: number;
  total?: number;
  grads: number[][];
}

const fixture = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/optim.json", import.meta.url)),
) as {
  p0: number[];
  grads: number[][];
  optimizers: OptimizerCase[];
  schedulers: SchedulerCase[];
  clip: { shapes: number[][]; grads: number[][]; cases: ClipCase[] };
};

const OPTIMIZERS: Record<string, new (params: Tensor[], options: never) => Optimizer> = {
  Adam,
  AdamW,
  SGD,
  RMSprop,
  Adagrad,
};

/** Tolerances: float32 runs may differ from PyTorch's float32 rounding; float64 barely. */
function tolerance(dtype: string): [number, number] {
  return dtype === "float64" ? [1e-10, 1e-13] : [1e-4, 1e-6];
}

for (const c of fixture.optimizers) {
  Deno.test(`${c.optimizer} matches PyTorch over 50 steps: ${c.name} (${c.dtype})`, () => {
    const [rtol, atol] = tolerance(c.dtype);
    const p = tensor(fixture.p0, { dtype: c.dtype, requiresGrad: true });
    const opt = new OPTIMIZERS[c.optimizer]([p], c.options as never);
    fixture.grads.forEach((g, t) => {
      p.grad = tensor(g, { dtype: c.dtype });
      opt.step();
      assertClose(p.toArray(), c.params[t], `${c.name} param after step ${t + 1}`, rtol, atol);
    });
    const state = opt.stateDict().state[0];
    assert.deepEqual(Object.keys(state).sort(), Object.keys(c.state).sort(), "state keys");
    for (const [key, expected] of Object.entries(c.state)) {
      const actual = state[key];
      if (expected === null || typeof expected === "number") assert.equal(actual, expected, key);
      else {
        assertClose(actual as Float32Array, expected, `${c.name} state ${key}`, rtol, atol);
        assert.ok(actual instanceof (c.dtype === "float64" ? Float64Array : Float32Array));
      }
    }
  });
}

/** The scheduler a spec describes, over `opt` (SequentialLR builds its children first). */
function buildScheduler(
  spec: SchedulerCase["spec"],
  opt: Optimizer,
): LRScheduler | ReduceLROnPlateau {
  const make = (s: SchedulerSpec): LRScheduler | ReduceLROnPlateau => {
    const o = s.options as never;
    switch (s.scheduler) {
      case "StepLR":
        return new StepLR(opt, o);
      case "MultiStepLR":
        return new MultiStepLR(opt, o);
      case "ExponentialLR":
        return new ExponentialLR(opt, o);
      case "CosineAnnealingLR":
        return new CosineAnnealingLR(opt, o);
      case "LinearLR":
        return new LinearLR(opt, o);
      case "OneCycleLR":
        return new OneCycleLR(opt, o);
      case "ReduceLROnPlateau":
        return new ReduceLROnPlateau(opt, o);
    }
    throw new Error(`unknown scheduler ${s.scheduler}`);
  };
  if (spec.scheduler !== "SequentialLR") return make(spec);
  const schedulers = spec.schedulers!.map((s) => make(s) as LRScheduler);
  return new SequentialLR(opt, { schedulers, milestones: spec.options.milestones as number[] });
}

function buildOptimizer(spec: SchedulerCase["spec"]): Optimizer {
  const groups = spec.lrs.map((lr) => ({ params: [tensor([0], { requiresGrad: true })], lr }));
  return spec.optimizer === "Adam"
    ? new Adam(groups, { lr: spec.lrs[0] })
    : new SGD(groups, { lr: spec.lrs[0], momentum: 0.9 });
}

function momentumOf(opt: Optimizer, spec: SchedulerCase["spec"]): number[] {
  return opt.paramGroups.map((g) =>
    spec.optimizer === "Adam"
      ? (g as unknown as { betas: number[] }).betas[0]
      : (g as unknown as { momentum: number }).momentum
  );
}

/** Steps `scheduler` from step `from` to the end, comparing with the fixture. */
function replay(
  c: SchedulerCase,
  opt: Optimizer,
  scheduler: LRScheduler | ReduceLROnPlateau,
  from: number,
): void {
  const check = (t: number) => {
    assertClose(scheduler.getLastLr(), c.lrs[t], `${c.name} lr at step ${t}`, 1e-10, 1e-15);
    assertClose(opt.paramGroups.map((g) => g.lr), c.lrs[t], `${c.name} group lr`, 1e-10, 1e-15);
    if (c.momentum) {
      assertClose(momentumOf(opt, c.spec), c.momentum[t], `${c.name} momentum`, 1e-10, 1e-15);
    }
  };
  check(from);
  for (let t = from; t < c.lrs.length - 1; t++) {
    opt.step();
    if (scheduler instanceof ReduceLROnPlateau) scheduler.step(c.metrics![t]);
    else scheduler.step();
    check(t + 1);
  }
}

for (const c of fixture.schedulers) {
  Deno.test(`${c.spec.scheduler} matches PyTorch's rates: ${c.name}`, () => {
    const opt = buildOptimizer(c.spec);
    replay(c, opt, buildScheduler(c.spec, opt), 0);
  });

  Deno.test(`${c.spec.scheduler} resumes from JSON state dicts mid-schedule: ${c.name}`, () => {
    const opt = buildOptimizer(c.spec);
    const scheduler = buildScheduler(c.spec, opt);
    const at = 17;
    for (let t = 0; t < at; t++) {
      opt.step();
      if (scheduler instanceof ReduceLROnPlateau) scheduler.step(c.metrics![t]);
      else scheduler.step();
    }
    const saved = jsonRoundTrip({ opt: opt.stateDict(), sched: scheduler.stateDict() });
    const opt2 = buildOptimizer(c.spec);
    const scheduler2 = buildScheduler(c.spec, opt2);
    opt2.loadStateDict(saved.opt);
    scheduler2.loadStateDict(saved.sched);
    replay(c, opt2, scheduler2, at);
  });
}

function clipParams(): Tensor[] {
  return fixture.clip.shapes.map((shape, i) => {
    const p = tensor(new Float32Array(fixture.clip.grads[i].length), { shape, requiresGrad: true });
    p.grad = tensor(fixture.clip.grads[i], { shape });
    return p;
  });
}

for (const c of fixture.clip.cases) {
  const label = c.kind === "norm"
    ? `clipGradNorm(maxNorm ${c.maxNorm}, normType ${c.normType})`
    : `clipGradValue(${c.clipValue})`;
  Deno.test(`${label} matches PyTorch's total norm and clipped gradients`, () => {
    const params = clipParams();
    if (c.kind === "norm") {
      const normType = c.normType === "inf" ? Infinity : c.normType;
      const total = clipGradNorm(params, c.maxNorm!, { normType });
      assertClose([total], [c.total!], "total norm", 1e-6, 0);
    } else {
      clipGradValue(params, c.clipValue!);
    }
    params.forEach((p, i) => assertClose(p.grad!.toArray(), c.grads[i], `grad ${i}`, 1e-6, 1e-7));
  });
}
