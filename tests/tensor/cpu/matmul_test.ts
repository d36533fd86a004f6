import assert from "node:assert/strict";
import {
  blockedKernel,
  matmulKernel,
  matmulReference,
  type MatrixView,
} from "../../../tensor/cpu/matmul.ts";
import { gemvCalls } from "../../../tensor/cpu/wasm_gemv.ts";
import { acquire, release } from "../../../tensor/pool.ts";

type Floats = Float32Array | Float64Array;

// Seeded so that a failure reproduces: a 32-bit LCG (Numerical Recipes constants).
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function fill<T extends Floats>(arr: T, seed: number): T {
  const r = lcg(seed);
  for (let i = 0; i < arr.length; i++) arr[i] = r();
  return arr;
}

// Row-major view of an m x k matrix stored at `offset` with leading dimension `ld`.
function rowMajor(data: Floats, offset: number, ld: number): MatrixView {
  return { data, offset, rowStride: ld, colStride: 1 };
}

// Transposed view: the m x k matrix is stored as its k x m transpose, row-major.
function colMajor(data: Floats, offset: number, ld: number): MatrixView {
  return { data, offset, rowStride: 1, colStride: ld };
}

// Relative to the scale of the result, since single entries can cancel to near zero.
function assertClose(actual: Floats, expected: Floats, tol: number, label: string): void {
  assert.equal(actual.length, expected.length, `${label}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= tol * Math.max(scale, 1e-30))) {
      assert.fail(`${label}: index ${i}: got ${actual[i]}, want ${expected[i]} (scale ${scale})`);
    }
  }
}

// Runs the kernel and the reference into separate buffers with a sentinel border, and
// checks that the kernel writes exactly the m*n result slots.
function check(
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  make: (len: number) => Floats,
  tol: number,
  label: string,
  outOffset = 3,
): void {
  const len = outOffset + m * n + 2;
  const got = make(len).fill(7), want = make(len).fill(7);
  matmulKernel(m, n, k, a, b, got, outOffset);
  matmulReference(m, n, k, a, b, want, outOffset);
  for (let i = 0; i < outOffset; i++) assert.equal(got[i], 7, `${label}: wrote before outOffset`);
  for (let i = outOffset + m * n; i < len; i++) assert.equal(got[i], 7, `${label}: wrote past end`);
  assertClose(
    got.subarray(outOffset, outOffset + m * n),
    want.subarray(outOffset, outOffset + m * n),
    tol,
    label,
  );
}

const f32 = (len: number) => new Float32Array(len);
const f64 = (len: number) => new Float64Array(len);
const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [7, 5, 3],
  [33, 17, 65],
  [64, 64, 64],
  [130, 70, 257],
  [4, 3, 1],
  [1, 50, 300],
  [300, 1, 40],
  [5, 260, 9],
  // m % 4 == 3 with whole 3-column panels, and a partial tile in both directions
  [7, 9, 50],
  [11, 7, 20],
  // n beyond one NC-wide slab of packed B
  [2, 3100, 5],
];
// The reference accumulates in double and rounds once. Float32 products run through the
// WebAssembly SIMD kernel, which accumulates in float32 as BLAS does (error ~ sqrt(k) ulp);
// float64 ones through the TypeScript kernel, which accumulates in double.
const TOL32 = 1e-5;
const TOL64 = 1e-12;

Deno.test("matmulKernel matches the reference on row-major float32 shapes", () => {
  for (const [m, n, k] of SHAPES) {
    const a = fill(f32(m * k), 1), b = fill(f32(k * n), 2);
    check(m, n, k, rowMajor(a, 0, k), rowMajor(b, 0, n), f32, TOL32, `f32 ${m}x${n}x${k}`);
  }
});

Deno.test("matmulKernel matches the reference on float64", () => {
  for (const [m, n, k] of SHAPES) {
    const a = fill(f64(m * k), 3), b = fill(f64(k * n), 4);
    check(m, n, k, rowMajor(a, 0, k), rowMajor(b, 0, n), f64, TOL64, `f64 ${m}x${n}x${k}`);
  }
});

Deno.test("matmulKernel reads transposed views of A and B", () => {
  for (const [m, n, k] of SHAPES) {
    const at = fill(f32(k * m), 5), bt = fill(f32(n * k), 6);
    const aT = colMajor(at, 0, m), bT = colMajor(bt, 0, k);
    const a = fill(f32(m * k), 7), b = fill(f32(k * n), 8);
    const label = `${m}x${n}x${k}`;
    check(m, n, k, aT, rowMajor(b, 0, n), f32, TOL32, `A^T ${label}`);
    check(m, n, k, rowMajor(a, 0, k), bT, f32, TOL32, `B^T ${label}`);
    check(m, n, k, aT, bT, f32, TOL32, `A^T B^T ${label}`);
  }
});

Deno.test("matmulKernel honours offsets and padded leading dimensions", () => {
  const [m, n, k] = [130, 70, 257];
  const lda = k + 5, ldb = n + 11;
  const a = fill(f32(9 + m * lda), 9), b = fill(f64(4 + k * ldb), 10);
  check(m, n, k, rowMajor(a, 9, lda), rowMajor(b, 4, ldb), f32, TOL32, "padded f32 x f64");
  check(m, n, k, rowMajor(a, 9, lda), rowMajor(b, 4, ldb), f64, TOL32, "padded into f64");
  // Negative strides: the view starts at the last row and walks backwards.
  const rev: MatrixView = { data: a, offset: 9 + (m - 1) * lda, rowStride: -lda, colStride: 1 };
  check(m, n, k, rev, rowMajor(b, 4, ldb), f32, TOL32, "negative row stride");
});

Deno.test("matmulKernel broadcasts stride-0 rows and columns", () => {
  for (const [m, n, k] of SHAPES) {
    const row = fill(f32(k), 11), col = fill(f32(k), 12);
    const a = fill(f32(m * k), 13), b = fill(f32(k * n), 14);
    const label = `${m}x${n}x${k}`;
    // every row of A is the same vector
    check(
      m,
      n,
      k,
      { data: row, offset: 0, rowStride: 0, colStride: 1 },
      rowMajor(b, 0, n),
      f32,
      TOL32,
      `A rows ${label}`,
    );
    // every column of B is the same vector
    check(
      m,
      n,
      k,
      rowMajor(a, 0, k),
      { data: col, offset: 0, rowStride: 1, colStride: 0 },
      f32,
      TOL32,
      `B cols ${label}`,
    );
    // a single scalar broadcast over all of A
    check(
      m,
      n,
      k,
      { data: row, offset: k - 1, rowStride: 0, colStride: 0 },
      rowMajor(b, 0, n),
      f32,
      TOL32,
      `A scalar ${label}`,
    );
  }
});

Deno.test("matmulKernel with k = 0 writes zeros and m or n = 0 writes nothing", () => {
  const out = new Float32Array(8).fill(7);
  const empty: MatrixView = { data: new Float32Array(0), offset: 0, rowStride: 0, colStride: 0 };
  matmulKernel(2, 3, 0, empty, empty, out, 1);
  assert.deepEqual([...out], [7, 0, 0, 0, 0, 0, 0, 7]);
  matmulKernel(0, 3, 4, empty, empty, out, 0);
  matmulKernel(3, 0, 4, empty, empty, out, 0);
  assert.deepEqual([...out], [7, 0, 0, 0, 0, 0, 0, 7]);
});

Deno.test("matmulKernel gives exact small-integer results", () => {
  const a = new Float32Array([1, 2, 3, 4, 5, 6]);
  const b = new Float32Array([1, 0, 0, 1, 1, 1]);
  const out = new Float32Array(4);
  matmulKernel(2, 2, 3, rowMajor(a, 0, 3), rowMajor(b, 0, 2), out, 0);
  assert.deepEqual([...out], [4, 5, 10, 11]);
  // Large enough for the blocked path: ones times ones is k everywhere.
  const [m, n, k] = [37, 41, 300];
  const ones = new Float32Array(Math.max(m, n) * k).fill(1);
  const big = new Float32Array(m * n);
  matmulKernel(m, n, k, rowMajor(ones, 0, k), rowMajor(ones, 0, n), big, 0);
  assert.ok(big.every((v) => v === k));
});

Deno.test("matmulKernel may write over its own inputs", () => {
  const [m, n, k] = [40, 40, 40];
  const buf = fill(f64(2 * m * k), 15);
  const a = rowMajor(buf, 0, k), b = rowMajor(buf, m * k, n);
  const want = new Float64Array(m * n);
  matmulReference(m, n, k, a, b, want, 0);
  matmulKernel(m, n, k, a, b, buf, 0);
  assertClose(buf.subarray(0, m * n), want, TOL64, "aliased output");
});

Deno.test("matmulKernel results do not depend on earlier calls of other shapes or dtypes", () => {
  // The kernel reuses module-level buffers; a large call must not leave state that a
  // later small one picks up.
  const big = 300;
  const x = fill(f64(big * big), 16);
  const sink = new Float64Array(big * big);
  matmulKernel(big, big, big, rowMajor(x, 0, big), rowMajor(x, 0, big), sink, 0);
  const [m, n, k] = [33, 17, 65];
  const a = fill(f32(m * k), 17), b = fill(f32(k * n), 18);
  check(m, n, k, rowMajor(a, 0, k), rowMajor(b, 0, n), f32, TOL32, "after a big f64 call");
});

Deno.test("blockedKernel, the TypeScript fallback, matches the reference on float32", () => {
  for (const [m, n, k] of [[7, 5, 3], [33, 17, 65], [130, 70, 257]]) {
    const a = rowMajor(fill(f32(m * k), m), 0, k), b = colMajor(fill(f32(k * n), n), 0, k);
    const got = f32(m * n), want = f32(m * n);
    blockedKernel(m, n, k, a, b, got, 0);
    matmulReference(m, n, k, a, b, want, 0);
    assertClose(got, want, TOL32, `${m}x${n}x${k}`);
  }
});

Deno.test("vector products: small ones take the direct loop, large ones the SIMD kernel", () => {
  // [m, n, k, transposed B]; the direct loop sums in double like the reference (the same
  // bits), the SIMD kernel in float32 (close, but not the same bits everywhere)
  const cases: [number, number, number, boolean, boolean][] = [
    [1, 40, 100, false, true],
    [40, 1, 100, true, true],
    [1, 256, 784, false, false],
    [1, 256, 784, true, false],
    [256, 1, 784, false, false],
  ];
  for (const [m, n, k, transposed, direct] of cases) {
    const a = fill(f32(m * k), 5), b = fill(f32(k * n), 6);
    const bv = transposed ? colMajor(b, 0, k) : rowMajor(b, 0, n);
    const got = f32(m * n), want = f32(m * n);
    matmulKernel(m, n, k, rowMajor(a, 0, k), bv, got, 0);
    matmulReference(m, n, k, rowMajor(a, 0, k), bv, want, 0);
    const label = `${m}x${n}x${k}${transposed ? " (B transposed)" : ""}`;
    assertClose(got, want, TOL32, label);
    const same = got.every((v, i) => Object.is(v, want[i]));
    assert.equal(same, direct, `${label}: ${direct ? "direct loop" : "SIMD kernel"}`);
  }
});

Deno.test("vector products in the heap stream the matrix once (gemv), in every layout", () => {
  // at least 1 KiB, so that every buffer lies in the heap
  const heap = (len: number, seed: number) =>
    fill(acquire("float32", Math.max(len, 256)) as Float32Array, seed);
  // [m, n, k]: sizes off multiples of 4, so the JavaScript tails run too
  for (const [m, n, k] of [[1, 259, 787], [263, 1, 781], [1, 1030, 9]]) {
    const a = heap(m * k + 8, 7), b = heap(k * n + 8, 8);
    const layouts: [string, MatrixView, MatrixView][] = [
      ["A rows, B rows", rowMajor(a, 3, k), rowMajor(b, 5, n)],
      ["A rows, B columns", rowMajor(a, 3, k), colMajor(b, 5, k)],
      ["A columns, B rows", colMajor(a, 3, m), rowMajor(b, 5, n)],
      ["A columns, B columns", colMajor(a, 3, m), colMajor(b, 5, k)],
    ];
    for (const [layout, av, bv] of layouts) {
      const got = acquire("float32", m * n + 4) as Float32Array, want = f32(m * n);
      const before = gemvCalls.count;
      matmulKernel(m, n, k, av, bv, got, 2);
      matmulReference(m, n, k, av, bv, want, 0);
      const label = `${m}x${n}x${k}, ${layout}`;
      assertClose(got.subarray(2, 2 + m * n), want, TOL32, label);
      // the column form needs a contiguous vector: a strided one goes to the tiled kernel
      const strided = (m === 1 ? av.colStride : bv.rowStride) !== 1;
      const columns = (m === 1 ? bv.rowStride : av.colStride) === 1;
      const expect = m * n * k >= 8192 && !(columns && strided && m * n !== 1) ? 1 : 0;
      assert.equal(gemvCalls.count - before, expect, `${label}: gemv ran ${expect} time(s)`);
      release(got);
    }
    release(a);
    release(b);
  }
});

Deno.test("the SIMD gemm writes a result that overlaps an operand through scratch", () => {
  const buf = fill(acquire("float32", 40000) as Float32Array, 10);
  const want = f32(64 * 64);
  // A (64 x 300: past one k-block, so A is packed again after the first results) at 0,
  // B (300 x 64) after it, and the result written over A's first rows
  matmulReference(64, 64, 300, rowMajor(buf, 0, 300), rowMajor(buf, 19200, 64), want, 0);
  matmulKernel(64, 64, 300, rowMajor(buf, 0, 300), rowMajor(buf, 19200, 64), buf, 0);
  assertClose(buf.subarray(0, 64 * 64), want, TOL32, "overlap");
  release(buf);
});

Deno.test("gemv declines a result that overlaps an operand", () => {
  const buf = fill(acquire("float32", 16384) as Float32Array, 9);
  const before = gemvCalls.count;
  const want = f32(1024);
  // a 1000 x 9 matrix (9,000 multiply-adds: large enough for gemv) times a column of 9,
  // written over the matrix's own first rows
  matmulReference(1000, 1, 9, rowMajor(buf, 0, 9), rowMajor(buf, 9000, 1), want, 0);
  matmulKernel(1000, 1, 9, rowMajor(buf, 0, 9), rowMajor(buf, 9000, 1), buf, 0);
  assert.equal(gemvCalls.count, before, "the overlapping product took another path");
  assertClose(buf.subarray(0, 1000), want.subarray(0, 1000), TOL32, "overlap");
  release(buf);
});

Deno.test("a dot product (1 x 1 result) of contiguous heap vectors runs in the vector kernel", () => {
  const k = 9001, a = fill(acquire("float32", k) as Float32Array, 11);
  const b = fill(acquire("float32", k) as Float32Array, 12);
  const got = acquire("float32", 256) as Float32Array, want = f32(1);
  const before = gemvCalls.count;
  matmulKernel(1, 1, k, rowMajor(a, 0, k), rowMajor(b, 0, 1), got, 0);
  matmulReference(1, 1, k, rowMajor(a, 0, k), rowMajor(b, 0, 1), want, 0);
  assert.equal(gemvCalls.count - before, 1);
  assertClose(got.subarray(0, 1), want, TOL32, "dot");
  // the column form's own order: four float32 lanes, added pairwise, then the k % 4 tail
  const f = Math.fround, lanes = [0, 0, 0, 0];
  const k4 = k - k % 4;
  for (let p = 0; p < k4; p++) lanes[p % 4] = f(lanes[p % 4] + f(a[p] * b[p]));
  let dot = f(f(lanes[0] + lanes[1]) + f(lanes[2] + lanes[3]));
  for (let p = k4; p < k; p++) dot = f(dot + f(a[p] * b[p]));
  assert.ok(Object.is(got[0], dot), `the column form ran: ${got[0]} against ${dot}`);
  for (const t of [a, b, got]) release(t);
});
