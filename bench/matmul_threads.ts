/**
 * `ParallelMatmul` against one thread on the same square product, in alternating pairs
 * (one product on one thread, then one on the main thread and N workers), so that a noisy
 * machine's fast and slow phases fall on both alike: the median of the per-pair ratios is
 * the speed-up. Random float32 operands in the heap, as a model's tensors are.
 *
 *   deno run --allow-read bench/matmul_threads.ts              # n = 1024, 1 worker
 *   deno run --allow-read bench/matmul_threads.ts 1024 1 3 7   # main + 1, 3 and 7 workers
 */
import { manualSeed, randn, tidy } from "../mod.ts";
import { ParallelMatmul } from "../parallel/mod.ts";
import { setMatmulExecutor } from "../tensor/cpu/matmul.ts";

const [size = "1024", ...rest] = Deno.args;
const n = Number(size), counts = rest.length > 0 ? rest.map(Number) : [1];
if (!Number.isInteger(n) || n < 1) {
  throw new RangeError(`matmul_threads: the size is an integer >= 1, got ${size}`);
}
if (counts.some((c) => !Number.isInteger(c) || c < 1)) {
  throw new RangeError(`matmul_threads: worker counts are integers >= 1, got ${rest}`);
}
const PAIRS = 25;

manualSeed(0);
const a = randn([n, n]), b = randn([n, n]);
const product = () => tidy(() => a.matmul(b).realize());
const timed = (run: () => void) => {
  const start = performance.now();
  run();
  return performance.now() - start;
};
const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];

console.log(`matmul ${n}, ${navigator.hardwareConcurrency} cores: medians of ${PAIRS} pairs`);
for (const workers of counts) {
  // threshold 1: any size given goes parallel
  const pm = await ParallelMatmul.create({ workers, threshold: 1 });
  const one: number[] = [], many: number[] = [], ratio: number[] = [];
  const single = () => {
    const saved = setMatmulExecutor(null);
    try {
      return timed(product);
    } finally {
      setMatmulExecutor(saved);
    }
  };
  for (let i = -2; i < PAIRS; i++) { // two pairs warm up
    // the pair's order alternates, so that whatever the second of two products gains or
    // loses falls on both sides
    let t1: number, tn: number;
    if (i % 2 === 0) [t1, tn] = [single(), timed(product)];
    else [tn, t1] = [timed(product), single()];
    if (i < 0) continue;
    one.push(t1);
    many.push(tn);
    ratio.push(t1 / tn);
  }
  pm.close();
  if (pm.products !== PAIRS + 2) throw new Error(`only ${pm.products} products ran in parallel`);
  console.log(
    `  1 thread ${median(one).toFixed(1)} ms, main + ${workers} worker(s) ` +
      `${median(many).toFixed(1)} ms: ${median(ratio).toFixed(2)}x`,
  );
}
