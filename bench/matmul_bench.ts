/**
 * Float32 square matmul, n x n: adamant's `a.matmul(b)` (the WebAssembly SIMD kernel) and
 * its TypeScript blocked kernel (the float64 path), against a naive i-k-j loop (n <= 512)
 * and, at n = 1024, a KC-blocked 4x4-tile TypeScript kernel in the style of the peers'
 * reference measurement. GFLOP/s = 2n^3 / time.
 * The last group checks that float64 calls do not slow float32 calls down afterwards.
 * Run: deno bench bench/matmul_bench.ts (medians: deno task bench:medians)
 */
import {
  blockedKernel,
  matmulKernel,
  matmulReference,
  type MatrixView,
} from "../tensor/cpu/matmul.ts";
import { tensor, tidy } from "../mod.ts";

function random(len: number, seed: number): Float32Array {
  const out = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 4294967296 - 0.5;
  }
  return out;
}

function view(data: Float32Array | Float64Array, n: number): MatrixView {
  return { data, offset: 0, rowStride: n, colStride: 1 };
}

function naiveIKJ(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  c.fill(0);
  for (let i = 0; i < n; i++) {
    const ci = i * n;
    for (let p = 0; p < n; p++) {
      const aip = a[ci + p], bp = p * n;
      for (let j = 0; j < n; j++) c[ci + j] += aip * b[bp + j];
    }
  }
}

// The earlier reference style: k-blocked by 256, both operands packed into Float64Array
// panels, 4x4 register tile, accumulating into c. Needs n % 4 == 0. Buffers are allocated
// once, outside the timed calls, so only the kernels are compared.
const KC = 256;
let bPanels = new Float64Array(0);
const aPanel = new Float64Array(4 * KC);
function tiled4x4(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  if (bPanels.length < KC * n) bPanels = new Float64Array(KC * n);
  const bp = bPanels, ap = aPanel;
  c.fill(0);
  for (let k0 = 0; k0 < n; k0 += KC) {
    const kc = Math.min(KC, n - k0);
    for (let jp = 0; jp < n; jp += 4) {
      for (let kk = 0, o = jp * kc; kk < kc; kk++, o += 4) {
        const s = (k0 + kk) * n + jp;
        bp[o] = b[s];
        bp[o + 1] = b[s + 1];
        bp[o + 2] = b[s + 2];
        bp[o + 3] = b[s + 3];
      }
    }
    for (let i = 0; i < n; i += 4) {
      for (let kk = 0; kk < kc; kk++) {
        const s = i * n + k0 + kk;
        ap[4 * kk] = a[s];
        ap[4 * kk + 1] = a[s + n];
        ap[4 * kk + 2] = a[s + 2 * n];
        ap[4 * kk + 3] = a[s + 3 * n];
      }
      for (let jp = 0; jp < n; jp += 4) {
        let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (let pa = 0, pb = jp * kc; pa < 4 * kc; pa += 4, pb += 4) {
          const a0 = ap[pa], a1 = ap[pa + 1], a2 = ap[pa + 2], a3 = ap[pa + 3];
          const b0 = bp[pb], b1 = bp[pb + 1], b2 = bp[pb + 2], b3 = bp[pb + 3];
          c00 += a0 * b0, c01 += a0 * b1, c02 += a0 * b2, c03 += a0 * b3;
          c10 += a1 * b0, c11 += a1 * b1, c12 += a1 * b2, c13 += a1 * b3;
          c20 += a2 * b0, c21 += a2 * b1, c22 += a2 * b2, c23 += a2 * b3;
          c30 += a3 * b0, c31 += a3 * b1, c32 += a3 * b2, c33 += a3 * b3;
        }
        let o = i * n + jp;
        c[o] += c00, c[o + 1] += c01, c[o + 2] += c02, c[o + 3] += c03, o += n;
        c[o] += c10, c[o + 1] += c11, c[o + 2] += c12, c[o + 3] += c13, o += n;
        c[o] += c20, c[o + 1] += c21, c[o + 2] += c22, c[o + 3] += c23, o += n;
        c[o] += c30, c[o + 1] += c31, c[o + 2] += c32, c[o + 3] += c33;
      }
    }
  }
}

for (const n of [128, 256, 512, 1024]) {
  const group = `matmul kernel n=${n}`;
  const a = random(n * n, 1), b = random(n * n, 2), c = new Float32Array(n * n);
  const av = view(a, n), bv = view(b, n);
  // A 512 naive product takes ~0.2 s; a few runs are plenty against its spread.
  const slow = n >= 512 ? { n: 5, warmup: 2 } : {};
  if (n <= 512) {
    Deno.bench({ name: `naive i-k-j n=${n}`, group, baseline: true, ...slow }, () => {
      naiveIKJ(a, b, c, n);
    });
  }
  Deno.bench({ name: `4x4 tile, KC=256 panels n=${n}`, group, baseline: n > 512, ...slow }, () => {
    tiled4x4(a, b, c, n);
  });
  Deno.bench({ name: `TypeScript blocked 4x3 kernel n=${n}`, group, ...slow }, () => {
    blockedKernel(n, n, n, av, bv, c, 0);
  });
  const ta = tensor(a, { shape: [n, n] }), tb = tensor(b, { shape: [n, n] });
  Deno.bench({ name: `adamant a.matmul(b) (SIMD) n=${n}`, group }, () => {
    tidy(() => {
      ta.matmul(tb);
    });
  });
}

// Float64 must not deoptimise or slow the float32 path: the kernel's hot loops only ever
// see Float64Array panels, whatever the callers' dtypes. Benches run in the order they
// are registered, so the last one times float32 after float64 has gone through.
{
  const n = 256, group = "matmul kernel dtype n=256";
  const a32 = random(n * n, 3), b32 = random(n * n, 4), c32 = new Float32Array(n * n);
  const a64 = Float64Array.from(a32), b64 = Float64Array.from(b32), c64 = new Float64Array(n * n);
  const av32 = view(a32, n), bv32 = view(b32, n), av64 = view(a64, n), bv64 = view(b64, n);
  Deno.bench({ name: "float32 n=256", group, baseline: true }, () => {
    matmulKernel(n, n, n, av32, bv32, c32, 0);
  });
  Deno.bench({ name: "float64 n=256", group }, () => {
    matmulKernel(n, n, n, av64, bv64, c64, 0);
  });
  Deno.bench({ name: "float32 n=256, after float64 ran", group }, () => {
    matmulKernel(n, n, n, av32, bv32, c32, 0);
  });
}

// One sample through the MLP's first layer (x @ w.T, w [256, 784]): the vector kernel
// against the direct loop that served every one-row product before it.
{
  const group = "vector times matrix, 1 x 784 x 256";
  const x = tensor(random(784, 5), { shape: [1, 784] });
  const w = tensor(random(256 * 784, 6), { shape: [256, 784] });
  const out = new Float32Array(256);
  const xv = view(x.data as Float32Array, 784);
  const wt: MatrixView = { data: w.data as Float32Array, offset: 0, rowStride: 1, colStride: 784 };
  Deno.bench({ name: "direct loop (matmulReference)", group, baseline: true }, () => {
    matmulReference(1, 256, 784, xv, wt, out, 0);
  });
  Deno.bench({ name: "adamant x.matmul(w.T) (SIMD vector kernel)", group }, () => {
    tidy(() => {
      x.matmul(w.T).realize();
    });
  });
}
