/**
 * The backward engine: accumulation, graph freeing, grad mode, hooks, in-place checks,
 * higher-order gradients, broadcasting in backward, and memory scopes around autograd.
 */
import assert from "node:assert/strict";
import {
  enableGrad,
  grad,
  isGradEnabled,
  manualSeed,
  memory,
  noGrad,
  ones,
  randn,
  type Tensor,
  tensor,
  tidy,
} from "../../mod.ts";

const F64 = { dtype: "float64" } as const;

function values(t: Tensor | null): number[] {
  assert.ok(t !== null, "expected a gradient");
  return Array.from(t.toArray());
}

function assertClose(actual: Tensor | null, expected: number[], tol = 1e-9): void {
  const got = values(actual);
  assert.equal(got.length, expected.length, `length of ${got} against ${expected}`);
  got.forEach((v, i) => {
    assert.ok(Math.abs(v - expected[i]) <= tol, `element ${i}: ${v} against ${expected[i]}`);
  });
}

// ---- accumulation ---------------------------------------------------------------------------

Deno.test("backward() accumulates gradients across two calls", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  x.mul(2).sum().backward();
  assertClose(x.grad, [2, 2, 2]);
  x.mul(x).sum().backward();
  assertClose(x.grad, [4, 6, 8]);
});

Deno.test("a tensor used twice gets the sum of both gradients", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  const y = x.mul(3);
  y.add(y.exp()).sum().backward();
  assertClose(x.grad, [1, 2, 3].map((v) => 3 + 3 * Math.exp(3 * v)), 1e-2);
  const a = tensor([2], { requiresGrad: true, ...F64 });
  a.mul(a).mul(a).sum().backward();
  assertClose(a.grad, [12]);
});

Deno.test("a diamond-shaped graph sends each path's gradient once", () => {
  const x = tensor([0.5, -1], { requiresGrad: true, ...F64 });
  const h = x.tanh();
  const out = h.mul(2).add(h.square()).sum();
  out.backward();
  const expected = [0.5, -1].map((v) => (2 + 2 * Math.tanh(v)) * (1 - Math.tanh(v) ** 2));
  assertClose(x.grad, expected);
});

Deno.test("backward() on a leaf seeds its own gradient", () => {
  const x = tensor([4], { requiresGrad: true });
  x.backward();
  assertClose(x.grad, [1]);
});

// ---- freeing the graph --------------------------------------------------------------------------

Deno.test("backward() twice without retainGraph throws an Error naming retainGraph", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.exp().sum();
  y.backward();
  assert.throws(() => y.backward(), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /retainGraph/);
    assert.match(e.message, /already freed/);
    return true;
  });
});

Deno.test("backward({ retainGraph: true }) lets backward run again and accumulate", () => {
  const x = tensor([1, 2], { requiresGrad: true, ...F64 });
  const y = x.exp().sum();
  y.backward({ retainGraph: true });
  assertClose(x.grad, [Math.E, Math.exp(2)]);
  y.backward();
  assertClose(x.grad, [2 * Math.E, 2 * Math.exp(2)]);
  assert.throws(() => y.backward(), /retainGraph/);
});

// ---- bad seeds ----------------------------------------------------------------------------------

Deno.test("backward() on a non-scalar without a gradient throws naming the shape", () => {
  const y = ones([2, 3], { requiresGrad: true }).mul(2);
  assert.throws(() => y.backward(), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /non-scalar/);
    assert.ok(e.message.includes("[2, 3]"), e.message);
    return true;
  });
});

Deno.test("backward(gradient) with the wrong shape throws naming both shapes", () => {
  const y = ones([2, 3], { requiresGrad: true }).mul(2);
  assert.throws(() => y.backward(ones([3, 2])), (e: unknown) => {
    assert.ok(e instanceof TypeError);
    assert.ok(e.message.includes("[3, 2]") && e.message.includes("[2, 3]"), e.message);
    return true;
  });
});

Deno.test("backward(gradient) with a matching gradient weights the output", () => {
  const x = tensor([1, 2, 3], { requiresGrad: true });
  x.mul(2).backward(tensor([1, 10, 100]));
  assertClose(x.grad, [2, 20, 200]);
});

