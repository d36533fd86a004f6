/** indexSelect's row copies against gather, on every axis, strided inputs and long rows. */
import assert from "node:assert/strict";
import { manualSeed, randn, tensor } from "../../mod.ts";

Deno.test("indexSelect() copies the same values as gather(), on every axis and layout", () => {
  manualSeed(3);
  const base = randn([5, 6, 40]); // rows of 40: copied a run at a time
  const index = tensor([4, 0, 4, 2], { dtype: "int32" });
  for (const x of [base, base.permute([2, 0, 1]), base.slice(2, 1, 33)]) {
    for (let axis = 0; axis < 3; axis++) {
      if (x.shape[axis] < 5) continue;
      const shape = [...x.shape];
      shape[axis] = index.size;
      const view = shape.map((_, i) => (i === axis ? index.size : 1));
      const want = x.gather(axis, index.reshape(view).expand(shape));
      const got = x.indexSelect(axis, index);
      assert.deepEqual(got.shape, want.shape);
      assert.deepEqual([...got.toArray()], [...want.toArray()], `axis ${axis} of ${x.shape}`);
    }
  }
});

Deno.test("indexSelect() sends gradients back to the selected rows, summing repeats", () => {
  const x = randn([4, 20], { requiresGrad: true });
  x.indexSelect(0, tensor([3, 1, 3], { dtype: "int32" })).sum().backward();
  const g = x.grad!.toArray();
  for (let r = 0; r < 4; r++) {
    const want = r === 3 ? 2 : r === 1 ? 1 : 0;
    for (let c = 0; c < 20; c++) assert.equal(g[r * 20 + c], want, `[${r}, ${c}]`);
  }
});
