/**
 * A WebAssembly SIMD micro-kernel for float32 matrix products, assembled byte by byte
 * here (no toolchain, no binary blob in the repo). JavaScript numbers are scalar doubles,
 * so a TypeScript kernel tops out near 5 GFLOP/s on one core; `f32x4` lanes do four
 * multiply-adds per instruction.
 *
 * The module works in the WebAssembly heap (`../heap.ts`) where it can, so operands that
 * lie there are packed by SIMD copies and the result is written in place; elsewhere (no
 * shared memory) it owns a private memory and everything goes through copies. Its
 * functions, on byte addresses:
 * - `gemm(a, b, c, tiles, kc, ldc, acc)`: for each of `tiles` column panels, multiplies a
 *   packed MR x kc strip of A (at `a`, column-major within the strip) by a packed kc x NR
 *   panel of B (at `b + tile * kc * NR * 4`, row-major within the panel) and adds (`acc`
 *   1) or stores (0) the MR x NR result at `c + tile * NR * 4`, rows `ldc` bytes apart;
 * - `packRows`, `packCols`: pack full panels of a row-major or column-major B;
 * - `packStripRows`, `packStripCols`: pack a whole strip of a row-major or column-major A
 *   (these four are assembled in `wasm_pack.ts`).
 * @module
 */