Deno.test("backward() on a tensor that does not require grad throws", () => {
  assert.throws(() => ones([1]).backward(), /does not require grad/);
});

// ---- grad mode ----------------------------------------------------------------------------------

Deno.test("noGrad() results do not require grad, enableGrad() inside it records", () => {
  const w = ones([2], { requiresGrad: true });
  const y = noGrad(() => {
    assert.equal(isGradEnabled(), false);
    return w.mul(2).exp();
  });
  assert.equal(y.requiresGrad, false);
  assert.equal(y.gradFn, null);
  const z = noGrad(() => enableGrad(() => w.mul(2)));
  assert.equal(z.requiresGrad, true);
  assert.equal(z.gradFn?.name, "mul");
  z.sum().backward();
  assertClose(w.grad, [2, 2]);
  assert.equal(isGradEnabled(), true);
});

Deno.test("noGrad() restores grad mode even when its function throws", () => {
  assert.throws(() =>
    noGrad(() => {
      throw new Error("boom");
    }), /boom/);
  assert.equal(isGradEnabled(), true);
});

Deno.test("detach() shares data but leaves the graph", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.mul(3);
  const d = y.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.isLeaf, true);
  assert.equal(d.data, y.data);
  assert.deepEqual(values(d), [3, 6]);
  // only the attached path carries gradient
  y.add(d.mul(100)).sum().backward();
  assertClose(x.grad, [3, 3]);
});

Deno.test("requiresGrad cannot be turned off on an op result or set on int32", () => {
  const y = ones([2], { requiresGrad: true }).mul(2);
  assert.throws(() => (y.requiresGrad = false), /detach/);
  assert.throws(() => (ones([2], { dtype: "int32" }).requiresGrad = true), TypeError);
});

// ---- hooks --------------------------------------------------------------------------------------

Deno.test("registerHook() on a leaf sees its gradient and can replace it", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const seen: number[][] = [];
  x.registerHook((g) => {
    seen.push(values(g));
  });
  x.registerHook((g) => g.mul(10));
  x.mul(3).sum().backward();
  assert.deepEqual(seen, [[3, 3]]);
  assertClose(x.grad, [30, 30]);
});

Deno.test("registerHook() on a non-leaf changes what flows to the inputs", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.mul(2);
  const seen: number[][] = [];
  y.registerHook((g) => {
    seen.push(values(g));
    return g.mul(3);
  });
  y.mul(5).sum().backward();
  assert.deepEqual(seen, [[5, 5]]);
  assertClose(x.grad, [30, 30]);
  assert.equal(y.grad, null, "a non-leaf does not keep .grad");
});

Deno.test("a leaf hook runs once with the summed gradient of a tensor used twice", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const seen: number[][] = [];
  x.registerHook((g) => {
    seen.push(values(g));
    return g.clamp(-1, 1); // clipping is not linear: per-use calls would give 1.6
  });
  x.mul(0.75).add(x.mul(0.75)).sum().backward();
  assert.deepEqual(seen, [[1.5, 1.5]]);
  assertClose(x.grad, [1, 1]);
});

Deno.test("registerHook() on the root sees the seed gradient", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const loss = x.sum();
  loss.registerHook((g) => g.mul(4));
  loss.backward();
  assertClose(x.grad, [4, 4]);
});

Deno.test("a removed hook no longer runs", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  let calls = 0;
  const handle = x.registerHook((g) => {
    calls++;
    return g.mul(10);
  });
  x.sum().backward();
  assert.equal(calls, 1);
  handle.remove();
  handle.remove(); // removing twice is harmless
  x.grad = null;
  x.sum().backward();
  assert.equal(calls, 1);
  assertClose(x.grad, [1, 1]);
});

Deno.test("registerHook() on a tensor that does not require grad throws", () => {
  assert.throws(() => ones([2]).registerHook(() => {}), /does not require grad/);
});

// ---- in-place checks ----------------------------------------------------------------------------

Deno.test("backward() after an in-place change to a saved tensor throws naming the op", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.exp(); // exp saves its output
  noGrad(() => y.addInPlace(1));
  assert.throws(() => y.sum().backward(), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /\bexp\b/);
    assert.match(e.message, /modified in place/);
    return true;
  });
});

