/**
 * What the data-parallel benches compare against: random samples of Fashion-MNIST's shape,
 * batches of sample indices taken in turn, and one training step on the main thread the way
 * the trainer runs it.
 */
import {
  crossEntropy,
  type Module,
  type Optimizer,
  rand,
  randint,
  type Tensor,
  TensorDataset,
  tidy,
} from "../mod.ts";

/** `samples` random images and labels, and `next()`, the indices of the next batch. */
export function randomBatches(samples: number, batch: number): {
  x: Tensor;
  y: Tensor;
  dataset: TensorDataset;
  next: () => Int32Array;
} {
  const x = rand([samples, 784]), y = randint(0, 10, [samples]);
  let cursor = 0;
  const next = () => {
    const idx = new Int32Array(batch);
    for (let i = 0; i < batch; i++) idx[i] = (cursor + i) % samples;
    cursor = (cursor + batch) % samples;
    return idx;
  };
  return { x, y, dataset: new TensorDataset(x, y), next };
}

/** One step on the samples `idx`: the trainer's row copy, forward, backward, update. */
export function trainerStep(
  model: Module,
  optimizer: Optimizer,
  dataset: TensorDataset,
  idx: Int32Array,
): void {
  tidy(() => {
    // the trainer's row copy: indexSelect takes several ms more for 256 rows
    const batch = dataset.getBatch(idx, 0, idx.length);
    const loss = crossEntropy(model.forward(batch.x.reshape([idx.length, 1, 28, 28])), batch.y);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    loss.item();
  });
}
