/**
 * Elementwise throughput: `c = a*b + a` through adamant against a fused plain loop, and
 * float32 against float64 through the same ops (float64 must not slow float32 down).
 * Elementwise results are computed lazily (fused), so each bench forces them with
 * `realize()`.
 * Run: deno task bench (or deno bench bench/elementwise_bench.ts).
 */
import { rand, tidy } from "../mod.ts";

for (const n of [1 << 20, 1 << 24]) {
  const label = n === 1 << 20 ? "1M" : "16M";
  const group = `elementwise c=a*b+a ${label} (12n bytes)`;
  const a = rand([n]), b = rand([n]);
  const ad = a.data as Float32Array, bd = b.data as Float32Array, c = new Float32Array(n);
  Deno.bench({ name: `plain fused loop ${label}`, group, baseline: true }, () => {
    for (let i = 0; i < n; i++) c[i] = ad[i] * bd[i] + ad[i];
  });
  Deno.bench({ name: `adamant a.mul(b).add(a) ${label}`, group }, () => {
    tidy(() => {
      a.mul(b).add(a).realize();
    });
  });
}

const n64 = 1 << 20;
const x32 = rand([n64]), y32 = rand([n64]);
const x64 = rand([n64], { dtype: "float64" }), y64 = rand([n64], { dtype: "float64" });
Deno.bench({ name: "float32 a.mul(b).add(a) 1M", group: "dtype", baseline: true }, () => {
  tidy(() => {
    x32.mul(y32).add(x32).realize();
  });
});
Deno.bench({ name: "float64 a.mul(b).add(a) 1M", group: "dtype" }, () => {
  tidy(() => {
    x64.mul(y64).add(x64).realize();
  });
});
Deno.bench({ name: "float32 again, after float64 ran", group: "dtype" }, () => {
  tidy(() => {
    x32.mul(y32).add(x32).realize();
  });
});

const m = rand([1024, 1024]);
Deno.bench({ name: "sum over last axis [1024,1024]", group: "reduce", baseline: true }, () => {
  tidy(() => {
    m.sum(1);
  });
});
Deno.bench({ name: "sum over first axis [1024,1024]", group: "reduce" }, () => {
  tidy(() => {
    m.sum(0);
  });
});
Deno.bench({ name: "max over last axis [1024,1024]", group: "reduce" }, () => {
  tidy(() => {
    m.max(1);
  });
});

const logits = rand([128, 1000]);
Deno.bench({ name: "softmax [128,1000]", group: "softmax", baseline: true }, () => {
  tidy(() => {
    logits.softmax(-1);
  });
});
Deno.bench({ name: "logSoftmax [128,1000]", group: "softmax" }, () => {
  tidy(() => {
    logits.logSoftmax(-1);
  });
});
