/**
 * The WebAssembly SIMD fused loop against the JavaScript one: the same bits for every op
 * with a SIMD form, on special values, odd lengths and unaligned operands, in both dtypes.
 */
import assert from "node:assert/strict";
import { type DType, Storage, Tensor, tensor } from "../../../mod.ts";
import { fusedElements } from "../../../tensor/lazy.ts";
import { heapAddress } from "../../../tensor/heap.ts";
import { SIMD_OPS, simdModuleBytes } from "../../../tensor/cpu/simd_fused.ts";

const OPS: Record<string, (a: Tensor, b: Tensor) => Tensor> = {
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
  neg: (a) => a.neg(),
  abs: (a) => a.abs(),
  sqrt: (a) => a.sqrt(),
  rsqrt: (a) => a.rsqrt(),
  sign: (a) => a.sign(),
  relu: (a) => a.relu(),
  leakyRelu: (a) => a.leakyRelu(0.1),
  maximum: (a, b) => a.maximum(b),
  minimum: (a, b) => a.minimum(b),
  clamp: (a) => a.clamp(-0.5, 0.7),
  eq: (a, b) => a.eq(b),
  ne: (a, b) => a.ne(b),
  lt: (a, b) => a.lt(b),
  le: (a, b) => a.le(b),
  gt: (a, b) => a.gt(b),
  ge: (a, b) => a.ge(b),
};

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-40, -1e-40, 3e38, -3e38, 0.7, -0.5, 1];

/** `n` values: every special value against every other, then seeded noise. */
function values(n: number, seed: number): number[] {
  let s = seed;
  return Array.from({ length: n }, (_, i) => {
    if (i < SPECIAL.length ** 2) {
      return SPECIAL[seed % 2 === 0 ? i % SPECIAL.length : Math.floor(i / SPECIAL.length)];
    }
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648 - 0.5) * 8;
  });
}

/** A tensor over the heap (pooled) and the same values outside it. */
function pair(data: number[], dtype: DType): [Tensor, Tensor] {
  const inHeap = tensor(data, { dtype });
  const array = dtype === "float64" ? new Float64Array(data) : new Float32Array(data);
  return [inHeap, new Tensor(new Storage(array, false), [data.length])];
}

function assertSame(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < got.length; i++) {
    if (!Object.is(got[i], want[i])) {
      assert.fail(`${what}: element ${i} is ${got[i]}, the JavaScript loop gives ${want[i]}`);
    }
  }
}

Deno.test("every op with a SIMD form is checked here", () => {
  assert.deepEqual([...SIMD_OPS].sort(), Object.keys(OPS).sort());
});

for (const dtype of ["float32", "float64"] as const) {
  for (const [name, op] of Object.entries(OPS)) {
    Deno.test(`SIMD ${name} (${dtype}) gives the JavaScript loop's bits`, () => {
      // 1031: a tail of 3 for the JavaScript loop; narrow(1): operands off 16-byte alignment
      const n = 1031;
      const [a, aPlain] = pair(values(n + 1, 2), dtype);
      const [b, bPlain] = pair(values(n + 1, 3), dtype);
      const [x, y] = [a.narrow(0, 1, n), b.narrow(0, 1, n)];
      assert.ok(heapAddress(x.data) >= 0 && heapAddress(aPlain.data) < 0);
      const before = { ...fusedElements };
      const got = op(x, y).mul(3).toArray();
      assert.equal(fusedElements.simd - before.simd, n - 3, "the heap operands took the SIMD loop");
      const js = fusedElements.js;
      const want = op(aPlain.narrow(0, 1, n), bPlain.narrow(0, 1, n)).mul(3).toArray();
      assert.equal(fusedElements.js - js, n, "plain operands took the JavaScript loop");
      assertSame(got, want, `${name} ${dtype}`);
    });
  }
}