import type { MatrixView } from "./matmul.ts";
import { MR, NR } from "./gemm_tile.ts";
import { packColsBody, packRowsBody, packStripColsBody, packStripRowsBody } from "./wasm_pack.ts";
import { heapAddress, heapMemory } from "../heap.ts";
import { acquire, release } from "../pool.ts";
import {
  ADD,
  BLOCK,
  BR,
  BR_IF,
  ELSE,
  emitter,
  END,
  F32X4_ADD,
  F32X4_MUL,
  F32X4_SPLAT,
  GE_U,
  get,
  HEADER,
  I32,
  i32,
  IF,
  LOOP,
  LT_U,
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

export { MR, NR } from "./gemm_tile.ts";

const NV = NR / 4;
const KC = 256;
const NC = 1024;
/** Row length of the edge tile: every panel of an NC-wide slab. */
const EDGE_LD = Math.ceil(NC / NR) * NR;

/** `v128.load32_splat`: an element of A straight into all four lanes. */
const load32Splat = (offset: number) => [...simd(0x09), 2, ...uleb(offset)];
/** Relaxed SIMD's `f32x4.relaxed_madd` (`a * b + c`, fused where the CPU has FMA). */
const F32X4_MADD = simd(0x105);
/** Steps of k per iteration of the kernel's inner loop. */
const UNROLL = 4;

/**
 * The body of `gemm`, for the MR x NR register tile; `fused` multiply-adds with relaxed
 * SIMD's `relaxed_madd` (one rounding per step where the CPU fuses, else two).
 */
function gemmBody(fused: boolean): number[] {
  // params: 0 a, 1 b, 2 c, 3 tiles, 4 kc, 5 ldc, 6 acc; i32 locals: 7 t, 8 p, 9 pa, 10 pb,
  // 11 row, 12 panel bytes; v128 locals: accumulators, then B vectors, then the A splat
  const [t, p, pa, pb, row, panel] = [7, 8, 9, 10, 11, 12];
  const acc = (r: number, v: number) => 13 + r * NV + v;
  const bv = (v: number) => 13 + MR * NV + v;
  const av = 13 + MR * NV + NV;
  const code: number[] = [];
  const emit = emitter(code);
  emit(get(4), i32(NR * 4), MUL, set(panel), i32(0), set(t));
  emit(BLOCK, LOOP, get(t), get(3), GE_U, BR_IF(1)); // tiles
  for (let r = 0; r < MR; r++) {
    for (let v = 0; v < NV; v++) emit(0x43, 0, 0, 0, 0, F32X4_SPLAT, set(acc(r, v)));
  }
  emit(get(0), set(pa), get(1), get(t), get(panel), MUL, ADD, set(pb), get(4), set(p));
  /** One step of k: an MR x NR rank-1 update, `u` steps past the pointers. */
  const step = (u: number) => {
    for (let v = 0; v < NV; v++) emit(get(pb), v128Load(16 * v + u * NR * 4), set(bv(v)));
    for (let r = 0; r < MR; r++) {
      emit(get(pa), load32Splat(4 * r + u * MR * 4), set(av));
      for (let v = 0; v < NV; v++) {
        if (fused) emit(get(av), get(bv(v)), get(acc(r, v)), F32X4_MADD, set(acc(r, v)));
        else emit(get(acc(r, v)), get(av), get(bv(v)), F32X4_MUL, F32X4_ADD, set(acc(r, v)));
      }
    }
  };
  // k in steps of UNROLL (the loop's own instructions cost 15-25% at one step), then the rest
  for (const u of [UNROLL, 1]) {
    emit(BLOCK, LOOP, get(p), i32(u), LT_U, BR_IF(1));
    for (let i = 0; i < u; i++) step(i);
    emit(get(pa), i32(u * MR * 4), ADD, set(pa), get(pb), i32(u * NR * 4), ADD, set(pb));
    emit(get(p), i32(u), SUB, set(p), BR(0), END, END);
  }
  emit(get(2), get(t), i32(NR * 4), MUL, ADD, set(row));
  for (let r = 0; r < MR; r++) {
    emit(get(6), IF);
    for (let v = 0; v < NV; v++) {
      emit(get(row), get(row), v128Load(16 * v), get(acc(r, v)), F32X4_ADD, v128Store(16 * v));
    }
    emit(ELSE);
    for (let v = 0; v < NV; v++) emit(get(row), get(acc(r, v)), v128Store(16 * v));
    emit(END, get(row), get(5), ADD, set(row));
  }
  emit(get(t), i32(1), ADD, set(t), BR(0), END, END, END);
  const locals = [[...uleb(6), I32], [...uleb(MR * NV + NV + 1), V128]];
  return [...vec(locals), ...code];
}

/**
 * The module's bytes: it imports its memory as `env.mem` (`shared` for the heap) and
 * exports `gemm`, `packRows` and `packCols`; `fused` needs relaxed SIMD.
 */
export function gemmModuleBytes(fused: boolean, shared = false): Uint8Array<ArrayBuffer> {
  const i32s = (n: number) => Array.from({ length: n }, () => [I32]);
  const bodies = [
    gemmBody(fused),
    packRowsBody(),
    packColsBody(),
    packStripRowsBody(),
    packStripColsBody(),
  ];
  const memory = shared ? [0x03, 0, ...uleb(65536)] : [0x00, 0];
  return new Uint8Array([
    ...HEADER,
    ...section(1, vec([7, 5, 6, 4, 4].map((n) => [0x60, ...vec(i32s(n)), 0]))),
    ...section(2, vec([[...name("env"), ...name("mem"), 0x02, ...memory]])),
    ...section(3, vec([[0], [1], [2], [3], [4]])),
    ...section(
      7,
      vec(EXPORTS.map((f, i) => [...name(f), 0x00, i])),
    ),
    ...section(10, vec(bodies.map((b) => [...uleb(b.length), ...b]))),
  ]);
}

const EXPORTS = ["gemm", "packRows", "packCols", "packStripRows", "packStripCols"] as const;

/** The instantiated kernel and where it works. */
export interface GemmModule {
  memory: WebAssembly.Memory;
  /** Whether `memory` is the heap, where operands may lie. */
  heap: boolean;
  /** Whether the kernel uses relaxed SIMD's multiply-add. */
  fused: boolean;
  gemm: (
    a: number,
    b: number,
    c: number,
    tiles: number,
    kc: number,
    ldc: number,
    acc: number,
  ) => void;
  packRows: (src: number, dst: number, kc: number, panels: number, rs: number) => void;
  packCols: (src: number, dst: number, kc4: number, panels: number, cs: number, kc: number) => void;
  packStripRows: (src: number, dst: number, kc4: number, rs: number) => void;
  packStripCols: (src: number, dst: number, kc: number, cs: number) => void;
}

let instance: GemmModule | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
export function gemmModule(): GemmModule | null {
  if (instance === undefined) {
    const heap = heapMemory();
    const shared = heap !== null;
    const fused = WebAssembly.validate(gemmModuleBytes(true, shared));
    const bytes = gemmModuleBytes(fused, shared);
    if (WebAssembly.validate(bytes)) {
      const memory = heap ?? new WebAssembly.Memory({ initial: 0 });
      const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
        env: { mem: memory },
      })
        .exports as unknown as Pick<GemmModule, (typeof EXPORTS)[number]>;
      instance = { memory, heap: shared, fused, ...exports };
    } else instance = null;
  }
  return instance;
}

