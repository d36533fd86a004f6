import assert from "node:assert/strict";
import { gemmF32, gemmModule, gemmModuleBytes, MR, NR } from "../../../tensor/cpu/wasm_gemm.ts";
import { matmulReference } from "../../../tensor/cpu/matmul.ts";

Deno.test("the SIMD kernel's module validates and instantiates under Deno", () => {
  assert.ok(WebAssembly.validate(gemmModuleBytes()));
  assert.notEqual(gemmModule(), null, "float32 matmul would silently fall back to TypeScript");
});

Deno.test("gemm adds one MR x NR tile per panel into C", () => {
  const g = gemmModule()!;
  g.memory.grow(1);
  const f = new Float32Array(g.memory.buffer);
  const kc = 3, tiles = 2, ldc = tiles * NR, a = 0, b = 256, c = 1024;
  for (let i = 0; i < MR * kc; i++) f[a / 4 + i] = i + 1;
  for (let i = 0; i < tiles * kc * NR; i++) f[b / 4 + i] = (i % 7) - 3;
  f.fill(1, c / 4, c / 4 + MR * ldc);
  g.gemm(a, b, c, tiles, kc, ldc * 4);
  for (let r = 0; r < MR; r++) {
    for (let j = 0; j < tiles * NR; j++) {
      const t = Math.floor(j / NR), jj = j % NR;
      let want = 1;
      for (let p = 0; p < kc; p++) {
        want += f[a / 4 + p * MR + r] * f[b / 4 + t * kc * NR + p * NR + jj];
      }
      assert.equal(f[c / 4 + r * ldc + j], want, `C[${r}][${j}]`);
    }
  }
});

Deno.test("gemmF32 handles ragged tiles and several KC and NC blocks", () => {
  const g = gemmModule()!;
  for (const [m, n, k] of [[5, 9, 3], [9, 1030, 300], [3, 7, 600]]) {
    const a = new Float32Array(m * k).map((_, i) => ((i * 37) % 11) - 5);
    const b = new Float32Array(k * n).map((_, i) => ((i * 53) % 13) - 6);
    const av = { data: a, offset: 0, rowStride: k, colStride: 1 };
    const bv = { data: b, offset: 0, rowStride: n, colStride: 1 };
    const got = new Float32Array(m * n), want = new Float32Array(m * n);
    gemmF32(g, m, n, k, av, bv, got, 0);
    matmulReference(m, n, k, av, bv, want, 0);
    // small integers: every partial sum is exact in float32
    assert.deepEqual(got, want, `${m}x${n}x${k}`);
  }
});
