/**
 * Adam's and AdamW's SIMD loop against the JavaScript loop: the same bits in every option
 * combination, in both dtypes, over unaligned ranges with a tail.
 */
import assert from "node:assert/strict";
import { adamUpdate, adamwUpdate, type Tensor, tensor } from "../../mod.ts";
import { adamSimdElements } from "../../optim/adam_simd.ts";
import { heapAddress } from "../../tensor/heap.ts";
import type { AdamState, FloatArray } from "../../optim/update.ts";

const N = 1031;

function noise(seed: number, scale: number): number[] {
  let s = seed;
  return Array.from({ length: N }, (_, i) => {
    if (i % 97 === 0) return [0, -0, 1e-30, 1e6][i % 4];
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * scale;
  });
}

interface Arrays {
  p: FloatArray;
  g: FloatArray;
  state: AdamState;
}

/** The same values twice: in heap tensors (kept in `keep`) and in plain arrays. */
function arrays(dtype: "float32" | "float64", keep: Tensor[]): [Arrays, Arrays] {
  const values = [noise(1, 2), noise(2, 0.1), noise(3, 0.01), noise(4, 0.001).map(Math.abs)];
  values.push(values[3].map((x) => x * 1.5));
  const heap = values.map((v) => {
    const t = tensor(v, { dtype });
    keep.push(t);
    return t.data as FloatArray;
  });
  const plain = values.map((v) => dtype === "float64" ? new Float64Array(v) : new Float32Array(v));
  const pack = (a: FloatArray[]): Arrays => ({
    p: a[0],
    g: a[1],
    state: { m: a[2], v: a[3], vMax: a[4] },
  });
  return [pack(heap), pack(plain)];
}

function same(got: FloatArray, want: FloatArray, what: string): void {
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) {
      assert.fail(`${what}[${i}]: SIMD ${got[i]}, JavaScript ${want[i]}`);
    }
  }
}

for (const dtype of ["float32", "float64"] as const) {
  for (const decoupled of [false, true]) {
    for (const amsgrad of [false, true]) {
      for (const maximize of [false, true]) {
        for (const weightDecay of [0, 0.1]) {
          const name = `${decoupled ? "AdamW" : "Adam"} SIMD (${dtype}, amsgrad ${amsgrad}, ` +
            `maximize ${maximize}, weight decay ${weightDecay}) gives the JavaScript loop's bits`;
          Deno.test(name, () => {
            const keep: Tensor[] = [];
            const [heap, plain] = arrays(dtype, keep);
            assert.ok(heapAddress(heap.p) >= 0 && heapAddress(plain.p) < 0);
            const update = decoupled ? adamwUpdate : adamUpdate;
            const before = adamSimdElements.count;
            for (let step = 1; step <= 3; step++) {
              const hyper = {
                lr: 0.01,
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
                weightDecay,
                amsgrad,
                maximize,
                step,
              };
              // from 1: every address off 16-byte alignment; 1030 elements leave a tail of 2
              update(heap.p, heap.g, heap.state, hyper, 1, N);
              update(plain.p, plain.g, plain.state, hyper, 1, N);
            }
            assert.equal(
              adamSimdElements.count - before,
              3 * 1028,
              "the heap arrays took the SIMD loop",
            );
            same(heap.p, plain.p, "param");
            same(heap.state.m, plain.state.m, "m");
            same(heap.state.v, plain.state.v, "v");
            same(heap.state.vMax!, plain.state.vMax!, "vMax");
            assert.notDeepEqual(
              [...heap.p],
              noise(1, 2).map((x) => dtype === "float32" ? Math.fround(x) : x),
            );
            for (const t of keep) t.dispose();
          });
        }
      }
    }
  }
}

Deno.test("float32 Adam rounds every operation to float32, as PyTorch's float32 kernels do", () => {
  const f = Math.fround;
  const keep: Tensor[] = [];
  const [heap, plain] = arrays("float32", keep);
  const p0 = [...heap.p], g = [...heap.g], m0 = [...heap.state.m], v0 = [...heap.state.v];
  const hyper = {
    lr: 0.01,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
    step: 1,
  };
  adamUpdate(heap.p, heap.g, heap.state, hyper, 0, N);
  adamUpdate(plain.p, plain.g, plain.state, hyper, 0, N);
  const [b1, c1, b2, c2] = [f(0.9), f(1 - 0.9), f(0.999), f(1 - 0.999)];
  const bc2 = f(Math.sqrt(1 - 0.999)), stepSize = f(0.01 / (1 - 0.9)), eps = f(1e-8);
  let doubleDiffers = 0;
  for (let i = 0; i < N; i++) {
    const mi = f(f(b1 * m0[i]) + f(c1 * g[i]));
    const vi = f(f(b2 * v0[i]) + f(f(c2 * g[i]) * g[i]));
    const want = f(p0[i] - f(stepSize * f(mi / f(f(f(Math.sqrt(vi)) / bc2) + eps))));
    assert.ok(Object.is(heap.p[i], want), `SIMD element ${i}: ${heap.p[i]}, float32 ${want}`);
    assert.ok(
      Object.is(plain.p[i], want),
      `JavaScript element ${i}: ${plain.p[i]}, float32 ${want}`,
    );
    // the same formula in double, rounded once, differs somewhere: the test can fail
    const m64 = 0.9 * m0[i] + 0.1 * g[i], v64 = 0.999 * v0[i] + 0.001 * g[i] * g[i];
    const once = f(p0[i] - 0.1 * (m64 / (Math.sqrt(v64) / Math.sqrt(0.001) + 1e-8)));
    if (!Object.is(once, want)) doubleDiffers++;
  }
  assert.ok(doubleDiffers > 0, "double arithmetic would give other bits");
  for (const t of keep) t.dispose();
});
