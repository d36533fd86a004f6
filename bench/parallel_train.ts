/**
 * Whole-training throughput of the trainer's MLP at batch 256: one epoch per worker count,
 * on Fashion-MNIST when /usr/share/datasets/fashion-mnist exists, else on the embedded
 * digits. Prints samples/s for each count and the speed-up over one worker (0 workers is
 * the main thread alone), and, before and after, a control (bench/cores.ts) that says
 * whether the machine gave the largest count of workers (at least 2) a free core each.
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

console.log(`MLP on ${data}, batch 256, 1 epoch; ${navigator.hardwareConcurrency} cores`);
await control("before");
const rates = new Map<number, number>();
for (const workers of counts) {
  let rate = NaN;
  await train({
    data,
    model: "mlp",
    epochs: 1,
    batchSize: 256,
    lr: 1e-3,
    optimizer: "adam",
    scheduler: "none",
    seed: 0,
    workers,
    log: (line) => {
      const match = line.match(/ (\d+) samples\/s/);
      if (match) rate = Number(match[1]);
    },
  });
  rates.set(workers, rate);
  const base = rates.get(1);
  const speedup = base === undefined ? "" : `  ${(rate / base).toFixed(2)}x one worker`;
  console.log(
    `${String(workers).padStart(3)} workers  ${String(rate).padStart(7)} samples/s${speedup}`,
  );
}
await control("after");
