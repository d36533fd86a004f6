/**
 * Two checkouts of adamant, old and new, timed against each other in one process: each
 * product or training step runs on both in turn, and the median of the per-pair ratios is
 * printed. Alternating pairs keeps a noisy machine's slow and fast phases out of the ratio,
 * which separate runs cannot.
 *
 *   git worktree add /tmp/old <revision>
 *   deno run --allow-read bench/compare_checkouts.ts /tmp/old .
 */
const [oldRoot, newRoot] = Deno.args;
if (!oldRoot || !newRoot) {
  throw new TypeError("compare_checkouts: give the old and the new checkout");
}
const url = (root: string, path: string) =>
  new URL(path, `file://${Deno.realPathSync(root)}/`).href;
const [A, B] = await Promise.all([oldRoot, newRoot].map((r) => import(url(r, "mod.ts"))));
const [MA, MB] = await Promise.all(
  [oldRoot, newRoot].map((r) => import(url(r, "examples/lib/models.ts"))),
);

const median = (v: number[]) => [...v].sort((p, q) => p - q)[v.length >> 1];

/** Times `run[0]` and `run[1]` alternately `reps` times; returns both medians and the ratio. */
function pairs(reps: number, run: [() => void, () => void]): [number, number, number] {
  for (const r of run) r();
  const t: [number[], number[]] = [[], []], ratio: number[] = [];
  for (let i = 0; i < reps; i++) {
    const d = run.map((r) => {
      const t0 = performance.now();
      r();
      return performance.now() - t0;
    });
    t[0].push(d[0]);
    t[1].push(d[1]);
    ratio.push(d[0] / d[1]);
  }
  return [median(t[0]), median(t[1]), median(ratio)];
}

for (const [m, k, n] of [[1024, 1024, 1024], [256, 256, 256], [128, 784, 256], [64, 288, 25088]]) {
  const [a0, b0, a1, b1] = [A.randn([m, k]), A.randn([k, n]), B.randn([m, k]), B.randn([k, n])];
  const reps = Math.max(9, Math.round(3e9 / (2 * m * n * k)));
  const [x, y, r] = pairs(reps, [
    () => A.tidy(() => a0.matmul(b0).realize()),
    () => B.tidy(() => a1.matmul(b1).realize()),
  ]);
  const gflops = (ms: number) => (2 * m * n * k / ms / 1e6).toFixed(1);
  console.log(
    `matmul ${m}x${k}x${n}: old ${gflops(x)}, new ${gflops(y)} GFLOP/s, ${r.toFixed(2)}x`,
  );
}

for (const [model, reps] of [["mlp", 40], ["cnn", 7]] as const) {
  const steps = [[A, MA], [B, MB]].map(([L, M]) => {
    L.manualSeed(0);
    const net = M.buildModel(model, [1, 28, 28], 10);
    const optimizer = new L.Adam(net.parameters(), { lr: 1e-3 });
    const x = L.randn([128, 1, 28, 28]), y = L.randint(0, 10, [128], { dtype: "int32" });
    return () =>
      L.tidy(() => {
        optimizer.zeroGrad();
        L.crossEntropy(net.forward(x), y).backward();
        optimizer.step();
      });
  }) as [() => void, () => void];
  const [x, y, r] = pairs(reps, steps);
  console.log(
    `${model} step, batch 128: old ${x.toFixed(1)}, new ${y.toFixed(1)} ms, ${r.toFixed(2)}x`,
  );
}
