/**
 * Whole-training throughput of the trainer's MLP at batch 256, on Fashion-MNIST when
 * /usr/share/datasets/fashion-mnist exists, else on the embedded digits, for each worker
 * count (0: the main thread alone). The runs live in one process and take turns an epoch at
 * a time: round k runs epoch k of every run, in an order that rotates, forwards and
 * backwards, so that a noisy machine's fast and slow stretches fall on every run alike. The
 * first round also pays for compiling the kernels (once per worker, while the workers
 * compete with the compiler threads for the cores) and is left out. Prints samples/s of each
 * epoch, then for each count the median of the later rounds' speed-ups over the first count
 * (and over one worker). Before and after, a control (bench/cores.ts) says whether the
 * machine gave the largest count of workers (at least 2) a free core each.
 *
 *   deno run --allow-read bench/parallel_train.ts            # 0, 1 and 2 workers, 7 epochs each
 *   deno run --allow-read bench/parallel_train.ts 0 2 4 8    # a bigger machine
 */
import { train } from "../examples/train.ts";
import { coreControl } from "./cores.ts";

const FASHION = "/usr/share/datasets/fashion-mnist";
const data = await Deno.stat(FASHION).then(() => "fashion-mnist", () => "digits");
const counts = Deno.args.length > 0 ? Deno.args.map(Number) : [0, 1, 2];
const bad = counts.find((c) => !Number.isInteger(c) || c < 0);
if (bad !== undefined) throw new RangeError(`parallel_train: worker counts are integers >= 0`);
// one round to warm up, then every order of the runs (each first once, forwards and backwards)
const EPOCHS = 1 + 2 * counts.length;

async function control(when: string): Promise<void> {
  const workers = Math.max(2, ...counts);
  const { one, many, ratio } = await coreControl(workers);
  console.log(
    `control ${when}: forward + backward of 128 samples, 1 worker ${one.toFixed(1)} ms, ` +
      `${workers} at once ${many.toFixed(1)} ms: ${ratio.toFixed(2)}x (1.00: a free core each)`,
  );
}

/** The runs in the order round `round` (>= 0) takes them. */
function orderOf(round: number): number[] {
  const order = counts.map((_, j) => (j + round) % counts.length);
  return Math.floor(round / counts.length) % 2 === 0 ? order : order.reverse();
}
const schedule = Array.from({ length: EPOCHS }, (_, round) => orderOf(round)).flat();

// the turn passes to the next run in `schedule` when the holder asks for its next epoch
let slot = 0, holder = -1;
const waiting = new Map<number, () => void>();
function release(run: number): void {
  if (holder !== run) return;
  holder = -1;
  slot++;
  const next = schedule[slot], wake = waiting.get(next);
  if (wake !== undefined) {
    waiting.delete(next);
    holder = next;
    wake();
  }
}
function turn(run: number): Promise<void> {
  release(run);
  if (holder === -1 && schedule[slot] === run) {
    holder = run;
    return Promise.resolve();
  }
  return new Promise((resolve) => waiting.set(run, resolve));
}

console.log(
  `MLP on ${data}, batch 256, ${EPOCHS} epochs per run, taking turns; ` +
    `${navigator.hardwareConcurrency} cores`,
);
await control("before");
const rates = counts.map(() => [] as number[]);
await Promise.all(counts.map(async (workers, run) => {
  // a run that fails passes the turn on, so the others finish and the failure surfaces
  try {
    await train({
      data,
      model: "mlp",
      epochs: EPOCHS,
      batchSize: 256,
      lr: 1e-3,
      optimizer: "adam",
      scheduler: "none",
      seed: 0,
      workers,
      log: (line) => {
        const match = line.match(/ (\d+) samples\/s/);
        if (match) rates[run].push(Number(match[1]));
      },
      beforeEpoch: () => turn(run),
    });
  } finally {
    release(run);
  }
}));
await control("after");

/** The median; the mean of the middle two for an even count. */
function median(v: number[]): number {
  const s = [...v].sort((a, b) => a - b), mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
const over = (run: number, base: number) =>
  median(rates[run].slice(1).map((rate, e) => rate / rates[base][e + 1]));
counts.forEach((workers, run) => {
  const one = counts.indexOf(1);
  console.log(
    `${String(workers).padStart(3)} workers  samples/s by epoch ${rates[run].join(", ")}` +
      (run === 0 ? "" : `  ${over(run, 0).toFixed(2)}x ${counts[0]} workers`) +
      (one < 0 || run === one || workers === 0 ? "" : `  ${over(run, one).toFixed(2)}x 1 worker`),
  );
});
