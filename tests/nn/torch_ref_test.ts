/**
 * Losses and layers against PyTorch 1.13: tests/fixtures/gen_nn.py records, for seeded
 * inputs, each loss's output and input gradients, and each layer's outputs, input and
 * parameter gradients and buffers over a few training and evaluation steps; this file
 * replays every case through the public API and compares.
 */

import { AssertionError } from "node:assert/strict";
import { assertMatchesOn, build, type Encoded } from "../torch_fixture.ts";
import { hasGpu, synced } from "../device.ts";
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  binaryCrossEntropyWithLogits,
  Conv2d,
  crossEntropy,
  type Device,
  Embedding,
  huberLoss,
  l1Loss,
  LayerNorm,
  Linear,
  MaxPool2d,
  type Module,
  mseLoss,
  nllLoss,
  noGrad,
  type Tensor,
} from "../../mod.ts";

/** A tensor as gen_nn.py writes it: row-major data. */
// deno-lint-ignore no-explicit-any
type Options = Record<string, any>;

interface LossCase {
  name: string;
  loss: string;
  options: Options;
  tensorOptions: Record<string, Encoded>;
  inputs: Encoded[];
  w: Encoded;
  out: Encoded;
  grads: (Encoded | null)[];
}

interface Step {
  mode: "train" | "eval";
  input: Encoded;
  w: Encoded;
  out: Encoded;
  grads: Record<string, Encoded>;
}

interface ModuleCase {
  name: string;
  module: string;
  // deno-lint-ignore no-explicit-any
  args: any[];
  options: Options;
  state: Record<string, Encoded>;
  steps: Step[];
  buffers: Record<string, Encoded>;
}

interface Fixture {
  torch: string;
  seed: number;
  losses: LossCase[];
  modules: ModuleCase[];
}

type Loss = (input: Tensor, target: Tensor, options: Options) => Tensor;

const LOSSES: Record<string, Loss> = {
  mseLoss,
  l1Loss,
  huberLoss,
  binaryCrossEntropyWithLogits,
  nllLoss,
  crossEntropy,
};

const MODULES: Record<string, (args: ModuleCase["args"], options: Options) => Module> = {
  Linear: ([i, o], options) => new Linear(i, o, options),
  Embedding: ([n, d], options) => new Embedding(n, d, options),
  BatchNorm1d: ([c], options) => new BatchNorm1d(c, options),
  BatchNorm2d: ([c], options) => new BatchNorm2d(c, options),
  LayerNorm: ([shape], options) => new LayerNorm(shape, options),
  Conv2d: ([i, o, k], options) => new Conv2d(i, o, k, options),
  MaxPool2d: ([k], options) => new MaxPool2d(k, options),
  AvgPool2d: ([k], options) => new AvgPool2d(k, options),
};

async function runLoss(c: LossCase, device: Device): Promise<void> {
  const fn = LOSSES[c.loss];
  if (fn === undefined) throw new AssertionError({ message: `${c.name}: no loss "${c.loss}"` });
  const leaves = c.inputs.map((e) => build(e, e.dtype !== "int32", device));
  const options: Options = { ...c.options };
  for (const [k, e] of Object.entries(c.tensorOptions)) options[k] = build(e, false, device);
  const out = fn(leaves[0], leaves[1], options);
  await assertMatchesOn(out, c.out, `${c.name}: output`);
  out.mul(build(c.w, false, device)).sum().backward();
  for (const [i, expected] of c.grads.entries()) {
    if (expected !== null) {
      await assertMatchesOn(leaves[i].grad, expected, `${c.name}: gradient of input ${i}`);
    }
  }
}

async function runModule(c: ModuleCase, device: Device): Promise<void> {
  const make = MODULES[c.module];
  if (make === undefined) {
    throw new AssertionError({ message: `${c.name}: no module "${c.module}"` });
  }
  const m = make(c.args, c.options);
  const params = new Map(m.namedParameters());
  noGrad(() => {
    for (const [name, e] of Object.entries(c.state)) {
      const p = params.get(name);
      if (p === undefined) throw new AssertionError({ message: `${c.name}: no parameter ${name}` });
      p.copyInPlace(build(e));
    }
  });
  m.to(device);
  for (const [k, s] of c.steps.entries()) {
    const what = `${c.name}: step ${k} (${s.mode})`;
    m.train(s.mode === "train");
    m.zeroGrad({ setToNone: true });
    const x = build(s.input, s.input.dtype !== "int32", device);
    const out = m.forward(x);
    await assertMatchesOn(out, s.out, `${what}: output`);
    out.mul(build(s.w, false, device)).sum().backward();
    for (const [name, expected] of Object.entries(s.grads)) {
      const t = name === "input" ? x : params.get(name);
      if (t === undefined) throw new AssertionError({ message: `${what}: no tensor ${name}` });
      await assertMatchesOn(t.grad, expected, `${what}: gradient of ${name}`);
    }
  }
  const buffers = new Map(m.namedBuffers());
  if (buffers.size !== Object.keys(c.buffers).length) {
    throw new AssertionError({
      message: `${c.name}: buffers ${[...buffers.keys()].join(", ")}, PyTorch has ${
        Object.keys(c.buffers).join(", ")
      }`,
    });
  }
  for (const [name, expected] of Object.entries(c.buffers)) {
    const b = buffers.get(name);
    if (b === undefined) throw new AssertionError({ message: `${c.name}: no buffer ${name}` });
    await assertMatchesOn(b, expected, `${c.name}: buffer ${name} after ${c.steps.length} steps`);
  }
}

const fixture: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/nn.json", import.meta.url)),
);
const version = fixture.torch.replace(/^(\d+\.\d+).*$/, "$1");

for (const c of fixture.losses) {
  Deno.test(`torch: ${c.loss} case ${c.name} matches PyTorch ${version}`, () => runLoss(c, "cpu"));
}
for (const c of fixture.modules) {
  Deno.test(
    `torch: ${c.module} case ${c.name} matches PyTorch ${version}`,
    () => runModule(c, "cpu"),
  );
}

// the same cases on the GPU (float32 only), in one test so they share its set-up
const float32 = (e: Encoded) => e.dtype !== "float64";
const gpuLosses = fixture.losses.filter((c) => c.inputs.every(float32));
// a cumulative BatchNorm average (momentum null) reads its batch count: CPU-only
const gpuModules = fixture.modules.filter((c) =>
  c.steps.every((s) => float32(s.input)) && c.options.momentum !== null
);
if (hasGpu) {
  Deno.test({
    name: `torch: ${gpuLosses.length + gpuModules.length} nn cases on the GPU match PyTorch ` +
      version,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: synced(async (t) => {
      for (const c of gpuLosses) await t.step(`${c.loss} ${c.name}`, () => runLoss(c, "gpu"));
      for (const c of gpuModules) {
        await t.step(`${c.module} ${c.name}`, () => runModule(c, "gpu"));
      }
    }),
  });
} else console.log("skip nn cases on the GPU: navigator.gpu has no adapter");
