/**
 * Runs the `Deno.bench` definitions of the given bench files with its own timer and prints,
 * per group, the median time per iteration and each entry's ratio to the group's baseline
 * (`deno bench` prints means and percentiles, but the README quotes medians).
 *
 *   deno run bench/medians.ts bench/matmul_kernel_bench.ts bench/mlp_bench.ts
 *
 * Each entry is warmed up for 0.5 s, then timed in 15 samples of at least 50 ms each.
 */

interface Def {
  name: string;
  group?: string;
  baseline?: boolean;
  fn: () => void;
}

const defs: Def[] = [];
(Deno as unknown as { bench: unknown }).bench = (options: Omit<Def, "fn">, fn: () => void) => {
  defs.push({ ...options, fn });
};

for (const file of Deno.args) await import(new URL(file, `file://${Deno.cwd()}/`).href);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function time(fn: () => void): number {
  let reps = 0;
  const warm = performance.now();
  while (performance.now() - warm < 500) {
    fn();
    reps++;
  }
  const perSample = Math.max(1, Math.ceil(reps / 10)); // about 50 ms per sample
  const samples: number[] = [];
  for (let s = 0; s < 15; s++) {
    const t0 = performance.now();
    for (let i = 0; i < perSample; i++) fn();
    samples.push((performance.now() - t0) / perSample);
  }
  return median(samples);
}

const groups = new Map<string, Def[]>();
for (const d of defs) {
  const g = d.group ?? d.name;
  groups.set(g, [...(groups.get(g) ?? []), d]);
}
for (const [group, list] of groups) {
  const results = list.map((d) => ({ d, ms: time(d.fn) }));
  const base = results.find((r) => r.d.baseline) ?? results[0];
  console.log(`\n${group}`);
  for (const { d, ms } of results) {
    const ratio = ms / base.ms;
    console.log(
      `  ${d.name.padEnd(48)} ${ms.toFixed(3).padStart(10)} ms  ${ratio.toFixed(2)}x baseline`,
    );
  }
}
