import assert from "node:assert/strict";
import { type Tensor, zeros } from "../../../mod.ts";
import {
  gemmF32,
  type GemmModule,
  gemmModule,
  gemmModuleBytes,
  gemmStrips,
  MR,
  NR,
  packSlab,
} from "../../../tensor/cpu/wasm_gemm.ts";
import { matmulReference, type MatrixView } from "../../../tensor/cpu/matmul.ts";
import { heapAddress } from "../../../tensor/heap.ts";

/** The kernel over a private (unshared) memory, as where shared memory is unavailable. */
function privateModule(fused: boolean): GemmModule {
  const memory = new WebAssembly.Memory({ initial: 1 });
  const mod = new WebAssembly.Module(gemmModuleBytes(fused, false));
  const exports = new WebAssembly.Instance(mod, { env: { mem: memory } })
    .exports as unknown as Omit<GemmModule, "memory" | "heap" | "fused">;
  return { memory, heap: false, fused, ...exports };
}

Deno.test("the SIMD kernel's module validates and instantiates under Deno, with FMA", () => {
  for (const shared of [false, true]) {
    assert.ok(WebAssembly.validate(gemmModuleBytes(false, shared)));
    assert.ok(WebAssembly.validate(gemmModuleBytes(true, shared)), "Deno has relaxed SIMD");
  }
  const g = gemmModule();
  assert.notEqual(g, null, "float32 matmul would silently fall back to TypeScript");
  assert.equal(g!.fused, true);
  assert.equal(g!.heap, true);
});

for (const fused of [false, true]) {
  Deno.test(`gemm (fused ${fused}) stores, then adds, one MR x NR tile per panel`, () => {
    const g = privateModule(fused);
    const f = new Float32Array(g.memory.buffer);
    const kc = 3, tiles = 2, ldc = tiles * NR, a = 0, b = 1024, c = 4096;
    for (let i = 0; i < MR * kc; i++) f[a / 4 + i] = i + 1;
    for (let i = 0; i < tiles * kc * NR; i++) f[b / 4 + i] = (i % 7) - 3;
    f.fill(1, c / 4, c / 4 + MR * ldc);
    g.gemm(a, b, c, tiles, kc, ldc * 4, 0);
    g.gemm(a, b, c, tiles, kc, ldc * 4, 1);
    for (let r = 0; r < MR; r++) {
      for (let j = 0; j < tiles * NR; j++) {
        const t = Math.floor(j / NR), jj = j % NR;
        let want = 0;
        for (let p = 0; p < kc; p++) {
          want += f[a / 4 + p * MR + r] * f[b / 4 + t * kc * NR + p * NR + jj];
        }
        assert.equal(f[c / 4 + r * ldc + j], 2 * want, `C[${r}][${j}]`);
      }
    }
  });
}

/** Tensors whose heap buffers the tests view: kept alive so no buffer is reused under a view. */
const keep: Tensor[] = [];

/** `length` floats in the heap (a large enough buffer, viewed from its start). */
function heapArray(length: number): Float32Array {
  const t = zeros([Math.max(length, 256)]);
  keep.push(t);
  const data = t.data as Float32Array;
  assert.ok(heapAddress(data) >= 0);
  return data.subarray(0, length);
}

/** An m x k matrix of small integers (every partial sum exact) in `layout`. */
function matrix(
  rows: number,
  cols: number,
  seed: number,
  layout: "row" | "col",
  heap: boolean,
): MatrixView {
  const data = heap
    ? zeros([rows * cols + 3]).data as Float32Array
    : new Float32Array(rows * cols + 3);
  const offset = 3; // off 16-byte alignment
  const rowStride = layout === "row" ? cols : 1, colStride = layout === "row" ? 1 : rows;
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      data[offset + i * rowStride + j * colStride] = ((i * 31 + j * 17 + seed) % 11) - 5;
    }
  }
  return { data, offset, rowStride, colStride };
}

const SHAPES = [[5, 9, 3], [13, 1030, 300], [3, 7, 600], [12, 16, 8], [7, 17, 261]];

