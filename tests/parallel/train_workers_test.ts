import assert from "node:assert/strict";
import { main, train, type TrainOptions } from "../../examples/train.ts";

const base: TrainOptions = {
  data: "digits",
  model: "mlp",
  epochs: 2,
  batchSize: 128,
  lr: 1e-3,
  optimizer: "adamw",
  scheduler: "cosine",
  seed: 0,
  log: () => {},
};

function assertCurvesClose(
  actual: { loss: number; accuracy: number }[],
  expected: { loss: number; accuracy: number }[],
): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((point, i) => {
    assert(Math.abs(point.loss - expected[i].loss) < 1e-5, `epoch ${i + 1} loss`);
    // one held-out sample more or less at most
    assert(Math.abs(point.accuracy - expected[i].accuracy) <= 1 / 359 + 1e-9, `epoch ${i + 1}`);
  });
}

Deno.test("train --workers 2 follows the single-thread run", async () => {
  const single = await train(base);
  const lines: string[] = [];
  const parallel = await train({ ...base, workers: 2, log: (l) => lines.push(l) });
  assertCurvesClose(parallel, single);
  assert.match(lines[0], /batch 128, 2 epochs, 2 workers$/);
  assert.match(
    lines[1],
    /^epoch 1\/2 {2}loss \d\.\d{4} {2}held-out accuracy [\d.]+% {2}\d+ samples\/s/,
  );
});

Deno.test("a run checkpointed on 2 workers resumes on 1 and on the main thread", async () => {
  await Deno.mkdir(".tmp", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: ".tmp" });
  try {
    const options = { ...base, epochs: 3, optimizer: "sgd" };
    const whole = await train(options);
    const checkpoint = `${dir}/run.ckpt`;
    await train({ ...options, workers: 2, stopAfter: 2, checkpoint });
    assertCurvesClose(await train({ ...options, workers: 1, resume: checkpoint }), whole);
    assertCurvesClose(await train({ ...options, resume: checkpoint }), whole);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("train rejects a worker count outside 0 to the batch size", async () => {
  const error = console.error;
  const said: string[] = [];
  console.error = (m: string) => said.push(m);
  try {
    assert.equal(await main(["--workers", "-1"]), 2);
    assert.equal(await main(["--workers", "9", "--batch-size", "8"]), 2);
  } finally {
    console.error = error;
  }
  assert.equal(said[0], "train: --workers must be from 0 to --batch-size (128), got -1");
  assert.equal(said[1], "train: --workers must be from 0 to --batch-size (8), got 9");
});
