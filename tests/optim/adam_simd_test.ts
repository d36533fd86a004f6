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
