/** Gradient clipping beyond the PyTorch fixtures: edge cases and errors. */
import assert from "node:assert/strict";
import { clipGradNorm, clipGradValue, tensor, zeros } from "../../mod.ts";
import { assertClose, throwsWith } from "./assert.ts";

/** A value typed as whatever a call wants: for tests of bad arguments. */
const bad = (value: unknown): never => value as never;

Deno.test("clipGradNorm() computes the norm across all parameters together", () => {
  const a = zeros([1], { requiresGrad: true }), b = zeros([1], { requiresGrad: true });
  a.grad = tensor([3]);
  b.grad = tensor([4]);
  assert.equal(clipGradNorm([a, b], 10), 5);
  assert.deepEqual([a.grad.item(), b.grad.item()], [3, 4], "under maxNorm: unchanged");
  const norm = clipGradNorm([a, b], 1, { normType: Infinity });
  assert.equal(norm, 4);
  assert.ok(Math.abs(b.grad.item() - 1) < 1e-6 && Math.abs(a.grad.item() - 0.75) < 1e-6);
});

Deno.test("clipGradNorm() skips parameters without gradients and returns 0 for none", () => {
  const a = zeros([2], { requiresGrad: true }), b = zeros([2], { requiresGrad: true });
  assert.equal(clipGradNorm([a, b], 1), 0);
  b.grad = tensor([6, 8]);
  assert.equal(clipGradNorm(b, 1), 10); // a single tensor is accepted too
  assert.equal(a.grad, null);
});

Deno.test("clipGradNorm() accumulates in double: many small float32 gradients", () => {
  const n = 1 << 20;
  const w = zeros([n], { requiresGrad: true });
  w.grad = tensor(new Float32Array(n).fill(1e-3));
  const norm = clipGradNorm([w], 1e9);
  const exact = Math.sqrt(n) * Math.fround(1e-3);
  assert.ok(Math.abs(norm - exact) / exact < 1e-9, `${norm} vs ${exact}`); // a float32 running sum drifts far more
});

Deno.test("clipGradNorm() reads and scales strided gradients", () => {
  const w = zeros([2, 2], { requiresGrad: true });
  w.grad = tensor([[3, 0], [4, 0]]).T; // a non-contiguous view
  assert.equal(clipGradNorm([w], 2.5), 5);
  assertClose(w.grad!.toArray(), [1.5, 2, 0, 0], "clipped", 1e-6);
});

Deno.test("clipGradNorm() propagates NaN, or throws with errorIfNonfinite", () => {
  const w = zeros([3], { requiresGrad: true });
  w.grad = tensor([1, NaN, 2]);
  assert.ok(Number.isNaN(clipGradNorm([w], 1, { normType: Infinity })));
  w.grad = tensor([1, Infinity, 2]);
  throwsWith(
    () => clipGradNorm([w], 1, { errorIfNonfinite: true }),
    RangeError,
    "clipGradNorm",
    "Infinity",
  );
});

Deno.test("clipGradNorm() and clipGradValue() reject bad arguments with the values", () => {
  const w = zeros([1], { requiresGrad: true });
  throwsWith(() => clipGradNorm([w], -1), RangeError, "clipGradNorm: maxNorm", "-1");
  throwsWith(() => clipGradNorm([w], 1, { normType: 0 }), RangeError, "normType", "0");
  throwsWith(() => clipGradValue([w], -0.5), RangeError, "clipGradValue: clipValue", "-0.5");
  throwsWith(() => clipGradNorm([w, bad(3)], 1), TypeError, "params[1] is not a Tensor");
});

Deno.test("clipGradValue() clamps contiguous and strided gradients in place", () => {
  const a = zeros([3], { requiresGrad: true }), b = zeros([2, 2], { requiresGrad: true });
  a.grad = tensor([-3, 0.5, 4]);
  b.grad = tensor([[5, -5], [0.25, 1]]).T;
  const before = a.grad.version;
  clipGradValue([a, b], 1);
  assert.deepEqual([...a.grad.toArray()], [-1, 0.5, 1]);
  assert.ok(a.grad.version > before);
  assert.deepEqual(b.grad!.toNested(), [[1, 0.25], [-1, 1]]);
});
