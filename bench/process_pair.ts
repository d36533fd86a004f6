/**
 * How much SIMD arithmetic the machine gives two threads, measured without any of the
 * parallel code: one process runs float32 matmuls of 256 x 256 (WebAssembly SIMD, all in
 * cache) alone, then two such processes run at once; the rounds alternate. An aggregate of
 * 2.00x the lone process means two free cores; a virtual machine whose two vCPUs share one
 * physical core's vector units reads near 1.0x while the lone process runs fast.
 *
 *   deno run --allow-run --allow-read bench/process_pair.ts          # 4 rounds, n = 256
 *   deno run --allow-run --allow-read bench/process_pair.ts 8 1024   # 8 rounds, n = 1024
 */
import { randn, tidy } from "../mod.ts";

const N = Number(Deno.args[1] ?? 256);
if (!Number.isInteger(N) || N < 8) throw new RangeError(`process_pair: n must be >= 8`);
// about 2 s of products at 20 GFLOP/s, whatever the size
const REPS = Math.max(20, Math.round(4e10 / (2 * N ** 3)));

/** The median GFLOP/s of `REPS` products, after a warm-up. */
function measure(): number {
  const a = randn([N, N]), b = randn([N, N]);
  for (let i = 0; i < 50; i++) tidy(() => a.matmul(b).realize());
  const times: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const start = performance.now();
    tidy(() => a.matmul(b).realize());
    times.push(performance.now() - start);
  }
  times.sort((x, y) => x - y);
  return 2 * N ** 3 / times[times.length >> 1] / 1e6;
}

if (Deno.args[0] === "child") {
  console.log(measure().toFixed(2));
} else {
  const rounds = Number(Deno.args[0] ?? 4);
  if (!Number.isInteger(rounds) || rounds < 1) {
    throw new RangeError(`process_pair: rounds must be a positive integer, got ${Deno.args[0]}`);
  }
  const child = () =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", new URL(import.meta.url).pathname, "child", String(N)],
    }).output().then((o) => Number(new TextDecoder().decode(o.stdout)));
  console.log(`float32 matmul ${N}, GFLOP/s per process; ${navigator.hardwareConcurrency} cores`);
  for (let r = 1; r <= rounds; r++) {
    const alone = await child();
    const pair = await Promise.all([child(), child()]);
    const total = pair[0] + pair[1];
    console.log(
      `round ${r}: alone ${alone.toFixed(1)}; two at once ${pair[0].toFixed(1)} + ` +
        `${pair[1].toFixed(1)} = ${total.toFixed(1)}: ${(total / alone).toFixed(2)}x the lone one`,
    );
  }
}
