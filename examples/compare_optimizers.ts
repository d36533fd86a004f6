/**
 * Trains the same MLP from the same seed with SGD, SGD with momentum, RMSprop, Adam and
 * AdamW on the embedded digits set and prints final loss, held-out accuracy and time, so
 * the trade-offs are measured rather than claimed.
 *
 *   deno run examples/compare_optimizers.ts [--epochs 10]
 */
import {
  Adam,
  AdamW,
  crossEntropy,
  DataLoader,
  loadDigits,
  manualSeed,
  noGrad,
  type Optimizer,
  RMSprop,
  SGD,
  splitTrainTest,
  type Tensor,
  TensorDataset,
  tidy,
} from "../mod.ts";
import { buildModel } from "./lib/models.ts";

const epochsArg = Deno.args.indexOf("--epochs");
const epochs = epochsArg >= 0 ? Number(Deno.args[epochsArg + 1]) : 10;
const { train, test } = splitTrainTest(await loadDigits(), { testFraction: 0.2, seed: 0 });

const rules: [string, (p: Tensor[]) => Optimizer][] = [
  ["SGD lr 0.05", (p) => new SGD(p, { lr: 0.05 })],
  ["SGD+momentum 0.9 lr 0.05", (p) => new SGD(p, { lr: 0.05, momentum: 0.9 })],
  ["RMSprop lr 1e-3", (p) => new RMSprop(p, { lr: 1e-3 })],
  ["Adam lr 1e-3", (p) => new Adam(p, { lr: 1e-3 })],
  ["AdamW lr 1e-3 wd 1e-2", (p) => new AdamW(p, { lr: 1e-3, weightDecay: 1e-2 })],
];

const rows: string[] = [];
for (const [name, make] of rules) {
  manualSeed(0);
  const model = buildModel("mlp", [1, 8, 8], 10);
  const optimizer = make(model.parameters());
  const loader = new DataLoader(new TensorDataset(train.x, train.y), {
    batchSize: 64,
    shuffle: true,
  });
  const start = performance.now();
  let last = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    let sum = 0, n = 0;
    for (const { x, y } of loader) {
      sum += tidy(() => {
        const loss = crossEntropy(model.forward(x), y);
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        return loss.item();
      }) * x.shape[0];
      n += x.shape[0];
    }
    last = sum / n;
  }
  const seconds = (performance.now() - start) / 1000;
  model.eval();
  const accuracy = tidy(() =>
    noGrad(() => model.forward(test.x).argmax(1).eq(test.y).sum().item() / test.x.shape[0])
  );
  rows.push(
    `| ${name.padEnd(26)} | ${last.toFixed(4)} | ${(accuracy * 100).toFixed(2)}% | ${
      seconds.toFixed(2)
    } s |`,
  );
}
console.log(`${epochs} epochs on digits, MLP 64-256-128-10, batch 64, seed 0\n`);
console.log("| optimizer                  | final loss | held-out accuracy | time |");
console.log("| --- | --- | --- | --- |");
for (const row of rows) console.log(row);
