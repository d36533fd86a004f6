import assert from "node:assert/strict";
import { main, train, type TrainOptions } from "../../examples/train.ts";
import { hasGpu, synced } from "../device.ts";

if (!hasGpu) console.log("skip --device gpu trainer test: navigator.gpu has no adapter");

const base: TrainOptions = {
  data: "digits",
  model: "mlp",
  epochs: 20,
  batchSize: 128,
  lr: 1e-3,
  optimizer: "adam",
  scheduler: "none",
  seed: 0,
  log: () => {},
};

Deno.test("the default run reaches 95% held-out accuracy on the embedded digits", async () => {
  const curves = await train(base);
  assert.equal(curves.length, 20);
  assert.ok(curves[19].accuracy >= 0.95, `accuracy ${curves[19].accuracy}`);
  assert.ok(curves[19].loss < curves[0].loss);
});

Deno.test("a resumed run continues bit-identically to an uninterrupted one", async () => {
  await Deno.mkdir(".tmp", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: ".tmp" });
  try {
    const options = { ...base, epochs: 3, scheduler: "cosine", optimizer: "adamw" };
    const whole = await train(options);
    const checkpoint = `${dir}/run.ckpt`;
    await train({ ...options, stopAfter: 2, checkpoint });
    const resumed = await train({ ...options, resume: checkpoint });
    assert.deepEqual(resumed, whole);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("beforeEpoch is awaited before each epoch starts", async () => {
  const events: string[] = [];
  await train({
    ...base,
    epochs: 2,
    log: (line) => {
      if (/^epoch \d/.test(line)) events.push(line.slice(0, 7));
    },
    beforeEpoch: async (epoch) => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      events.push(`before ${epoch}`);
    },
  });
  assert.deepEqual(events, ["before 1", "epoch 1", "before 2", "epoch 2"]);
});

Deno.test("the CNN trains on the digits", async () => {
  const curves = await train({ ...base, model: "cnn", epochs: 2, batchSize: 64 });
  assert.ok(curves[1].accuracy > 0.5, `accuracy ${curves[1].accuracy}`);
});

Deno.test("the trainer's command line exits with 2 on a bad option and 0 on --help", async () => {
  const error = console.error, log = console.log;
  const said: string[] = [];
  console.error = (m: string) => said.push(m);
  console.log = () => {};
  try {
    assert.equal(await main(["--epochs", "many"]), 2);
    assert.equal(await main(["--optimiser", "adam"]), 2);
    assert.equal(await main(["--model", "rnn"]), 2);
    assert.equal(await main(["--lr", "-1"]), 2);
    assert.equal(await main(["--help"]), 0);
  } finally {
    console.error = error;
    console.log = log;
  }
  assert.match(said[0], /--epochs needs a number/);
  assert.match(said[1], /unknown option --optimiser/);
});

Deno.test({
  name: "--device gpu trains the MLP along the CPU's curve, reading back once per epoch",
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: synced(async () => {
    const options = { ...base, epochs: 2 };
    const cpu = await train(options);
    const gpu = await train({ ...options, device: "gpu" });
    gpu.forEach((point, i) => {
      assert.ok(Math.abs(point.loss - cpu[i].loss) < 1e-3, `loss ${point.loss} vs ${cpu[i].loss}`);
      assert.ok(Math.abs(point.accuracy - cpu[i].accuracy) < 0.01, `epoch ${i + 1} accuracy`);
    });
    await assert.rejects(
      () => train({ ...options, device: "gpu", checkpoint: ".tmp/never.ckpt" }),
      /^Error: train: --checkpoint and --resume work with --device cpu only for now/,
    );
  }),
});

Deno.test("--workers with --device gpu is refused by train() and by the command line", async () => {
  await assert.rejects(
    () => train({ ...base, workers: 2, device: "gpu" }),
    (e: unknown) =>
      e instanceof RangeError &&
      e.message === "train: --workers trains on CPU threads; use it with --device cpu",
  );
  const error = console.error;
  const said: string[] = [];
  console.error = (m: string) => said.push(m);
  try {
    assert.equal(await main(["--workers", "2", "--device", "gpu"]), 2);
  } finally {
    console.error = error;
  }
  assert.deepEqual(said, ["train: --workers trains on CPU threads; use it with --device cpu"]);
});

Deno.test("--device takes cpu or gpu only", async () => {
  const error = console.error;
  const said: string[] = [];
  console.error = (m: string) => said.push(m);
  try {
    assert.equal(await main(["--device", "tpu"]), 2);
  } finally {
    console.error = error;
  }
  assert.match(said[0], /--device/);
});
