/**
 * The smallest complete example: fit `Linear(10, 1)` to noisy linear data with `mseLoss`
 * and Adam, printing the loss every 50 steps.
 *
 *   deno run examples/linear_regression.ts
 */
import { Adam, Linear, manualSeed, mseLoss, noGrad, randn, tidy } from "../mod.ts";

manualSeed(0);
const trueW = randn([10, 1]), trueB = 0.5;
const x = randn([256, 10]);
const y = noGrad(() => x.matmul(trueW).add(trueB).add(randn([256, 1]).mul(0.01)));

const model = new Linear(10, 1);
const optimizer = new Adam(model.parameters(), { lr: 0.05 });
for (let step = 1; step <= 300; step++) {
  const loss = tidy(() => {
    const l = mseLoss(model.forward(x), y);
    optimizer.zeroGrad();
    l.backward();
    optimizer.step();
    return l.item();
  });
  if (step % 50 === 0) console.log(`step ${step}  loss ${loss.toFixed(6)}`);
}
const bias = model.namedParameters().find(([name]) => name === "bias")![1];
console.log(`learned bias ${bias.item().toFixed(3)} (true ${trueB})`);
