/** Schedulers beyond the PyTorch fixtures: options, resuming, errors. */
import assert from "node:assert/strict";
import {
  Adagrad,
  Adam,
  CosineAnnealingLR,
  ExponentialLR,
  LinearLR,
  MultiStepLR,
  OneCycleLR,
  ReduceLROnPlateau,
  SequentialLR,
  SGD,
  StepLR,
  tensor,
  zeros,
} from "../../mod.ts";
import { throwsWith } from "./assert.ts";

/** A value typed as whatever a call wants: for tests of bad arguments. */
const bad = (value: unknown): never => value as never;

const sgd = (lr = 1) => new SGD([zeros([1], { requiresGrad: true })], { lr, momentum: 0.9 });

Deno.test("a scheduler records initialLr in each group and starts from it", () => {
  const opt = new SGD([
    { params: [zeros([1], { requiresGrad: true })] },
    { params: [zeros([1], { requiresGrad: true })], lr: 0.5 },
  ], { lr: 1 });
  const s = new ExponentialLR(opt, { gamma: 0.5 });
  assert.deepEqual(opt.paramGroups.map((g) => g.initialLr), [1, 0.5]);
  assert.deepEqual(s.baseLrs, [1, 0.5]);
  s.step();
  assert.deepEqual(s.getLastLr(), [0.5, 0.25]);
  s.getLastLr()[0] = 99; // a copy
  assert.equal(s.getLastLr()[0], 0.5);
});

Deno.test("step(epoch) jumps with the closed form, as PyTorch's deprecated form", () => {
  const opt = sgd();
  const s = new StepLR(opt, { stepSize: 3, gamma: 0.5 });
  s.step(7);
  assert.equal(s.lastEpoch, 7);
  assert.equal(opt.paramGroups[0].lr, 0.25);
  const m = new MultiStepLR(sgd(), { milestones: [2, 5], gamma: 0.1 });
  m.step(5);
  assert.ok(Math.abs(m.getLastLr()[0] - 0.01) < 1e-15);
  const c = new CosineAnnealingLR(sgd(), { tMax: 4 });
  c.step(2);
  assert.ok(Math.abs(c.getLastLr()[0] - 0.5) < 1e-15);
});

Deno.test("resuming with lastEpoch needs initialLr in every group", () => {
  throwsWith(
    () => new StepLR(sgd(), { stepSize: 2, lastEpoch: 4 }),
    TypeError,
    "StepLR: parameter group 0 has no initialLr",
  );
  const opt = sgd();
  opt.paramGroups[0].initialLr = 1;
  const s = new CosineAnnealingLR(opt, { tMax: 10, lastEpoch: 4 });
  assert.equal(s.lastEpoch, 5);
  const expected = (1 + Math.cos(Math.PI * 5 / 10)) / 2; // the closed form on the first step
  assert.ok(Math.abs(s.getLastLr()[0] - expected) < 1e-15);
});

Deno.test("OneCycleLR cycles Adam's beta1, or SGD's momentum, and refuses to overrun", () => {
  const adam = new Adam([zeros([1], { requiresGrad: true })], { betas: [0.9, 0.98] });
  const s = new OneCycleLR(adam, { maxLr: 0.1, totalSteps: 4 });
  assert.deepEqual(adam.paramGroups[0].betas, [0.95, 0.98]);
  for (let i = 0; i < 4; i++) s.step();
  assert.equal(adam.paramGroups[0].betas[1], 0.98, "beta2 untouched");
  throwsWith(() => s.step(), RangeError, "OneCycleLR: tried to step 6 times", "4 steps");
  const opt = sgd();
  new OneCycleLR(opt, { maxLr: 0.1, totalSteps: 4, maxMomentum: 0.97 });
  assert.equal((opt.paramGroups[0] as unknown as { momentum: number }).momentum, 0.97);
  const noMomentum = new OneCycleLR(sgd(), { maxLr: 0.1, totalSteps: 4, cycleMomentum: false });
  assert.equal(noMomentum.optimizer.paramGroups[0].maxMomentum, undefined);
});

