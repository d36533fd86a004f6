/**
 * A WebAssembly SIMD micro-kernel for float32 matrix products, assembled byte by byte
 * here (no toolchain, no binary blob in the repo). JavaScript numbers are scalar doubles,
 * so a TypeScript kernel tops out near 5 GFLOP/s on one core; `f32x4` lanes do four
 * multiply-adds per instruction.
 *
 * The module exports its memory and one function, `gemm(a, b, c, tiles, kc, ldc)`: for
 * each of `tiles` column panels it multiplies a packed MR x kc strip of A (at byte `a`,
 * column-major within the strip) by a packed kc x NR panel of B (at byte
 * `b + tile * kc * NR * 4`, row-major within the panel) and adds the MR x NR result into
 * C at byte `c + tile * NR * 4`, rows `ldc` bytes apart.
 * @module
 */

import type { MatrixView } from "./matmul.ts";
import {
  ADD,
  emitter,
  f32Load,
  GE_U,
  get,
  HEADER,
  I32,
  i32,
  MUL,
  name,
  section,
  set,
  simd,
  SUB,
  uleb,
  V128,
  v128Load,
  v128Store,
  vec,
} from "./wasm_asm.ts";

/** Rows of the register tile. */
export const MR = 4;
/** Columns of the register tile (two `f32x4` vectors). */
export const NR = 8;

const NV = NR / 4;

const F32X4_SPLAT = simd(0x13), F32X4_ADD = simd(0xe4), F32X4_MUL = simd(0xe6);

/** The body of `gemm`, for the MR x NR register tile. */
function gemmBody(): number[] {
  // params: 0 a, 1 b, 2 c, 3 tiles, 4 kc, 5 ldc; i32 locals: 6 t, 7 p, 8 pa, 9 pb, 10 row,
  // 11 panel bytes; v128 locals: accumulators, then B vectors, then the A splat
  const [t, p, pa, pb, row, panel] = [6, 7, 8, 9, 10, 11];
  const acc = (r: number, v: number) => 12 + r * NV + v;
  const bv = (v: number) => 12 + MR * NV + v;
  const av = 12 + MR * NV + NV;
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(4), i32(NR * 4), MUL, set(panel), i32(0), set(t));
  emit(0x02, 0x40, 0x03, 0x40); // block $done, loop $tiles
  emit(get(t), get(3), GE_U, 0x0d, 1); // br_if $done
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) emit(0x43, 0, 0, 0, 0, F32X4_SPLAT, set(acc(r, v)));
  }
  emit(get(0), set(pa), get(1), get(t), get(panel), MUL, ADD, set(pb), get(4), set(p));
  emit(0x02, 0x40, get(p), 0x45, 0x0d, 0); // block $k_done; br_if p == 0
  emit(0x03, 0x40); // loop $k
  for (let v = 0; v < NV; v++) emit(get(pb), v128Load(16 * v), set(bv(v)));
  for (let r = 0; r < MR; r++) {
    emit(get(pa), f32Load(4 * r), F32X4_SPLAT, set(av));
    for (let v = 0; v < NV; v++) {
      emit(get(acc(r, v)), get(av), get(bv(v)), F32X4_MUL, F32X4_ADD, set(acc(r, v)));
    }
  }
  emit(get(pa), i32(MR * 4), ADD, set(pa), get(pb), i32(NR * 4), ADD, set(pb));
  emit(get(p), i32(1), SUB, 0x22, ...uleb(p), 0x0d, 0); // p -= 1; br_if $k
  emit(0x0b, 0x0b); // end loop $k, end block $k_done
  emit(get(2), get(t), i32(NR * 4), MUL, ADD, set(row));
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) {
      emit(get(row), get(row), v128Load(16 * v), get(acc(r, v)), F32X4_ADD, v128Store(16 * v));
    }
    emit(get(row), get(5), ADD, set(row));
  }
  emit(get(t), i32(1), ADD, set(t), 0x0c, 0); // t += 1; br $tiles
  emit(0x0b, 0x0b, 0x0b); // end loop, end block, end function
  const locals = [[...uleb(6), I32], [...uleb(MR * NV + NV + 1), V128]];
  return [...vec(locals), ...code];
}

