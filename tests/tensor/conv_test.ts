/**
 * conv2d, maxPool2d, avgPool2d, unfold and fold: gradcheck and gradgradcheck in float64,
 * agreement with PyTorch 1.13 (tests/fixtures/gen_conv.py writes conv.json), with the
 * direct-convolution reference loop, errors, and reuse of pooled memory.
 */
import assert, { AssertionError } from "node:assert/strict";
import {
  avgPool2d,
  conv2d,
  type Conv2dOptions,
  type Device,
  fold,
  gradcheck,
  gradgradcheck,
  manualSeed,
  maxPool2d,
  memory,
  noGrad,
  ones,
  randn,
  Storage,
  Tensor,
  tensor,
  tidy,
  unfold,
  zeros,
} from "../../mod.ts";
import {
  conv2dReference,
  type Float,
  outputSize,
  simdCalls,
  type Window2d,
} from "../../tensor/cpu/conv.ts";
import { hasGpu, synced } from "../device.ts";

const F64 = { dtype: "float64" } as const;

/** Seeded standard normal tensors, one per shape. */
function rn(seed: number, shapes: number[][], dtype: "float32" | "float64" = "float64"): Tensor[] {
  manualSeed(seed);
  return shapes.map((s) => randn(s, { dtype }));
}

/** A float64 tensor of `shape` whose values are a shuffled ramp 0.1 apart: no ties. */
function distinct(seed: number, shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, (_, i) => (i - n / 2) * 0.1);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [values[i], values[j]] = [values[j], values[i]];
  }
  return tensor(new Float64Array(values), { shape });
}

type Fn = (...xs: Tensor[]) => Tensor;

/** First and second order checks of `fn`, plus the second order of its square. */
function checkAllOrders(fn: Fn, inputs: Tensor[]): void {
  assert.ok(gradcheck(fn, inputs));
  assert.ok(gradgradcheck(fn, inputs));
  assert.ok(gradgradcheck((...xs) => fn(...xs).square(), inputs));
}

// ---- gradcheck -------------------------------------------------------------------------------

Deno.test("conv2d() passes gradcheck for stride 1 and 2, padding 0 and 1, groups 1 and 3, with and without bias", async (t) => {
  let seed = 1;
  for (const stride of [1, 2]) {
    for (const padding of [0, 1]) {
      for (const groups of [1, 3]) {
        for (const withBias of [true, false]) {
          const o = groups === 1 ? 4 : 6;
          const name = `stride ${stride}, padding ${padding}, groups ${groups}, ` +
            (withBias ? "bias" : "no bias");
          await t.step(name, () => {
            const [x, w, b] = rn(seed++, [[2, 3, 5, 5], [o, 3 / groups, 3, 3], [o]]);
            const options: Conv2dOptions = { stride, padding, groups };
            if (withBias) {
              assert.ok(gradcheck((x, w, b) => conv2d(x, w, b, options), [x, w, b]));
            } else {
              assert.ok(gradcheck((x, w) => conv2d(x, w, undefined, options), [x, w]));
            }
          });
        }
      }
    }
  }
});

Deno.test("conv2d() passes gradcheck with dilation, rectangular kernels and strided inputs", async (t) => {
  await t.step("dilation 2, padding 2", () => {
    const [x, w, b] = rn(20, [[2, 2, 6, 6], [3, 2, 3, 3], [3]]);
    assert.ok(gradcheck((x, w, b) => conv2d(x, w, b, { dilation: 2, padding: 2 }), [x, w, b]));
  });
  await t.step("rectangular kernel, per-axis stride, padding and dilation", () => {
    const [x, w] = rn(21, [[1, 2, 6, 7], [3, 2, 2, 3]]);
    const options = { stride: [2, 1], padding: [1, 0], dilation: [1, 2] } as const;
    assert.ok(gradcheck((x, w) => conv2d(x, w, null, options), [x, w]));
  });
  await t.step("a channels-last input permuted to NCHW and a transposed weight", () => {
    const [x, w, b] = rn(22, [[2, 5, 5, 3], [3, 4, 3, 3], [4]]);
    const fn = (x: Tensor, w: Tensor, b: Tensor) =>
      conv2d(x.permute([0, 3, 1, 2]), w.transpose(0, 1), b, { padding: 1 });
    assert.ok(gradcheck(fn, [x, w, b]));
  });
  await t.step("one unbatched image [C, H, W]", () => {
    const [x, w, b] = rn(23, [[3, 5, 4], [2, 3, 3, 3], [2]]);
    assert.ok(gradcheck((x, w, b) => conv2d(x, w, b, { padding: 1 }), [x, w, b]));
  });
});

