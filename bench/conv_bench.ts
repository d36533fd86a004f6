/**
 * conv2d forward + backward at the sizes of a small Fashion-MNIST CNN, batch 128, 3x3
 * kernels with padding 1: the first layer (1 -> 16 channels at 28x28; the images need no
 * gradient) and the second (16 -> 32 at 14x14; gradients for the input too). adamant's
 * `conv2d` (im2col + the float32 SIMD matmul, backward through matmul and col2im) runs
 * against a naive direct-convolution loop that computes the same output and gradients.
 * Max and average pooling of the first layer's output are timed too.
 * Run: deno bench bench/conv_bench.ts
 * (medians: deno run --allow-read=. bench/medians.ts bench/conv_bench.ts)
 */
import type { Window2d } from "../tensor/cpu/conv.ts";
import { avgPool2d, conv2d, maxPool2d, type Tensor, tensor, tidy } from "../mod.ts";

function random(len: number, seed: number, scale = 1): Float32Array {
  const out = new Float32Array(len);
  let s = seed >>> 0;
  for (let i = 0; i < len; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * scale;
  }
  return out;
}

/**
 * Direct convolution, forward and backward, for stride 1 and no groups: for every pair of
 * output and input channels and every kernel tap, one multiply-add over the output rows
 * and columns that tap reaches (clipped once per tap, so the inner loop has no tests).
 * No im2col, no blocking: the plain loop nest a first implementation would write.
 */
function direct(
  x: Float32Array,
  weight: Float32Array,
  bias: Float32Array,
  grad: Float32Array,
  g: Window2d,
  o: number,
  out: Float32Array,
  gw: Float32Array,
  gb: Float32Array,
  gx: Float32Array | null,
): void {
  const { n, c, h, w, kh, kw, ph, pw, oh, ow } = g;
  const inPlane = h * w, outPlane = oh * ow;
  gw.fill(0);
  gb.fill(0);
  gx?.fill(0);
  for (let b = 0; b < n; b++) {
    for (let oc = 0; oc < o; oc++) {
      const op = (b * o + oc) * outPlane;
      out.fill(bias[oc], op, op + outPlane);
      for (let q = op; q < op + outPlane; q++) gb[oc] += grad[q];
      for (let ci = 0; ci < c; ci++) {
        const ip = (b * c + ci) * inPlane;
        for (let i = 0; i < kh; i++) {
          const yLo = Math.max(0, ph - i), yHi = Math.min(oh, h + ph - i);
          for (let j = 0; j < kw; j++) {
            const xLo = Math.max(0, pw - j), xHi = Math.min(ow, w + pw - j);
            const wi = ((oc * c + ci) * kh + i) * kw + j, wv = weight[wi];
            let gsum = 0;
            for (let y = yLo; y < yHi; y++) {
              const xr = ip + (y - ph + i) * w - pw + j, or = op + y * ow;
              for (let ox = xLo; ox < xHi; ox++) {
                out[or + ox] += wv * x[xr + ox];
                gsum += grad[or + ox] * x[xr + ox];
              }
              if (gx !== null) {
                for (let ox = xLo; ox < xHi; ox++) gx[xr + ox] += wv * grad[or + ox];
              }
            }
            gw[wi] += gsum;
          }
        }
      }
    }
  }
}

function windowOf(n: number, c: number, size: number): Window2d {
  const [kh, kw, sh, sw, ph, pw, dh, dw] = [3, 3, 1, 1, 1, 1, 1, 1];
  return { n, c, h: size, w: size, kh, kw, sh, sw, ph, pw, dh, dw, oh: size, ow: size };
}

/** Throws unless the baseline computes what conv2d and its backward compute (2 x 3 -> 4, 5x5). */
function checkBaseline(): void {
  const [n, c, o, size] = [2, 3, 4, 5], g = windowOf(n, c, size);
  const xData = random(n * c * size * size, 7), wData = random(o * c * 9, 8);
  const bData = random(o, 9), gData = random(n * o * size * size, 10);
  const out = new Float32Array(gData.length), gw = new Float32Array(wData.length);
  const gb = new Float32Array(o), gx = new Float32Array(xData.length);
  direct(xData, wData, bData, gData, g, o, out, gw, gb, gx);
  const x = tensor(xData, { shape: [n, c, size, size], requiresGrad: true });
  const w = tensor(wData, { shape: [o, c, 3, 3], requiresGrad: true });
  const b = tensor(bData, { shape: [o], requiresGrad: true });
  const y = conv2d(x, w, b, { padding: 1 });
  y.backward(tensor(gData, { shape: y.shape }));
  const pairs: [Float32Array, Tensor][] = [[out, y], [gw, w.grad!], [gb, b.grad!], [gx, x.grad!]];
  for (const [expected, actual] of pairs) {
    const a = actual.toArray();
    if (expected.some((v, i) => Math.abs(v - a[i]) > 1e-4 * (1 + Math.abs(v)))) {
      throw new Error("conv_bench: the direct loop and conv2d disagree");
    }
  }
}

checkBaseline();

function layer(n: number, c: number, o: number, size: number, inputGrad: boolean): void {
  const group = `conv2d 3x3 pad 1, ${c} -> ${o} at ${size}x${size}, batch ${n}, forward + backward`;
  const g = windowOf(n, c, size);
  const xData = random(n * c * size * size, 1), wData = random(o * c * 9, 2, 0.5);
  const bData = random(o, 3), gData = random(n * o * size * size, 4);
  const out = new Float32Array(n * o * size * size);
  const gw = new Float32Array(wData.length), gb = new Float32Array(o);
  const gx = inputGrad ? new Float32Array(xData.length) : null;
  // the naive loop takes up to a second per call: a few runs are plenty against its spread
  const slow = { n: 5, warmup: 1 };
  Deno.bench({ name: "naive direct-convolution loop", group, baseline: true, ...slow }, () => {
    direct(xData, wData, bData, gData, g, o, out, gw, gb, gx);
  });

  const x = tensor(xData, { shape: [n, c, size, size], requiresGrad: inputGrad });
  const w = tensor(wData, { shape: [o, c, 3, 3], requiresGrad: true });
  const b = tensor(bData, { shape: [o], requiresGrad: true });
  const gradOut = tensor(gData, { shape: [n, o, size, size] });
  const params: Tensor[] = inputGrad ? [x, w, b] : [w, b];
  Deno.bench({ name: "adamant conv2d forward + backward", group }, () => {
    tidy(() => conv2d(x, w, b, { padding: 1 }).backward(gradOut));
    for (const p of params) p.grad!.zeroInPlace();
  });
  Deno.bench({ name: "adamant conv2d forward only", group }, () => {
    tidy(() => conv2d(x, w, b, { padding: 1 }).realize());
  });
}

layer(128, 1, 16, 28, false);
layer(128, 16, 32, 14, true);

{
  const group = "pooling 2x2 of [128, 16, 28, 28], forward + backward";
  const x = tensor(random(128 * 16 * 28 * 28, 5), { shape: [128, 16, 28, 28], requiresGrad: true });
  const gradOut = tensor(random(128 * 16 * 14 * 14, 6), { shape: [128, 16, 14, 14] });
  Deno.bench({ name: "maxPool2d", group, baseline: true }, () => {
    tidy(() => maxPool2d(x, 2).backward(gradOut));
    x.grad!.zeroInPlace();
  });
  Deno.bench({ name: "avgPool2d", group }, () => {
    tidy(() => avgPool2d(x, 2).backward(gradOut));
    x.grad!.zeroInPlace();
  });
}