Deno.test("each invalid scheduler option gets an error naming it", () => {
  const ada = new Adagrad([zeros([1], { requiresGrad: true })]);
  const cases: [() => unknown, typeof Error, string][] = [
    [
      () => new StepLR(sgd(), { stepSize: 0 }),
      RangeError,
      "StepLR: stepSize must be a positive integer, got 0",
    ],
    [() => new StepLR(sgd(), bad({})), TypeError, "StepLR: stepSize must be a number"],
    [
      () => new CosineAnnealingLR(sgd(), { tMax: 0 }),
      RangeError,
      "CosineAnnealingLR: tMax must be > 0, got 0",
    ],
    [
      () => new LinearLR(sgd(), { startFactor: 1.5 }),
      RangeError,
      "LinearLR: startFactor must be in [0, 1], got 1.5",
    ],
    [
      () => new LinearLR(sgd(), { endFactor: -1 }),
      RangeError,
      "LinearLR: endFactor must be in [0, 1], got -1",
    ],
    [
      () => new LinearLR(sgd(), { totalIters: 2.5 }),
      RangeError,
      "LinearLR: totalIters must be a positive integer, got 2.5",
    ],
    [() => new ExponentialLR(sgd(), bad({})), TypeError, "ExponentialLR: gamma must be a number"],
    [
      () => new MultiStepLR(sgd(), bad({ milestones: 3 })),
      TypeError,
      "MultiStepLR: milestones must be an array",
    ],
    [
      () => new OneCycleLR(sgd(), bad({ maxLr: 1 })),
      TypeError,
      "OneCycleLR: give totalSteps, or epochs and stepsPerEpoch",
    ],
    [
      () => new OneCycleLR(sgd(), { maxLr: 1, totalSteps: -3 }),
      RangeError,
      "OneCycleLR: totalSteps must be a positive integer, got -3",
    ],
    [
      () => new OneCycleLR(sgd(), { maxLr: 1, epochs: 2 }),
      TypeError,
      "OneCycleLR: stepsPerEpoch must be a number",
    ],
    [
      () => new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 5, pctStart: 1.5 }),
      RangeError,
      "OneCycleLR: pctStart must be in [0, 1], got 1.5",
    ],
    [
      () => new OneCycleLR(sgd(), { maxLr: 1, totalSteps: 5, annealStrategy: bad("exp") }),
      RangeError,
      'annealStrategy must be "cos" or "linear", got exp',
    ],
    [
      () => new OneCycleLR(sgd(), { maxLr: [1, 2], totalSteps: 5 }),
      RangeError,
      "OneCycleLR: expected 1 values for maxLr, got 2",
    ],
    [
      () => new OneCycleLR(ada, { maxLr: 1, totalSteps: 5 }),
      TypeError,
      "cycleMomentum needs an optimizer with momentum or betas; Adagrad",
    ],
    [
      () => new ReduceLROnPlateau(sgd(), { factor: 1 }),
      RangeError,
      "ReduceLROnPlateau: factor must be < 1, got 1",
    ],
    [
      () => new ReduceLROnPlateau(sgd(), { mode: bad("up") }),
      RangeError,
      'mode must be "min" or "max", got up',
    ],
    [
      () => new ReduceLROnPlateau(sgd(), { thresholdMode: bad("x") }),
      RangeError,
      'thresholdMode must be "rel" or "abs", got x',
    ],
    [
      () => new ReduceLROnPlateau(sgd(), { minLr: [0, 0] }),
      RangeError,
      "expected 1 values for minLr, got 2",
    ],
    [
      () => new StepLR(bad({}), { stepSize: 1 }),
      TypeError,
      "StepLR: the first argument must be an Optimizer",
    ],
  ];
  for (const [fn, cls, message] of cases) throwsWith(fn, cls, message);
});

Deno.test("SequentialLR checks its schedulers and milestones", () => {
  const opt = sgd(), other = sgd();
  const a = new LinearLR(opt), b = new ExponentialLR(opt, { gamma: 0.9 });
  throwsWith(
    () => new SequentialLR(opt, { schedulers: [a, b], milestones: [] }),
    RangeError,
    "SequentialLR: expected 1 milestone(s) for 2 schedulers, got 0",
  );
  throwsWith(
    () =>
      new SequentialLR(opt, {
        schedulers: [a, new ExponentialLR(other, { gamma: 0.5 })],
        milestones: [3],
      }),
    TypeError,
    "SequentialLR: schedulers[1] drives another optimizer",
  );
});

Deno.test("ReduceLROnPlateau takes a tensor metric and respects minLr and eps", () => {
  const opt = sgd(0.1);
  const s = new ReduceLROnPlateau(opt, { patience: 0, factor: 0.5, minLr: 0.04 });
  s.step(tensor(1));
  s.step(tensor([1])); // no improvement: 0.05
  s.step(1); // 0.04 (the floor)
  s.step(1); // stays: nothing left to reduce
  assert.deepEqual(s.getLastLr(), [0.04]);
  throwsWith(() => s.step(tensor([1, 2])), TypeError, "item");
});

Deno.test("ReduceLROnPlateau's state survives JSON before its first step", () => {
  const s = new ReduceLROnPlateau(sgd(), { mode: "max" });
  const saved = JSON.parse(JSON.stringify(s.stateDict()));
  assert.equal(saved.best, null); // -Infinity has no JSON form
  const t = new ReduceLROnPlateau(sgd(), { mode: "max" });
  t.loadStateDict(saved);
  assert.equal(t.best, -Infinity);
});