Deno.test("conv2d() has correct second derivatives (gradgradcheck)", async (t) => {
  const cases: [string, number[][], Conv2dOptions][] = [
    ["stride 1, no padding, bias", [[2, 3, 5, 5], [4, 3, 3, 3], [4]], {}],
    ["stride 2, padding 1, groups 3, bias", [[2, 3, 5, 5], [6, 1, 3, 3], [6]], {
      stride: 2,
      padding: 1,
      groups: 3,
    }],
    ["dilation 2, padding 1", [[1, 2, 5, 5], [2, 2, 2, 2], [2]], { dilation: 2, padding: 1 }],
  ];
  let seed = 30;
  for (const [name, shapes, options] of cases) {
    await t.step(name, () => {
      checkAllOrders((x, w, b) => conv2d(x, w, b, options), rn(seed++, shapes));
    });
  }
});

Deno.test("maxPool2d() passes gradcheck and gradgradcheck on inputs without ties", async (t) => {
  const cases: [string, number[], () => Fn][] = [
    ["kernel 2", [2, 3, 6, 6], () => (x) => maxPool2d(x, 2)],
    [
      "kernel 3, stride 2, padding 1",
      [2, 2, 5, 5],
      () => (x) => maxPool2d(x, 3, { stride: 2, padding: 1 }),
    ],
    ["overlapping kernel 2, stride 1", [1, 2, 4, 5], () => (x) => maxPool2d(x, 2, { stride: 1 })],
    [
      "rectangular kernel with dilation",
      [1, 2, 7, 6],
      () => (x) => maxPool2d(x, [2, 3], { stride: [2, 1], dilation: [2, 1], padding: [1, 1] }),
    ],
    ["unbatched", [2, 4, 4], () => (x) => maxPool2d(x, 2)],
  ];
  let seed = 40;
  for (const [name, shape, make] of cases) {
    await t.step(name, () => checkAllOrders(make(), [distinct(seed++, shape)]));
  }
});

Deno.test("avgPool2d() passes gradcheck and gradgradcheck, counting padding or not", async (t) => {
  const cases: [string, number[], Fn][] = [
    ["kernel 2", [2, 3, 6, 6], (x) => avgPool2d(x, 2)],
    [
      "kernel 3, stride 2, padding 1",
      [2, 2, 5, 5],
      (x) => avgPool2d(x, 3, { stride: 2, padding: 1 }),
    ],
    [
      "kernel 3, stride 2, padding 1, countIncludePad false",
      [2, 2, 5, 5],
      (x) => avgPool2d(x, 3, { stride: 2, padding: 1, countIncludePad: false }),
    ],
    [
      "overlapping rectangular windows",
      [1, 2, 5, 6],
      (x) => avgPool2d(x, [2, 3], { stride: 1, padding: [1, 1], countIncludePad: false }),
    ],
  ];
  let seed = 50;
  for (const [name, shape, fn] of cases) {
    await t.step(name, () => checkAllOrders(fn, rn(seed++, [shape])));
  }
});

Deno.test("unfold() and fold() pass gradcheck and gradgradcheck", async (t) => {
  await t.step("unfold with stride, padding and dilation", () => {
    const fn = (x: Tensor) => unfold(x, [3, 2], { stride: 2, padding: 1, dilation: [1, 2] });
    checkAllOrders(fn, rn(60, [[1, 2, 6, 6]]));
  });
  await t.step("fold with stride and padding", () => {
    const fn = (c: Tensor) => fold(c, 5, 3, { stride: 2, padding: 1 });
    checkAllOrders(fn, rn(61, [[2, 18, 9]]));
  });
});

// ---- against PyTorch ---------------------------------------------------------------------------

interface Encoded {
  shape: number[];
  dtype: "float32" | "float64";
  data: number[];
}

interface Case {
  name: string;
  op: "conv2d" | "maxPool2d" | "avgPool2d" | "unfold" | "fold";
  // deno-lint-ignore no-explicit-any
  args: Record<string, any>;
  inputs: (Encoded & { permute?: number[] })[];
  w: Encoded;
  out: Encoded;
  grads: Encoded[];
}

