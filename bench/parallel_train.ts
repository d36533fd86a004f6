/**
 * Whole-training throughput of the trainer's MLP at batch 256: two epochs per worker count,
 * on Fashion-MNIST when /usr/share/datasets/fashion-mnist exists, else on the embedded
 * digits. Prints samples/s of each epoch and the speed-up of the second over 0 workers (the
 * main thread alone) and over one worker. The second epoch is the steady state: the first
 * also pays for compiling the kernels, once per worker, while the workers compete with the
 * compiler threads for the cores. Before and after, a control (bench/cores.ts) says whether
 * the machine gave the largest count of workers (at least 2) a free core each.
 *
 *   deno run --allow-read bench/parallel_train.ts            # 0, 1 and 2 workers
 *   deno run --allow-read bench/parallel_train.ts 1 2 4 8    # a bigger machine
 */
import { train } from "../examples/train.ts";
import { coreControl } from "./cores.ts";

const FASHION = "/usr/share/datasets/fashion-mnist";
const data = await Deno.stat(FASHION).then(() => "fashion-mnist", () => "digits");
const counts = Deno.args.length > 0 ? Deno.args.map(Number) : [0, 1, 2];
const bad = counts.find((c) => !Number.isInteger(c) || c < 0);
if (bad !== undefined) throw new RangeError(`parallel_train: worker counts are integers >= 0`);

async function control(when: string): Promise<void> {
  const workers = Math.max(2, ...counts);
  const { one, many, ratio } = await coreControl(workers);
  console.log(
    `control ${when}: forward + backward of 128 samples, 1 worker ${one.toFixed(1)} ms, ` +
      `${workers} at once ${many.toFixed(1)} ms: ${ratio.toFixed(2)}x (1.00: a free core each)`,
  );
}

console.log(`MLP on ${data}, batch 256, 2 epochs; ${navigator.hardwareConcurrency} cores`);
await control("before");
const rates = new Map<number, number>();
for (const workers of counts) {
  const epochs: number[] = [];
  await train({
    data,
    model: "mlp",
    epochs: 2,
    batchSize: 256,
    lr: 1e-3,
    optimizer: "adam",
    scheduler: "none",
    seed: 0,
    workers,
    log: (line) => {
      const match = line.match(/ (\d+) samples\/s/);
      if (match) epochs.push(Number(match[1]));
    },
  });
  const rate = epochs[1];
  rates.set(workers, rate);
  const over = (base: number | undefined, what: string) =>
    base === undefined ? "" : `  ${(rate / base).toFixed(2)}x ${what}`;
  console.log(
    `${String(workers).padStart(3)} workers  epoch 1 ${String(epochs[0]).padStart(6)}, ` +
      `epoch 2 ${String(rate).padStart(6)} samples/s` +
      over(rates.get(0), "0 workers") + over(workers === 1 ? undefined : rates.get(1), "1 worker"),
  );
}
await control("after");