for (const heap of [true, false]) {
  for (const la of ["row", "col"] as const) {
    for (const lb of ["row", "col"] as const) {
      const where = heap ? "in the heap" : "outside the heap";
      Deno.test(`gemmF32: A ${la}-major, B ${lb}-major ${where}, ragged tiles, several blocks`, () => {
        const g = gemmModule()!;
        for (const [m, n, k] of SHAPES) {
          const a = matrix(m, k, 1, la, heap), b = matrix(k, n, 2, lb, heap);
          const got = heap ? heapArray(m * n + 5) : new Float32Array(m * n + 5);
          const want = new Float32Array(m * n + 5);
          assert.equal(heapAddress(got) >= 0, heap);
          got.fill(NaN); // the first k-block must store, not add
          assert.ok(gemmF32(g, m, n, k, a, b, got, 5));
          matmulReference(m, n, k, a, b, want, 5);
          assert.deepEqual(got.subarray(5), want.subarray(5), `${m}x${n}x${k}`);
        }
      });
    }
  }
}

Deno.test("gemmF32 over a private memory (no shared memory) gives the same results", () => {
  for (const fused of [false, true]) {
    const g = privateModule(fused);
    for (const [m, n, k] of SHAPES) {
      const a = matrix(m, k, 3, "row", false), b = matrix(k, n, 4, "col", false);
      const got = new Float32Array(m * n), want = new Float32Array(m * n);
      assert.ok(gemmF32(g, m, n, k, a, b, got, 0));
      matmulReference(m, n, k, a, b, want, 0);
      assert.deepEqual(got, want, `${m}x${n}x${k}`);
    }
  }
});

Deno.test("gemmF32 writing over its own operand gives the product of the old values", () => {
  const g = gemmModule()!;
  const m = 9, n = 9, k = 9;
  const a = matrix(m, k, 5, "row", true), b = matrix(k, n, 6, "row", true);
  const want = new Float32Array(m * n);
  matmulReference(m, n, k, a, b, want, 0);
  assert.ok(gemmF32(g, m, n, k, a, b, a.data as Float32Array, a.offset));
  assert.deepEqual(a.data.subarray(a.offset, a.offset + m * n), want);
});

Deno.test("gemmStrips gives gemmF32's bits for any split of the rows, in any order", () => {
  const g = gemmModule()!;
  // random values: every rounding shows, so equal bits mean the same sums in the same order
  const random = (rows: number, cols: number, layout: "row" | "col"): MatrixView => {
    const data = heapArray(rows * cols + 3);
    for (let i = 0; i < rows * cols; i++) data[3 + i] = Math.sin(i * 12.9898) * 3;
    const rowStride = layout === "row" ? cols : 1, colStride = layout === "row" ? 1 : rows;
    return { data, offset: 3, rowStride, colStride };
  };
  for (const [m, n, k] of [[100, 77, 128], [256, 784, 128], [13, 1024, 256], [7, 9, 5]]) {
    for (const la of ["row", "col"] as const) {
      for (const lb of ["row", "col"] as const) {
        const a = random(m, k, la), b = random(k, n, lb);
        const want = heapArray(m * n), got = heapArray(m * n);
        assert.ok(gemmF32(g, m, n, k, a, b, want, 0));
        const packed = packSlab(g, b, k, n);
        assert.ok(packed >= 0);
        got.fill(NaN);
        // groups of 2 strips, then 1, last first: each call stores its rows only
        const starts = [];
        for (let i = 0; i < m; i += (starts.length % 2 === 0 ? 2 : 1) * MR) starts.push(i);
        for (let s = starts.length - 1; s >= 0; s--) {
          const end = s + 1 < starts.length ? starts[s + 1] : m;
          assert.ok(gemmStrips(g, n, k, a, packed, heapAddress(got), starts[s], end));
        }
        assert.deepEqual(got, want, `${m}x${n}x${k}, A ${la}-major, B ${lb}-major`);
      }
    }
  }
});