const fixture: { torch: string; cases: Case[] } = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/conv.json", import.meta.url)),
);

function run(c: Case, xs: Tensor[]): Tensor {
  const a = c.args;
  switch (c.op) {
    case "conv2d":
      return conv2d(xs[0], xs[1], xs[2], {
        stride: a.stride,
        padding: a.padding,
        dilation: a.dilation,
        groups: a.groups,
      });
    case "maxPool2d":
      return maxPool2d(xs[0], a.kernelSize, {
        stride: a.stride,
        padding: a.padding,
        dilation: a.dilation,
      });
    case "avgPool2d":
      return avgPool2d(xs[0], a.kernelSize, {
        stride: a.stride,
        padding: a.padding,
        countIncludePad: a.countIncludePad,
      });
    case "unfold":
      return unfold(xs[0], a.kernelSize, a);
    case "fold":
      return fold(xs[0], a.outputSize, a.kernelSize, a);
  }
}

/** Fails naming the case and the worst element unless `actual` is within rtol 1e-4, atol 1e-5. */
async function assertClose(actual: Tensor, expected: Encoded, what: string): Promise<void> {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const got = await actual.read(), rtol = 1e-4, atol = 1e-5;
  let worst = -1, worstRatio = 1;
  for (let i = 0; i < got.length; i++) {
    const ratio = Math.abs(got[i] - expected.data[i]) / (atol + rtol * Math.abs(expected.data[i]));
    if (!(ratio <= worstRatio)) [worst, worstRatio] = [i, ratio];
  }
  if (worst >= 0) {
    throw new AssertionError({
      message: `${what}: element ${worst} is ${got[worst]}, PyTorch gives ${
        expected.data[worst]
      } (rtol 1e-4, atol 1e-5)`,
    });
  }
}

const torchVersion = fixture.torch.replace(/^(\d+\.\d+).*$/, "$1");
async function runCase(c: Case, device: Device): Promise<void> {
  const leaves = c.inputs.map((e) =>
    tensor(e.data, { shape: e.shape, dtype: e.dtype, requiresGrad: true, device })
  );
  const xs = leaves.map((x, i) => c.inputs[i].permute ? x.permute(c.inputs[i].permute!) : x);
  const out = run(c, xs);
  await assertClose(out, c.out, `${c.name}: output`);
  const w = tensor(c.w.data, { shape: c.w.shape, dtype: c.w.dtype, device });
  out.mul(w).sum().backward();
  for (const [i, x] of leaves.entries()) {
    assert.ok(x.grad !== null, `${c.name}: no gradient reached input ${i}`);
    await assertClose(x.grad, c.grads[i], `${c.name}: gradient of input ${i}`);
  }
}

for (const c of fixture.cases) {
  Deno.test(
    `torch: ${c.name} matches PyTorch ${torchVersion} in output and gradients`,
    () => runCase(c, "cpu"),
  );
}