/** Scratch bytes in the module's memory: a pooled heap buffer, or the private memory. */
let scratch: Float32Array | null = null;

/** The byte address of `bytes` of scratch, or -1 when the heap cannot give them. */
function scratchAt(g: GemmModule, bytes: number): number {
  if (!g.heap) {
    const have = g.memory.buffer.byteLength;
    if (have < bytes) g.memory.grow(Math.ceil((bytes - have) / 65536));
    return 0;
  }
  if (scratch === null || scratch.byteLength < bytes) {
    if (scratch !== null) release(scratch);
    scratch = acquire("float32", Math.ceil(bytes / 4)) as Float32Array;
  }
  const at = heapAddress(scratch);
  if (at < 0) {
    // a full heap gave a plain buffer: drop it, so a later call asks the heap again
    release(scratch);
    scratch = null;
  }
  return at;
}

/**
 * The heap bytes a float32 rows x cols view reads, `[start, end)`, from its element (0, 0);
 * null when it does not lie in the heap.
 */
export function heapSpan(v: MatrixView, rows: number, cols: number): [number, number] | null {
  const at = heapAddress(v.data);
  if (at < 0 || !(v.data instanceof Float32Array)) return null;
  const last = v.offset + (rows - 1) * v.rowStride + (cols - 1) * v.colStride;
  return [at + 4 * v.offset, at + 4 * (last + 1)];
}

/** Whether `span` (a heap byte range; null: not in the heap) misses `[at, at + bytes)`. */
export function clearOf(span: [number, number] | null, at: number, bytes: number): boolean {
  return span === null || span[1] <= at || span[0] >= at + bytes;
}

/**
 * `out = A @ B` in float32 through the SIMD kernel. B is packed a KC x NC slab at a time
 * into NR-wide panels, A an MR-row strip at a time. C is `out` itself when it lies in the
 * heap clear of A and B, else a scratch copy; whole tiles are written in place, ragged
 * edge tiles through a small scratch tile. Returns false, having done nothing, where the
 * heap cannot give the scratch it needs (the caller then uses the TypeScript kernel).
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
): boolean {
  const aBase = 0, bBase = MR * KC * 4, edgeBase = bBase + KC * NC * 4;
  const cBytes = m * n * 4;
  const outAt = g.heap ? heapAddress(out) : -1;
  const bSpan = g.heap ? heapSpan(b, k, n) : null;
  const aSpan = g.heap ? heapSpan(a, m, k) : null;
  const cStart = outAt + 4 * outOffset;
  const inPlace = outAt >= 0 && clearOf(aSpan, cStart, cBytes) && clearOf(bSpan, cStart, cBytes);
  const base = scratchAt(g, edgeBase + MR * EDGE_LD * 4 + (inPlace ? 0 : cBytes));
  if (base < 0) return false;
  const c = inPlace ? cStart : base + edgeBase + MR * EDGE_LD * 4;
  const f = new Float32Array(g.memory.buffer);
  const sB = base + bBase, edge = base + edgeBase;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc), acc = pc === 0 ? 0 : 1;
      packB(g, f, sB, b, bSpan, pc, jc, kc, nc);
      strips(g, f, a, aSpan, base + aBase, sB, edge, c, n, jc, nc, pc, kc, acc, 0, m);
    }
  }
  if (!inPlace) out.set(f.subarray(c / 4, c / 4 + m * n), outOffset);
  return true;
}

/** Products of at most one KC x NC slab of B, which `packSlab` and `gemmStrips` split. */
export const SLAB = { k: KC, n: NC } as const;

/** The heap buffer this thread packs a shared slab of B into (kept: it is reused). */
let slab: Float32Array | null = null;

/**
 * Packs all of B (k x n, with k <= KC and n <= NC) into panels in a heap buffer of this
 * thread's, for `gemmStrips` calls of any thread that shares the heap; returns its byte
 * address, or -1 where the heap cannot hold it or B does not lie there.
 */