/** The module's bytes: one function type, one exported memory, one exported function. */
export function gemmModuleBytes(): Uint8Array<ArrayBuffer> {
  const body = gemmBody();
  return new Uint8Array([
    ...HEADER,
    ...section(1, vec([[0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32]]), 0]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...uleb(1)]])),
    ...section(7, vec([[...name("mem"), 0x02, 0], [...name("gemm"), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]])),
  ]);
}

interface GemmModule {
  memory: WebAssembly.Memory;
  gemm: (a: number, b: number, c: number, tiles: number, kc: number, ldc: number) => void;
}

let instance: GemmModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
export function gemmModule(): GemmModule | null {
  if (instance === undefined) {
    try {
      const mod = new WebAssembly.Module(gemmModuleBytes());
      const exports = new WebAssembly.Instance(mod).exports as unknown as {
        mem: WebAssembly.Memory;
        gemm: GemmModule["gemm"];
      };
      instance = { memory: exports.mem, gemm: exports.gemm };
    } catch {
      instance = null;
    }
  }
  return instance;
}

const KC = 256;
const NC = 1024;

/** Float32 view of the module's memory with at least `bytes`, growing it when needed. */
function memoryOf(g: GemmModule, bytes: number): Float32Array {
  const have = g.memory.buffer.byteLength;
  if (have < bytes) g.memory.grow(Math.ceil((bytes - have) / 65536));
  return new Float32Array(g.memory.buffer);
}

/**
 * `out = A @ B` in float32 through the SIMD kernel: B is packed a KC x NC slab at a time
 * into NR-wide panels, A an MR-row strip at a time, and C accumulates in the module's
 * memory, padded to whole tiles, before it is copied out.
 */
export function gemmF32(
  g: GemmModule,
  m: number,
  n: number,
  k: number,
  a: MatrixView,
  b: MatrixView,
  out: Float32Array,
  outOffset: number,
): void {
  const mp = Math.ceil(m / MR) * MR, np = Math.ceil(n / NR) * NR;
  const aBase = 0, bBase = MR * KC * 4, cBase = bBase + KC * NC * 4;
  const f = memoryOf(g, cBase + mp * np * 4);
  const c0 = cBase / 4;
  f.fill(0, c0, c0 + mp * np);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packB(f, bBase / 4, b, pc, jc, kc, nc);
      for (let i = 0; i < m; i += MR) {
        packA(f, aBase / 4, a, i, Math.min(MR, m - i), pc, kc);
        g.gemm(aBase, bBase, cBase + (i * np + jc) * 4, Math.ceil(nc / NR), kc, np * 4);
      }
    }
  }
  for (let i = 0; i < m; i++) {
    const src = c0 + i * np, dst = outOffset + i * n;
    for (let j = 0; j < n; j++) out[dst + j] = f[src + j];
  }
}

function packA(
  f: Float32Array,
  base: number,
  a: MatrixView,
  i0: number,
  rows: number,
  p0: number,
  kc: number,
): void {
  const d = a.data, rs = a.rowStride, cs = a.colStride;
  const s0 = a.offset + i0 * rs + p0 * cs;
  for (let r = 0; r < MR; r++) {
    if (r >= rows) {
      for (let p = 0; p < kc; p++) f[base + p * MR + r] = 0;
      continue;
    }
    for (let p = 0, s = s0 + r * rs, o = base + r; p < kc; p++, s += cs, o += MR) f[o] = d[s];
  }
}

function packB(
  f: Float32Array,
  base: number,
  b: MatrixView,
  p0: number,
  j0: number,
  kc: number,
  nc: number,
): void {
  const d = b.data, rs = b.rowStride, cs = b.colStride;
  for (let t = 0; t * NR < nc; t++) {
    const cols = Math.min(NR, nc - t * NR), panel = base + t * kc * NR;
    const s0 = b.offset + p0 * rs + (j0 + t * NR) * cs;
    // p outside, j inside: a row-major B is then read along its rows
    for (let p = 0; p < kc; p++) {
      const s = s0 + p * rs, o = panel + p * NR;
      for (let j = 0; j < cols; j++) f[o + j] = d[s + j * cs];
      for (let j = cols; j < NR; j++) f[o + j] = 0;
    }
  }
}