// the float32 cases again on the GPU, in one test so they share its set-up
const gpuCases = fixture.cases.filter((c) => c.inputs.every((e) => e.dtype === "float32"));
if (hasGpu) {
  Deno.test({
    name: `torch: ${gpuCases.length} conv and pool cases on the GPU match PyTorch ${torchVersion}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: synced(async (t) => {
      for (const c of gpuCases) await t.step(c.name, () => runCase(c, "gpu"));
    }),
  });
} else console.log("skip conv cases on the GPU: navigator.gpu has no adapter");

// ---- against the direct loop -------------------------------------------------------------------

function windowFor(x: Tensor, w: Tensor, o: Required<Omit<Conv2dOptions, "groups">>): Window2d {
  const [n, c, h, wd] = x.shape, [, , kh, kw] = w.shape;
  const two = (v: number | readonly [number, number]) => typeof v === "number" ? [v, v] : v;
  const [sh, sw] = two(o.stride), [ph, pw] = two(o.padding), [dh, dw] = two(o.dilation);
  return {
    n,
    c,
    h,
    w: wd,
    kh,
    kw,
    sh,
    sw,
    ph,
    pw,
    dh,
    dw,
    oh: outputSize(h, kh, sh, ph, dh),
    ow: outputSize(wd, kw, sw, pw, dw),
  };
}

Deno.test("conv2d() matches the direct-convolution reference loop in float32 and float64", async (t) => {
  const cases: [string, number[][], Conv2dOptions][] = [
    ["Fashion-MNIST first layer, 1 -> 16 at 28x28", [[4, 1, 28, 28], [16, 1, 3, 3], [16]], {
      padding: 1,
    }],
    ["second layer, 16 -> 32 at 14x14", [[2, 16, 14, 14], [32, 16, 3, 3], [32]], { padding: 1 }],
    ["5x5 kernel, stride 2, groups 4", [[2, 8, 13, 11], [12, 2, 5, 5], [12]], {
      stride: 2,
      padding: 2,
      groups: 4,
    }],
    ["dilated, rectangular", [[1, 3, 10, 12], [5, 3, 2, 3], [5]], {
      stride: [1, 2],
      padding: [0, 3],
      dilation: [3, 1],
    }],
  ];
  let seed = 70;
  for (const dtype of ["float32", "float64"] as const) {
    for (const [name, shapes, options] of cases) {
      await t.step(`${dtype}: ${name}`, () => {
        const [x, w, b] = rn(seed++, shapes, dtype);
        const got = conv2d(x, w, b, options);
        const full = { stride: 1, padding: 0, dilation: 1, ...options };
        const g = windowFor(x, w, full);
        const expected = new Float64Array(got.size);
        conv2dReference(
          x.toArray() as Float,
          w.toArray() as Float,
          b.toArray() as Float,
          g,
          w.shape[0],
          options.groups ?? 1,
          expected,
        );
        const tol = dtype === "float32" ? 1e-4 : 1e-12;
        const actual = got.toArray();
        for (let i = 0; i < expected.length; i++) {
          const err = Math.abs(actual[i] - expected[i]);
          if (err > tol * (1 + Math.abs(expected[i]))) {
            assert.fail(`element ${i}: conv2d gives ${actual[i]}, the loop ${expected[i]}`);
          }
        }
      });
    }
  }
});

Deno.test("float32 conv2d and pools still agree with the reference after float64 calls", () => {
  const [x, w] = rn(80, [[2, 3, 9, 9], [4, 3, 3, 3]], "float32");
  const before = conv2d(x, w, null, { padding: 1 }).toArray();
  const pooledBefore = maxPool2d(x, 2).toArray();
  const [x64, w64] = rn(81, [[2, 3, 9, 9], [4, 3, 3, 3]]);
  conv2d(x64, w64, null, { padding: 1 }).sum().item();
  maxPool2d(x64, 2).sum().item();
  assert.deepEqual(conv2d(x, w, null, { padding: 1 }).toArray(), before);
  assert.deepEqual(maxPool2d(x, 2).toArray(), pooledBefore);
});

// ---- behaviour --------------------------------------------------------------------------------

Deno.test("conv2d() of an unbatched image equals the batched result without its batch axis", () => {
  const [x, w, b] = rn(90, [[3, 6, 5], [4, 3, 3, 3], [4]]);
  const one = conv2d(x, w, b, { padding: 1 });
  const batched = conv2d(x.unsqueeze(0), w, b, { padding: 1 });
  assert.deepEqual(one.shape, [4, 6, 5]);
  assert.deepEqual(one.toArray(), batched.squeeze(0).toArray());
});

Deno.test("conv2d() sends gradients only to the inputs that require them", () => {
  const [x, w, b] = rn(91, [[2, 3, 5, 5], [4, 3, 3, 3], [4]]);
  w.requiresGrad = true;
  conv2d(x, w, b).sum().backward();
  assert.deepEqual(w.grad!.shape, [4, 3, 3, 3]);
  assert.equal(x.grad, null);
  assert.equal(b.grad, null);
  assert.ok(!noGrad(() => conv2d(x, w, b)).requiresGrad);
});

Deno.test("maxPool2d() gives a tied window's whole gradient to its first maximum", () => {
  const x = tensor([[[[2, 2], [2, 2]]]], { requiresGrad: true });
  maxPool2d(x, 2).sum().backward();
  assert.deepEqual([...x.grad!.toArray()], [1, 0, 0, 0]);
});

Deno.test("maxPool2d() without padding (its unrolled fast paths) matches plain loops, NaN and ties", () => {
  // values 0..4 with ties, a NaN here and there; a permuted (strided) view as well
  const [n, c, h, w] = [2, 3, 15, 21]; // outputs of 1 KiB and more: the SIMD kernel
  const values = Array.from(
    { length: n * c * h * w },
    (_, i) => (i % 13 === 5 ? NaN : (i * 7) % 5),
  );
  const base = tensor(values).reshape([n, h, w, c]);
  for (const x of [base.permute([0, 3, 1, 2]), base.permute([0, 3, 1, 2]).contiguous()]) {
    for (const [k, stride] of [[2, 2], [2, 1], [3, 2], [3, 3], [1, 1]]) {
      const oh = Math.floor((h - k) / stride) + 1, ow = Math.floor((w - k) / stride) + 1;
      const xs = x.toNested() as number[][][][];
      const want: number[] = [];
      for (let b = 0; b < n; b++) {
        for (let ci = 0; ci < c; ci++) {
          for (let y = 0; y < oh; y++) {
            for (let ox = 0; ox < ow; ox++) {
              let best = xs[b][ci][y * stride][ox * stride];
              for (let i = 0; i < k; i++) {
                for (let j = 0; j < k; j++) {
                  const v = xs[b][ci][y * stride + i][ox * stride + j];
                  if (v > best || v !== v) best = v;
                }
              }
              want.push(best);
            }
          }
        }
      }
      const before = simdCalls.maxPool;
      const got = [...maxPool2d(x, k, { stride }).toArray()];
      if (k === 2 && stride === 2 && x.isContiguous) {
        assert.equal(simdCalls.maxPool - before, 1, "2x2 windows over heap tensors run as SIMD");
      }
      got.forEach((v, i) =>
        assert.ok(Object.is(v, want[i]), `k ${k} stride ${stride}: [${i}] ${v} vs ${want[i]}`)
      );
    }
  }
});

Deno.test("maxPool2d() without padding sends each window's gradient where plain loops pick", () => {
  const [n, c, h, w] = [2, 3, 15, 21]; // outputs of 1 KiB and more: the SIMD kernel
  const values = Array.from(
    { length: n * c * h * w },
    (_, i) => (i % 13 === 5 ? NaN : (i * 7) % 5),
  );
  for (const [k, stride] of [[2, 2], [3, 2]]) {
    const x = tensor(values, { requiresGrad: true });
    maxPool2d(x.reshape([n, c, h, w]), k, { stride }).sum().backward();
    const oh = Math.floor((h - k) / stride) + 1, ow = Math.floor((w - k) / stride) + 1;
    const want = new Array<number>(values.length).fill(0);
    for (let plane = 0; plane < n * c; plane++) {
      for (let y = 0; y < oh; y++) {
        for (let ox = 0; ox < ow; ox++) {
          let best = NaN, arg = -1;
          for (let i = 0; i < k; i++) {
            for (let j = 0; j < k; j++) {
              const at = plane * h * w + (y * stride + i) * w + ox * stride + j;
              const v = values[at];
              if (arg < 0 || v > best || v !== v) [best, arg] = [v, at];
            }
          }
          want[arg] += 1;
        }
      }
    }
    assert.deepEqual([...x.grad!.toArray()], want, `k ${k} stride ${stride}`);
  }
});

Deno.test("maxPool2d() never picks padding, even when every input is negative", () => {
  const x = tensor([[[[-5, -4], [-3, -2]]]]);
  assert.deepEqual([...maxPool2d(x, 2, { stride: 1, padding: 1 }).toArray()], [
    -5,
    -4,
    -4,
    -3,
    -2,
    -2,
    -3,
    -2,
    -2,
  ]);
});

Deno.test("unfold() and fold() over heap tensors (the SIMD rows) give the plain loops' bits", () => {
  manualSeed(11);
  const configs: {
    k: [number, number];
    padding: [number, number];
    stride: [number, number];
    dilation: number;
  }[] = [
    { k: [3, 3], padding: [1, 1], stride: [1, 1], dilation: 1 },
    { k: [3, 3], padding: [0, 0], stride: [2, 1], dilation: 1 },
    { k: [2, 2], padding: [1, 1], stride: [1, 1], dilation: 2 },
    { k: [3, 2], padding: [1, 0], stride: [1, 1], dilation: 1 },
  ];
  for (const { k, padding, stride, dilation } of configs) {
    const image = randn([2, 3, 11, 13]);
    const before = { ...simdCalls };
    const cols = unfold(image, k, { padding, stride, dilation });
    const plainImage = new Tensor(new Storage(image.toArray(), false), image.shape);
    const plainCols = unfold(plainImage, k, { padding, stride, dilation }).toArray();
    cols.toArray().forEach((v, i) =>
      assert.ok(Object.is(v, plainCols[i]), `unfold k ${k}: [${i}]`)
    );
    const plain = new Tensor(new Storage(cols.toArray(), false), cols.shape);
    const options = { padding, stride, dilation };
    const got = fold(cols, [11, 13], k, options).toArray();
    const simd = stride[1] === 1 ? 1 : 0; // the SIMD rows serve stride-1 columns
    assert.equal(simdCalls.im2col - before.im2col, simd, "unfold took the SIMD rows");
    assert.equal(simdCalls.col2im - before.col2im, simd, "fold took the SIMD rows");
    const want = fold(plain, [11, 13], k, options).toArray();
    assert.equal(got.length, want.length);
    got.forEach((v, i) => assert.ok(Object.is(v, want[i]), `k ${k} stride ${stride}: [${i}]`));
  }
});

Deno.test("fold() of unfold() counts how many windows cover each pixel", () => {
  const counts = fold(unfold(ones([1, 2, 4, 4]), 3, { padding: 1 }), 4, 3, { padding: 1 });
  const plane = [4, 6, 6, 4, 6, 9, 9, 6, 6, 9, 9, 6, 4, 6, 6, 4];
  assert.deepEqual([...counts.toArray()], [...plane, ...plane]);
});

// ---- memory ------------------------------------------------------------------------------------

Deno.test("conv2d() under noGrad returns its im2col buffer to the pool at once", () => {
  const [x, w, b] = rn(100, [[8, 4, 16, 16], [8, 4, 3, 3], [8]], "float32");
  // no tidy scope: only the output is disposed, so a second call finds the columns'
  // buffer in the pool only if conv2d released it itself
  const infer = () => noGrad(() => conv2d(x, w, b, { padding: 1 }));
  infer().dispose();
  const before = memory().freshBytes;
  for (let i = 0; i < 3; i++) infer().dispose();
  assert.equal(memory().freshBytes - before, 0);
});

Deno.test("a conv2d + maxPool2d + avgPool2d training step allocates no fresh memory after warm-up", () => {
  const [x, w1, b1, w2] = rn(101, [[8, 1, 12, 12], [4, 1, 3, 3], [4], [6, 4, 3, 3]], "float32");
  for (const p of [w1, b1, w2]) p.requiresGrad = true;
  const step = () =>
    tidy(() => {
      const h = maxPool2d(conv2d(x, w1, b1, { padding: 1 }).relu(), 2);
      const loss = avgPool2d(conv2d(h, w2, null, { stride: 2, padding: 1 }), 3, { padding: 1 })
        .square().mean();
      loss.backward();
      noGrad(() => {
        for (const p of [w1, b1, w2]) {
          p.subInPlace(p.grad!.mul(0.1));
          p.grad!.zeroInPlace();
        }
      });
      return loss.item();
    });
  for (let i = 0; i < 3; i++) step();
  const before = memory().freshBytes;
  for (let i = 0; i < 3; i++) step();
  assert.equal(memory().freshBytes - before, 0);
});

// ---- errors ------------------------------------------------------------------------------------

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

function throwsWith(fn: () => unknown, cls: ErrorClass, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as Error).constructor, cls, `expected ${cls.name}, got ${String(e)}`);
    for (const f of fragments) {
      assert.ok((e as Error).message.includes(f), `"${f}" missing from: ${(e as Error).message}`);
    }
    return true;
  });
}

Deno.test("conv2d() rejects inputs and weights of the wrong rank", () => {
  throwsWith(() => conv2d(ones([5, 5]), ones([1, 1, 3, 3])), TypeError, "conv2d", "[5, 5]", "4-D");
  throwsWith(() => conv2d(ones([1, 1, 1, 5, 5]), ones([1, 1, 3, 3])), TypeError, "[1, 1, 1, 5, 5]");
  throwsWith(
    () => conv2d(ones([1, 1, 5, 5]), ones([1, 3, 3])),
    TypeError,
    "conv2d",
    "weight",
    "[1, 3, 3]",
  );
});

Deno.test("conv2d() rejects a channel mismatch, naming both shapes", () => {
  throwsWith(
    () => conv2d(ones([2, 3, 5, 5]), ones([4, 2, 3, 3])),
    TypeError,
    "conv2d",
    "[2, 3, 5, 5]",
    "[4, 2, 3, 3]",
    "3 channels",
  );
  throwsWith(
    () => conv2d(ones([2, 4, 5, 5]), ones([4, 4, 3, 3]), null, { groups: 2 }),
    TypeError,
    "[2, 4, 5, 5]",
    "[4, 4, 3, 3]",
    "groups=2",
  );
  throwsWith(
    () => conv2d(ones([2, 4, 5, 5]), ones([3, 2, 3, 3]), null, { groups: 2 }),
    TypeError,
    "3 output channels",
    "groups=2",
  );
});

Deno.test("conv2d() rejects a kernel larger than the padded input", () => {
  throwsWith(
    () => conv2d(ones([1, 1, 2, 2]), ones([1, 1, 3, 3])),
    TypeError,
    "conv2d",
    "kernel 3x3",
    "padded input 2x2",
  );
  throwsWith(
    () => conv2d(ones([1, 1, 4, 4]), ones([1, 1, 3, 3]), null, { dilation: 2 }),
    TypeError,
    "5x5",
    "dilation 2x2",
  );
  conv2d(ones([1, 1, 2, 2]), ones([1, 1, 3, 3]), null, { padding: 1 }); // fits once padded
});

Deno.test("conv2d() rejects non-positive strides, negative padding and bad groups", () => {
  const x = ones([1, 2, 5, 5]), w = ones([2, 2, 3, 3]);
  throwsWith(
    () => conv2d(x, w, null, { stride: 0 }),
    RangeError,
    "conv2d",
    "stride",
    "positive",
    "0",
  );
  throwsWith(() => conv2d(x, w, null, { stride: [1, -2] }), RangeError, "stride", "[1, -2]");
  throwsWith(() => conv2d(x, w, null, { padding: -1 }), RangeError, "padding", "non-negative");
  throwsWith(() => conv2d(x, w, null, { dilation: 0 }), RangeError, "dilation");
  throwsWith(() => conv2d(x, w, null, { stride: 1.5 }), TypeError, "stride", "integer");
  throwsWith(() => conv2d(x, w, null, { groups: 0 }), RangeError, "groups");
});

Deno.test("conv2d() rejects a bias of the wrong shape and mismatched dtypes", () => {
  const x = ones([1, 2, 5, 5]), w = ones([3, 2, 3, 3]);
  throwsWith(() => conv2d(x, w, ones([2])), TypeError, "conv2d", "bias", "[3]", "[2]");
  throwsWith(() => conv2d(x, w.double()), TypeError, "conv2d", "float32", "float64");
  throwsWith(() => conv2d(x, w, ones([3], F64)), TypeError, "bias", "float64");
  throwsWith(() => conv2d(zeros([1, 2, 5, 5], { dtype: "int32" }), w), TypeError, "int32");
});

Deno.test("maxPool2d() and avgPool2d() reject bad ranks, kernels, strides and padding", () => {
  throwsWith(() => maxPool2d(ones([4, 4]), 2), TypeError, "maxPool2d", "[4, 4]");
  throwsWith(() => avgPool2d(ones([1, 1, 1, 4, 4]), 2), TypeError, "avgPool2d", "[1, 1, 1, 4, 4]");
  throwsWith(() => maxPool2d(ones([1, 1, 2, 2]), 3), TypeError, "maxPool2d", "kernel 3x3", "2x2");
  throwsWith(() => avgPool2d(ones([1, 1, 4, 4]), 2, { stride: 0 }), RangeError, "stride");
  throwsWith(() => maxPool2d(ones([1, 1, 4, 4]), 0), RangeError, "kernelSize");
  throwsWith(
    () => maxPool2d(ones([1, 1, 4, 4]), 2, { padding: 2 }),
    RangeError,
    "maxPool2d",
    "padding [2, 2]",
    "half the kernel size [2, 2]",
  );
  throwsWith(() => avgPool2d(ones([1, 1, 4, 4]), 3, { padding: 2 }), RangeError, "avgPool2d");
});

Deno.test("unfold() and fold() reject shapes that do not fit", () => {
  throwsWith(() => unfold(ones([1, 4, 4]), 2), TypeError, "unfold", "4-D");
  throwsWith(() => fold(ones([1, 5, 4]), 3, 2), TypeError, "fold", "5 rows", "2x2");
  throwsWith(() => fold(ones([1, 4, 5]), 3, 2), TypeError, "fold", "5 blocks", "2x2 = 4");
});