export function packSlab(g: GemmModule, b: MatrixView, k: number, n: number): number {
  const bSpan = g.heap ? heapSpan(b, k, n) : null;
  if (bSpan === null || k > KC || n > NC) return -1;
  slab ??= acquire("float32", KC * NC) as Float32Array;
  const at = heapAddress(slab);
  if (at < 0) {
    // a full heap gave a plain buffer: drop it, so a later call asks the heap again
    release(slab);
    slab = null;
    return -1;
  }
  packB(g, new Float32Array(g.memory.buffer), at, b, bSpan, 0, 0, k, n);
  return at;
}

/** Scratch bytes `gemmStrips` takes: an A strip and an edge tile. */
const STRIP_SCRATCH = MR * KC * 4 + MR * EDGE_LD * 4;

/** Whether this thread has the scratch `gemmStrips` needs (taking it now if not). */
export function stripScratch(g: GemmModule): boolean {
  return scratchAt(g, STRIP_SCRATCH) >= 0;
}

/**
 * Rows `i0` to `i1` (excluded; `i0` a multiple of MR) of C = A @ B for a product whose B
 * `packSlab` packed at byte `packed`, C lying in the heap at byte `c` (row-major, m x n)
 * clear of A and B: the same tiles, packing and stores as `gemmF32`, so the rows come out
 * the same, whichever thread computes them. Returns false, having done nothing, where the
 * heap cannot give the scratch it needs.
 */
export function gemmStrips(
  g: GemmModule,
  n: number,
  k: number,
  a: MatrixView,
  packed: number,
  c: number,
  i0: number,
  i1: number,
): boolean {
  const base = scratchAt(g, STRIP_SCRATCH);
  if (base < 0) return false;
  const f = new Float32Array(g.memory.buffer);
  // the A strip at the start of the scratch, the edge tile after it
  const edge = base + MR * KC * 4;
  strips(g, f, a, heapSpan(a, i1, k), base, packed, edge, c, n, 0, n, 0, k, 0, i0, i1);
  return true;
}

/**
 * Rows `i0` to `i1` (`i0` a multiple of MR) of one block of C, columns `jc` to `jc + nc`
 * and k from `pc` to `pc + kc`: each MR-row strip of A is packed at byte `aAt` and run
 * against the B panels packed at `sB`, whole tiles stored (`acc` 0) or added into C in
 * place, ragged ones through the edge tile at `edge`. `gemmF32` and `gemmStrips` both run
 * it, which is what makes their rows the same bits.
 */
function strips(
  g: GemmModule,
  f: Float32Array,
  a: MatrixView,
  aSpan: [number, number] | null,
  aAt: number,
  sB: number,
  edge: number,
  c: number,
  n: number,
  jc: number,
  nc: number,
  pc: number,
  kc: number,
  acc: number,
  i0: number,
  i1: number,
): void {
  const full = Math.floor(nc / NR), cols = nc - full * NR;
  for (let i = i0; i < i1; i += MR) {
    const rows = Math.min(MR, i1 - i);
    packA(g, f, aAt, a, aSpan, i, rows, pc, kc);
    const cRow = c + 4 * (i * n + jc);
    if (rows === MR) {
      if (full > 0) g.gemm(aAt, sB, cRow, full, kc, n * 4, acc);
      if (cols > 0) {
        g.gemm(aAt, sB + full * kc * NR * 4, edge, 1, kc, NR * 4, 0);
        merge(f, edge / 4, NR, cRow / 4 + full * NR, n, MR, cols, acc);
      }
    } else {
      g.gemm(aAt, sB, edge, full + (cols > 0 ? 1 : 0), kc, EDGE_LD * 4, 0);
      merge(f, edge / 4, EDGE_LD, cRow / 4, n, rows, nc, acc);
    }
  }
}

/** Stores (`acc` 0) or adds a rows x cols block of scratch tile `src` into C at `dst`. */
function merge(
  f: Float32Array,
  src: number,
  srcLd: number,
  dst: number,
  dstLd: number,
  rows: number,
  cols: number,
  acc: number,
): void {
  for (let r = 0; r < rows; r++) {
    const s = src + r * srcLd, d = dst + r * dstLd;
    if (acc === 0) { for (let j = 0; j < cols; j++) f[d + j] = f[s + j]; }
    else for (let j = 0; j < cols; j++) f[d + j] += f[s + j];
  }
}

