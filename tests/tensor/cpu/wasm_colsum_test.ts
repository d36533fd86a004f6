/**
 * The SIMD column sum behind `sum` over leading axes of a float32 tensor in the heap (a
 * bias's gradient): the bits of the strided loop's float64 accumulation, row after row,
 * with tails and offsets; and the cases that keep the strided loop.
 */
import assert from "node:assert/strict";
import { manualSeed, randn, type Tensor } from "../../../mod.ts";
import { colSumCalls } from "../../../tensor/cpu/wasm_colsum.ts";

/** Σ over the first `lead` dimensions in double, row after row, rounded once to float32. */
function expected(x: Tensor, lead: number): Float32Array {
  const values = x.toArray(), rows = x.shape.slice(0, lead).reduce((a, b) => a * b, 1);
  const cols = x.size / rows, acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) acc[c] += values[r * cols + c];
  return Float32Array.from(acc);
}

Deno.test("sum over leading axes of a float32 heap tensor runs the SIMD column sum, with the loop's bits", () => {
  manualSeed(21);
  const cases: [string, () => Tensor, number[]][] = [
    ["[128, 256] over the batch", () => randn([128, 256]), [0]],
    ["[33, 259]: a tail of 3 columns", () => randn([33, 259]), [0]],
    ["[3, 5, 130] over two axes", () => randn([3, 5, 130]), [0, 1]],
    ["rows from an offset", () => randn([40, 300]).narrow(0, 7, 30), [0]],
  ];
  for (const [what, make, axes] of cases) {
    // large values of both signs, so that the order and precision of the sum show in the bits
    const x = make().mul(1e4);
    const before = colSumCalls.count;
    const sum = x.sum(axes).toArray() as Float32Array;
    assert.equal(colSumCalls.count, before + 1, `${what}: the SIMD column sum ran`);
    assert.deepEqual(sum, expected(x, axes.length), what);
  }
});

Deno.test("sum over leading axes keeps the strided loop where the SIMD column sum does not apply", () => {
  manualSeed(22);
  const before = colSumCalls.count;
  const cases: [string, Tensor, number[], number][] = [
    ["transposed", randn([200, 130]).transpose(0, 1), [0], 1],
    ["float64", randn([64, 200], { dtype: "float64" }), [0], 1],
    ["a middle axis", randn([4, 64, 200]), [1], 0],
    ["small: the accumulator is not in the heap", randn([16, 10]), [0], 1],
  ];
  for (const [what, x, axes, lead] of cases) {
    const sum = x.sum(axes).toArray();
    if (lead > 0) {
      const want = x.isContiguous ? expected(x, lead) : expected(x.contiguous(), lead);
      if (x.dtype === "float32") assert.deepEqual(sum, want, what);
      else {
        const exact = x.toArray(), cols = x.shape[1], acc = new Float64Array(cols);
        for (let i = 0; i < exact.length; i++) acc[i % cols] += exact[i];
        assert.deepEqual(sum, acc, what);
      }
    }
  }
  assert.equal(colSumCalls.count, before, "none of these took the SIMD column sum");
});