Deno.test("backward() after an in-place change to a saved input throws naming the op", () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4]);
  const y = a.mul(b); // mul saves both inputs
  b.mulInPlace(2);
  assert.throws(() => y.sum().backward(), /mul saved for backward was modified in place/);
});

Deno.test("backward() after a saved input was disposed throws naming the op", () => {
  const a = tensor([1, 2], { requiresGrad: true });
  const b = tensor([3, 4]);
  const y = a.mul(b).sum(); // mul saves both inputs
  b.dispose();
  assert.throws(() => y.backward(), /mul saved for backward was disposed .* before backward ran/);
});

Deno.test("an in-place change to an unsaved tensor does not break backward", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = x.add(1); // add saves nothing that its backward reads
  const z = y.sum();
  noGrad(() => y.addInPlace(1));
  z.backward();
  assertClose(x.grad, [1, 1]);
});

Deno.test("in-place ops on a tensor that requires grad throw outside noGrad", () => {
  const w = ones([2], { requiresGrad: true });
  assert.throws(() => w.addInPlace(1), (e: unknown) => {
    assert.ok(e instanceof Error);
    assert.match(e.message, /addInPlace/);
    assert.match(e.message, /noGrad/);
    return true;
  });
  assert.throws(() => w.mul(2).fillInPlace(0), /fillInPlace/);
  noGrad(() => w.subInPlace(ones([2])));
  assert.deepEqual(values(w), [0, 0]);
  assert.equal(w.version, 1);
});

// ---- higher order -------------------------------------------------------------------------------

Deno.test("grad() with createGraph gives second derivatives (x^3 gives 6x)", () => {
  const x = tensor([1, -2, 0.5], { requiresGrad: true, ...F64 });
  const [dx] = grad(x.pow(3).sum(), [x], { createGraph: true });
  assertClose(dx, [3, 12, 0.75]);
  assert.equal(dx.requiresGrad, true);
  const [ddx] = grad(dx.sum(), [x]);
  assertClose(ddx, [6, -12, 3]);
  assert.equal(x.grad, null, "grad() leaves .grad of its inputs alone");
});

Deno.test("grad() gives third derivatives of x*x*x through mul", () => {
  const x = tensor([2], { requiresGrad: true, ...F64 });
  const [d1] = grad(x.mul(x).mul(x).sum(), [x], { createGraph: true });
  const [d2] = grad(d1.sum(), [x], { createGraph: true });
  const [d3] = grad(d2.sum(), [x]);
  assertClose(d1, [12]);
  assertClose(d2, [12]);
  assertClose(d3, [6]);
});

Deno.test("backward({ createGraph: true }) leaves a differentiable .grad", () => {
  const x = tensor([3], { requiresGrad: true, ...F64 });
  x.mul(x).mul(x).sum().backward({ createGraph: true });
  const g = x.grad!;
  assert.equal(g.requiresGrad, true);
  assertClose(g, [27]);
  x.grad = null;
  g.sum().backward();
  assertClose(x.grad, [18]);
});

Deno.test("grad() returns zeros for an input the output does not depend on", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const unused = tensor([5], { requiresGrad: true });
  const [gx, gu] = grad(x.sum(), [x, unused]);
  assertClose(gx, [1, 1]);
  assertClose(gu, [0]);
});

// ---- broadcasting ---------------------------------------------------------------------------------

Deno.test("backward undoes broadcasting: each gradient has its input's shape", () => {
  const a = ones([3, 1], { requiresGrad: true });
  const b = ones([4], { requiresGrad: true });
  const c = ones([], { requiresGrad: true });
  a.mul(b).add(c).sum().backward();
  assert.deepEqual(a.grad!.shape, [3, 1]);
  assert.deepEqual(b.grad!.shape, [4]);
  assert.deepEqual(c.grad!.shape, []);
  assertClose(a.grad, [4, 4, 4]);
  assertClose(b.grad, [3, 3, 3, 3]);
  assertClose(c.grad, [12]);
});

Deno.test("backward undoes broadcasting of leading and middle dimensions", () => {
  manualSeed(7);
  const a = randn([2, 1, 4], { requiresGrad: true });
  const b = randn([3, 1], { requiresGrad: true });
  a.sub(b).sum().backward();
  assert.deepEqual(a.grad!.shape, [2, 1, 4]);
  assert.deepEqual(b.grad!.shape, [3, 1]);
  assertClose(a.grad, new Array(8).fill(3));
  assertClose(b.grad, [-8, -8, -8]);
});

