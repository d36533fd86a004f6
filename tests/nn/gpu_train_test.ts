/**
 * Training on the GPU: a small MLP and a small CNN with Adam follow the same trajectory as
 * on the CPU, and 100 training steps leave no GPU buffer behind.
 */
import assert from "node:assert/strict";
import {
  Adam,
  Conv2d,
  crossEntropy,
  type Device,
  Flatten,
  Linear,
  manualSeed,
  MaxPool2d,
  memory,
  type Module,
  rand,
  randint,
  ReLU,
  Sequential,
  tidy,
} from "../../mod.ts";
import { hasGpu, synced } from "../device.ts";

function mlp(): Module {
  return new Sequential(new Linear(6, 16), new ReLU(), new Linear(16, 3));
}

function cnn(): Module {
  return new Sequential(
    new Conv2d(1, 4, 3, { padding: 1 }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(4 * 3 * 3, 3),
  );
}

/** Trains `build()` for `steps` Adam steps on fixed data; returns the losses and weights. */
async function train(
  build: () => Module,
  inputShape: number[],
  steps: number,
  device: Device,
): Promise<{ losses: number[]; weights: number[]; leaked: number }> {
  manualSeed(1);
  const model = build().to(device);
  const x = rand(inputShape, { device });
  const y = randint(0, 3, [inputShape[0]], { device });
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const step = () =>
    tidy(() => {
      opt.zeroGrad();
      const loss = crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      return loss;
    });
  const first = step();
  const losses = [(await first.read())[0]];
  first.dispose();
  // from here on the optimizer state and gradients exist: the live set must stay put.
  // A buffer the collector reclaims stays counted (live - 1, collected + 1): a tensor
  // of the loop that was never disposed is a leak even once collected, and garbage of
  // earlier tests collected meanwhile changes nothing
  const live = () => memory().gpu.liveBuffers + memory().gpu.collectedBuffers;
  const start = live();
  for (let i = 1; i < steps; i++) {
    const loss = step();
    if (i % 25 === 0 || i === steps - 1) losses.push((await loss.read())[0]);
    loss.dispose();
  }
  const leaked = live() - start;
  const weights: number[] = [];
  for (const p of model.parameters()) weights.push(...await p.read());
  x.dispose();
  y.dispose();
  return { losses, weights, leaked };
}

function assertClose(gpu: readonly number[], cpu: readonly number[], what: string): void {
  assert.equal(gpu.length, cpu.length);
  for (let i = 0; i < cpu.length; i++) {
    assert.ok(
      Math.abs(gpu[i] - cpu[i]) <= 2e-3 * (1 + Math.abs(cpu[i])),
      `${what}[${i}]: gpu ${gpu[i]}, cpu ${cpu[i]}`,
    );
  }
}

const options = { ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false };
if (!hasGpu) console.log("skip GPU training tests: navigator.gpu has no adapter");

Deno.test({
  ...options,
  name: "an MLP trains on the GPU as on the CPU, without leaking over 100 steps",
  fn: synced(async () => {
    const cpu = await train(mlp, [32, 6], 100, "cpu");
    const gpu = await train(mlp, [32, 6], 100, "gpu");
    assert.equal(gpu.leaked, 0, `${gpu.leaked} GPU buffers leaked`);
    assert.ok(gpu.losses.at(-1)! < gpu.losses[0] / 2, `losses ${gpu.losses}`);
    assertClose(gpu.losses, cpu.losses, "loss");
    assertClose(gpu.weights, cpu.weights, "weight");
  }),
});

Deno.test({
  ...options,
  name: "a CNN trains on the GPU as on the CPU",
  fn: synced(async () => {
    const cpu = await train(cnn, [8, 1, 6, 6], 20, "cpu");
    const gpu = await train(cnn, [8, 1, 6, 6], 20, "gpu");
    assert.equal(gpu.leaked, 0, `${gpu.leaked} GPU buffers leaked`);
    assertClose(gpu.losses, cpu.losses, "loss");
    assertClose(gpu.weights, cpu.weights, "weight");
  }),
});