Deno.test("a chain with scalars and several operands runs as one SIMD loop", () => {
  const n = 4096;
  const [a, ap] = pair(values(n, 4), "float32");
  const [b, bp] = pair(values(n, 5), "float32");
  const [c, cp] = pair(values(n, 6), "float32");
  const f = (x: Tensor, y: Tensor, z: Tensor) =>
    x.mul(y).add(x).sub(z.mul(0.25)).maximum(y.div(z)).clamp(-3, 2.5).abs().neg().relu();
  const before = fusedElements.simd;
  const got = f(a, b, c).toArray();
  assert.equal(fusedElements.simd - before, n);
  assertSame(got, f(ap, bp, cp).toArray(), "chain");
});

Deno.test("an op without a SIMD form sends its chain to the JavaScript loop", () => {
  const a = tensor(values(1024, 7));
  const before = { ...fusedElements };
  const got = a.mul(2).exp().toArray();
  assert.equal(fusedElements.simd, before.simd);
  assert.equal(fusedElements.js - before.js, 1024);
  got.forEach((v, i) =>
    assert.equal(v, Math.fround(Math.exp(2 * Math.fround(values(1024, 7)[i]))))
  );
});

Deno.test("operands of mixed origin (heap and plain) fall back to the JavaScript loop", () => {
  const [a] = pair(values(1024, 8), "float32");
  const [, bp] = pair(values(1024, 9), "float32");
  const before = { ...fusedElements };
  a.add(bp).toArray();
  assert.equal(fusedElements.simd, before.simd);
  assert.equal(fusedElements.js - before.js, 1024);
});

Deno.test("the generated modules validate for deep expressions and many operands", () => {
  let node = { leaf: 0 } as Parameters<typeof simdModuleBytes>[0];
  for (let k = 1; k < 6; k++) node = { op: "add", args: [node, { leaf: k }], params: [] };
  node = { op: "clamp", args: [node], params: [0, 1] };
  for (const f64 of [false, true]) {
    assert.ok(WebAssembly.validate(simdModuleBytes(node, 6, 2, f64)));
  }
});

/** Each in-place op, and the same result out of place (null where rounding differs). */
const IN_PLACE: Record<
  string,
  [(t: Tensor, o: Tensor) => void, ((t: Tensor, o: Tensor) => Tensor) | null]
> = {
  addInPlace: [(t, o) => t.addInPlace(o), (t, o) => t.add(o)],
  // the scaled operand is rounded before the add: no single out-of-place op matches
  "addInPlace alpha": [(t, o) => t.addInPlace(o, -0.3), null],
  subInPlace: [(t, o) => t.subInPlace(o), (t, o) => t.sub(o)],
  mulInPlace: [(t, o) => t.mulInPlace(o), (t, o) => t.mul(o)],
  divInPlace: [(t, o) => t.divInPlace(o), (t, o) => t.div(o)],
  copyInPlace: [(t, o) => t.copyInPlace(o), (_, o) => o.clone()],
  "fillInPlace scalar": [(t) => t.fillInPlace(-0), (t) => t.zerosLike().neg()],
  "addInPlace scalar": [(t) => t.addInPlace(0.1), (t) => t.add(0.1)],
};

for (const dtype of ["float32", "float64"] as const) {
  for (const [name, [op, outOfPlace]] of Object.entries(IN_PLACE)) {
    Deno.test(`in place: SIMD ${name} (${dtype}) gives the JavaScript loop's bits`, () => {
      const n = 1031;
      // the target and the operand at different offsets, both off 16-byte alignment
      const [a, aPlain] = pair(values(n + 5, 8), dtype);
      const [b, bPlain] = pair(values(n + 2, 9), dtype);
      const [t, o] = [a.narrow(0, 5, n), b.narrow(0, 2, n)];
      const want = outOfPlace?.(aPlain.narrow(0, 5, n), bPlain.narrow(0, 2, n)).toArray();
      const before = { ...fusedElements };
      op(t, o);
      // with alpha, the scaled copy of the operand is a SIMD loop of its own
      const loops = name.endsWith("alpha") ? 2 : 1;
      assert.equal(fusedElements.simd - before.simd, loops * (n - 3), "the SIMD loop ran");
      op(aPlain.narrow(0, 5, n), bPlain.narrow(0, 2, n));
      assertSame(a.toArray(), aPlain.toArray(), `${name} ${dtype}`);
      if (want !== undefined) assertSame(t.toArray(), want, `${name} ${dtype} out of place`);
    });
  }
}