Deno.test("backward through expand and matmul sums over the broadcast batch", () => {
  const w = ones([3, 2], { requiresGrad: true });
  const x = ones([4, 5, 3]);
  x.matmul(w).sum().backward();
  assert.deepEqual(w.grad!.shape, [3, 2]);
  assertClose(w.grad, new Array(6).fill(20));
});

Deno.test("a linear layer's weight gradient through x @ w.T has the bits of both formulas", () => {
  manualSeed(5);
  const x = randn([7, 5]), w = randn([3, 5], { requiresGrad: true }), g = randn([7, 3]);
  x.matmul(w.T).backward(g);
  assert.deepEqual([...w.grad!.toArray()], [...g.T.matmul(x).toArray()]);
  assert.deepEqual([...w.grad!.toArray()], [...x.T.matmul(g).T.toArray()]);
});

// ---- memory -------------------------------------------------------------------------------------

Deno.test("tidy() disposes intermediates but keeps returned tensors and leaf params", () => {
  let intermediate: Tensor | null = null, param: Tensor | null = null;
  const input = ones([2]);
  const out = tidy(() => {
    param = ones([2], { requiresGrad: true });
    intermediate = input.mul(2);
    return { result: intermediate.add(param), list: [intermediate.exp()] };
  });
  assert.equal(intermediate!.isDisposed, true);
  assert.equal(param!.isDisposed, false);
  assert.equal(input.isDisposed, false, "a tensor from outside the scope is left alone");
  assert.deepEqual(values(out.result), [3, 3]);
  assert.equal(out.list[0].isDisposed, false);
});

Deno.test("a .grad produced inside tidy() survives it", () => {
  const w = tensor([1, 2], { requiresGrad: true });
  const x = tensor([3, 4]);
  tidy(() => {
    w.mul(x).exp().sum().backward();
  });
  assert.ok(w.grad !== null);
  assert.equal(w.grad.isDisposed, false);
  assertClose(w.grad, [3 * Math.exp(3), 4 * Math.exp(8)], 1e-1);
  tidy(() => w.mul(x).sum().backward());
  assertClose(w.grad, [3 * Math.exp(3) + 3, 4 * Math.exp(8) + 4], 1e-1);
});

Deno.test("using a disposed tensor throws an Error naming its shape", () => {
  const t = ones([2, 2]);
  t.dispose();
  assert.equal(t.isDisposed, true);
  for (const use of [() => t.add(1), () => t.toArray(), () => t.exp(), () => t.reshape([4])]) {
    assert.throws(use, (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /disposed/);
      assert.ok(e.message.includes("[2, 2]"), e.message);
      return true;
    });
  }
  t.dispose(); // a second dispose is harmless
  assert.match(t.toString(), /disposed/);
  const s = tensor([5]);
  s.dispose();
  assert.throws(() => s.item(), /disposed/);
});

Deno.test("backward() through a tensor that tidy() disposed throws naming the op", () => {
  const x = tensor([1, 2], { requiresGrad: true });
  const y = tidy(() => x.mul(2).exp()); // exp saved x.mul(2), which tidy disposed
  assert.throws(() => y.sum().backward(), /disposed/);
});

Deno.test("memory() shows no fresh bytes for a repeated tidy'd training step after warm-up", () => {
  manualSeed(11);
  const w = randn([8, 4], { requiresGrad: true });
  const b = randn([4], { requiresGrad: true });
  const x = randn([16, 8]);
  const step = () =>
    tidy(() => {
      const loss = x.matmul(w).add(b).tanh().softmax(-1).logsumexp(-1).mean();
      loss.backward();
      noGrad(() => {
        w.subInPlace(w.grad!.mul(0.1));
        b.subInPlace(b.grad!.mul(0.1));
        w.grad!.zeroInPlace();
        b.grad!.zeroInPlace();
      });
    });
  for (let i = 0; i < 3; i++) step();
  const before = memory().freshBytes;
  for (let i = 0; i < 10; i++) step();
  assert.equal(memory().freshBytes - before, 0);
  assert.ok(memory().reusedBytes > 0);
});