/**
 * Packs the MR x kc strip of A at (i0, p0) at byte `dst`: by SIMD when A lies in the heap
 * with unit stride along its rows or its columns and the strip is whole, else (and for the
 * columns left over) by the TypeScript loop.
 */
function packA(
  g: GemmModule,
  f: Float32Array,
  dst: number,
  a: MatrixView,
  aSpan: [number, number] | null,
  i0: number,
  rows: number,
  p0: number,
  kc: number,
): void {
  const at = aSpan === null || rows < MR
    ? -1
    : aSpan[0] + 4 * (i0 * a.rowStride + p0 * a.colStride);
  if (at >= 0 && a.colStride === 1 && kc >= 4) {
    const kc4 = Math.floor(kc / 4);
    g.packStripRows(at, dst, kc4, 4 * a.rowStride);
    packALoop(f, dst / 4, a, i0, rows, p0, 4 * kc4, kc);
  } else if (at >= 0 && a.rowStride === 1) g.packStripCols(at, dst, kc, 4 * a.colStride);
  else packALoop(f, dst / 4, a, i0, rows, p0, 0, kc);
}

/** Columns `q0` to `q1` (excluded) of the strip, by the TypeScript loop. */
function packALoop(
  f: Float32Array,
  base: number,
  a: MatrixView,
  i0: number,
  rows: number,
  p0: number,
  q0: number,
  q1: number,
): void {
  const d = a.data, rs = a.rowStride, cs = a.colStride;
  const s0 = a.offset + i0 * rs + p0 * cs;
  for (let r = 0; r < MR; r++) {
    if (r >= rows) {
      for (let p = q0; p < q1; p++) f[base + p * MR + r] = 0;
      continue;
    }
    for (
      let p = q0, s = s0 + r * rs + q0 * cs, o = base + q0 * MR + r;
      p < q1;
      p++, s += cs, o += MR
    ) {
      f[o] = d[s];
    }
  }
}

/**
 * Packs the KC x NC slab of B at (p0, j0) into panels at byte `dst`: by SIMD copies when
 * B lies in the heap with unit stride along its rows or its columns, by the TypeScript
 * loop for everything else (and for ragged panels and leftover rows).
 */
function packB(
  g: GemmModule,
  f: Float32Array,
  dst: number,
  b: MatrixView,
  bSpan: [number, number] | null,
  p0: number,
  j0: number,
  kc: number,
  nc: number,
): void {
  const panels = Math.ceil(nc / NR), full = Math.floor(nc / NR);
  const at = bSpan === null ? -1 : bSpan[0] + 4 * (p0 * b.rowStride + j0 * b.colStride);
  if (at >= 0 && b.colStride === 1 && full > 0) {
    g.packRows(at, dst, kc, full, 4 * b.rowStride);
    packBLoop(f, dst / 4, b, p0, j0, kc, nc, full, panels, 0, kc);
  } else if (at >= 0 && b.rowStride === 1 && full > 0 && kc >= 4) {
    const kc4 = Math.floor(kc / 4);
    g.packCols(at, dst, kc4, full, 4 * b.colStride, kc);
    packBLoop(f, dst / 4, b, p0, j0, kc, nc, 0, full, 4 * kc4, kc);
    packBLoop(f, dst / 4, b, p0, j0, kc, nc, full, panels, 0, kc);
  } else packBLoop(f, dst / 4, b, p0, j0, kc, nc, 0, panels, 0, kc);
}

/** Panels `t0` to `t1` (excluded), rows `q0` to `q1` of them, by the TypeScript loop. */
function packBLoop(
  f: Float32Array,
  base: number,
  b: MatrixView,
  p0: number,
  j0: number,
  kc: number,
  nc: number,
  t0: number,
  t1: number,
  q0: number,
  q1: number,
): void {
  const d = b.data, rs = b.rowStride, cs = b.colStride;
  for (let t = t0; t < t1; t++) {
    const cols = Math.min(NR, nc - t * NR), panel = base + t * kc * NR;
    const s0 = b.offset + p0 * rs + (j0 + t * NR) * cs;
    // p outside, j inside: a row-major B is then read along its rows
    for (let p = q0; p < q1; p++) {
      const s = s0 + p * rs, o = panel + p * NR;
      for (let j = 0; j < cols; j++) f[o + j] = d[s + j * cs];
      for (let j = cols; j < NR; j++) f[o + j] = 0;
    }
  }
}
