/** `reduceRange`'s SIMD loop over heap buffers against its JavaScript loop: the same bits. */
import assert from "node:assert/strict";
import { reduceRange, simdReduced } from "../../parallel/collectives.ts";
import { acquire, release } from "../../tensor/pool.ts";
import { heapAddress } from "../../tensor/heap.ts";

/** `length` seeded values with zeros, signed zeros, NaN and large magnitudes among them. */
function values(length: number, seed: number): number[] {
  const special = [0, -0, NaN, 3e38, -3e38, 1e-40];
  let s = seed;
  return Array.from({ length }, (_, i) => {
    if (i % 7 === 0) return special[(i / 7 + seed) % special.length];
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * 10;
  });
}

for (const dtype of ["float32", "float64"] as const) {
  for (const ranks of [1, 2, 3]) {
    for (const weighted of [false, true]) {
      Deno.test(`reduceRange: SIMD over ${ranks} heap buffer(s) (${dtype}, ${weighted ? "weighted" : "plain"}) gives the JavaScript loop's bits`, () => {
        const n = 1037, from = 5, to = 1030; // a ragged tail, and unaligned ends
        const heap = Array.from({ length: ranks }, (_, r) => {
          const a = acquire(dtype, n) as Float32Array | Float64Array;
          a.set(values(n, r + 1));
          return a;
        });
        assert.ok(heap.every((a) => heapAddress(a) >= 0));
        const plain = heap.map((a) => a.slice());
        const weights = weighted ? [0.25, 1 / 3, -2].slice(0, ranks) : undefined;
        const outHeap = heap[ranks - 1], outPlain = plain[ranks - 1];
        const before = simdReduced.elements;
        reduceRange(heap, weights, outHeap, from, to);
        const simd = simdReduced.elements - before;
        reduceRange(plain, weights, outPlain, from, to);
        assert.equal(simdReduced.elements - before, simd, "plain buffers took the JavaScript loop");
        // one rank of weight 1 summing into itself does nothing at all
        assert.equal(simd, ranks === 1 && !weighted ? 0 : 1024);
        for (let i = 0; i < n; i++) {
          if (!Object.is(outHeap[i], outPlain[i])) {
            assert.fail(`element ${i}: SIMD ${outHeap[i]}, JavaScript ${outPlain[i]}`);
          }
        }
        heap.forEach(release);
      });
    }
  }
}
