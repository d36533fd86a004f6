/**
 * Batched float32 matrix multiply in WGSL: `C[z] = A[z] @ B[z]` for every batch index z.
 *
 * Each workgroup of 16 x 16 threads computes one (16·rows) x (16·cols) tile of C; each
 * thread holds rows x cols accumulators in registers (register blocking), as vec4s so the
 * inner loop is one workgroup-memory vec4 load per four rows or columns and rows·cols
 * multiply-adds. A and B pass through workgroup memory in slabs `depth` deep, double
 * buffered by default: while the threads multiply slab t, they already hold slab t+1 in
 * registers and store it into the other buffer, so one barrier per slab suffices and the
 * global loads overlap the arithmetic (one buffer and two barriers halve the memory). The WGSL is generated fully unrolled (no runtime-indexed
 * local arrays, which would spill to local memory).
 *
 * Operands are read through an element offset and row, column and batch strides, so
 * transposed views (A^T @ G, G @ B^T in matmul's backward) and broadcast batches (stride 0)
 * need no copy. Global loads stay coalesced for either layout: the pipeline key records,
 * per operand, whether its consecutive elements run along k or along rows/columns, and
 * the threads walk that direction. Where the layout allows (unit stride along that
 * direction, other strides, offsets and its extent multiples of 4), operands and C are
 * bound as vec4 arrays and moved 16 bytes per access. Sizes need not be multiples of the
 * tile: slabs are zero-filled past the edges and stores are masked; when they are, a
 * pipeline without any bounds checks runs. Workgroups may walk C in bands of tile rows
 * (`MatmulTile.band`) so that those running together share panels of A and B in L2.
 *
 * @module
 */

import { pipeline } from "./pipelines.ts";
import { checkBindable, checkExtent, checkU32, type Release, Scratch } from "./scratch.ts";

/** One operand of `matmul`: where element (i, j) of batch z lives in its buffer. */
export interface MatmulOperand {
  /** Element index of (0, 0) of the first batch. */
  offset: number;
  /** Elements between consecutive rows. */
  rowStride: number;
  /** Elements between consecutive columns. */
  colStride: number;
  /** Elements between consecutive indices of each batch dimension; 0 broadcasts. */
  batchStrides?: readonly number[];
}

/**
 * The work split of `matmul`: each thread computes `rows` x `cols` outputs, a workgroup
 * (16 x 16 threads) a 16·rows x 16·cols tile, and the k loop steps `depth` at a time.
 */
export interface MatmulTile {
  /** Output rows per thread. */
  rows: 4 | 8;
  /** Output columns per thread. */
  cols: 4 | 8;
  /** Depth of the slabs of A and B staged in workgroup memory. */
  depth: 8 | 16 | 32;
  /**
   * Workgroup memory buffers per operand: 2 (default) overlaps storing the next slab with
   * multiplying this one (one barrier per slab), 1 halves the memory (two barriers).
   */
  stages?: 1 | 2;
  /**
   * Tile rows per band of the workgroup order: workgroups launched together then cover a
   * band x (columns) block of C and share its panels of A and B in the L2 cache. 1
   * (default) walks C row by row.
   */
  band?: number;
  /** Reads and writes 16 bytes at a time where the layout allows it (default true). */
  wide?: boolean;
}

/** Sizes and layouts of one batched product `C[z] = A[z] @ B[z]`. */
export interface MatmulParams {
  /** Rows of A and C. */
  m: number;
  /** Columns of B and C. */
  n: number;
  /** Columns of A, rows of B; 0 gives zeros. */
  k: number;
  /** Shape of the batch dimensions of C (none: one product). */
  batch?: readonly number[];
  /** Layout of the m x k operand A. */
  a: MatmulOperand;
  /** Layout of the k x n operand B. */
  b: MatmulOperand;
  /** Element index of C's first element; C is contiguous `[...batch, m, n]`. */
  outOffset?: number;
  /** The work split; chosen from the sizes and the device's limits when omitted. */
  tile?: MatmulTile;
}

const THREADS = 16; // per side of the workgroup
const MAX_BATCH_DIMS = 4;

/** The tile `matmul` uses for these sizes when none is given. */
export function chooseTile(device: GPUDevice, m: number, n: number, batch: number): MatmulTile {
  // A software adapter (Mesa's llvmpipe) compiles the zero-initialisation of workgroup
  // memory in time that grows with the square of its size: about 20 s for the 16 KiB of
  // the big tile, 5 s for the 8 KiB of this one.
  if (device.adapterInfo?.isFallbackAdapter) return { rows: 4, cols: 4, depth: 8 };
  // Measured on an H100 (bench/matmul_sweep.ts): 128 x 128 tiles 8 deep win once there
  // are enough of them to fill the GPU (24 TFLOP/s at 4096, 12 at 2048); with fewer,
  // 128 x 64 tiles keep more SMs busy (8.7 TFLOP/s at 1024, against 7.0)
  const tiles = Math.ceil(m / 128) * Math.ceil(n / 128) * batch;
  if (tiles >= 128) return { rows: 8, cols: 8, depth: 8 };
  if (tiles >= 32) {
    const tall: MatmulTile = { rows: 8, cols: 4, depth: 16 };
    if (sharedBytes(tall) <= device.limits.maxComputeWorkgroupStorageSize) return tall;
    return { rows: 8, cols: 4, depth: 8 };
  }
  return { rows: 4, cols: 4, depth: 16 };
}

function sharedBytes(t: MatmulTile): number {
  return (t.stages ?? 2) * t.depth * THREADS * (t.rows + t.cols) * 4;
}

/** Batch dimensions after dropping size-1 ones and merging those both operands walk alike. */
function mergeBatch(
  shape: readonly number[],
  sa: readonly number[],
  sb: readonly number[],
): { shape: number[]; sa: number[]; sb: number[] } {
  const out = { shape: [] as number[], sa: [] as number[], sb: [] as number[] };
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = out.shape.length - 1;
    if (
      last >= 0 && out.sa[last] === sa[d] * shape[d] && out.sb[last] === sb[d] * shape[d]
    ) {
      out.shape[last] *= shape[d];
      out.sa[last] = sa[d];
      out.sb[last] = sb[d];
    } else {
      out.shape.push(shape[d]);
      out.sa.push(sa[d]);
      out.sb.push(sb[d]);
    }
  }
  return out;
}

/**
 * Encodes `C[z] = A[z] @ B[z]` (float32) for every batch index z into `encoder`.
 *
 * @param device The device that owns the buffers.
 * @param encoder Receives the compute passes; nothing is submitted.
 * @param a Storage buffer holding A.
 * @param b Storage buffer holding B.
 * @param out Storage buffer receiving C, contiguous `[...batch, m, n]` from `outOffset`.
 * @param params Sizes, operand layouts and optionally the tile.
 * @returns Destroys this call's uniform buffers; call it after submitting `encoder`.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmul } from "./matmul.ts";
 * import { currentDevice, initGpu } from "./device.ts";
 * if (await initGpu()) {
 *   const device = currentDevice()!;
 *   const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
 *   const buf = (data: number[]) => {
 *     const b = device.createBuffer({ size: 16, usage });
 *     device.queue.writeBuffer(b, 0, new Float32Array(data));
 *     return b;
 *   };
 *   const a = buf([1, 2, 3, 4]), b = buf([5, 6, 7, 8]), c = buf([0, 0, 0, 0]);
 *   const read = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
 *   const encoder = device.createCommandEncoder();
 *   const release = matmul(device, encoder, a, b, c, {
 *     m: 2, n: 2, k: 2,
 *     a: { offset: 0, rowStride: 2, colStride: 1 },
 *     b: { offset: 0, rowStride: 2, colStride: 1 },
 *   });
 *   encoder.copyBufferToBuffer(c, 0, read, 0, 16);
 *   device.queue.submit([encoder.finish()]);
 *   release();
 *   await read.mapAsync(GPUMapMode.READ);
 *   assert.deepEqual([...new Float32Array(read.getMappedRange())], [19, 22, 43, 50]);
 * }
 * ```
 */
export function matmul(
  device: GPUDevice,
  encoder: GPUCommandEncoder,
  a: GPUBuffer,
  b: GPUBuffer,
  out: GPUBuffer,
  params: MatmulParams,
): Release {
  const { m, n, k } = params;
  const batchShape = params.batch ?? [];
  const scratch = new Scratch(device, "matmul");
  for (const [name, v] of [["m", m], ["n", n], ["k", k]] as const) checkU32("matmul", name, v);
  checkBindable(device, "matmul", { a, b, out });
  const strides = (op: MatmulOperand, name: string): readonly number[] => {
    const s = op.batchStrides ?? batchShape.map(() => 0);
    if (s.length !== batchShape.length) {
      throw new RangeError(
        `matmul: ${name}.batchStrides has ${s.length} entries, batch has ${batchShape.length}`,
      );
    }
    for (
      const [field, v] of [["offset", op.offset], ["rowStride", op.rowStride], [
        "colStride",
        op.colStride,
      ]] as const
    ) checkU32("matmul", `${name}.${field}`, v);
    s.forEach((v, i) => checkU32("matmul", `${name}.batchStrides[${i}]`, v));
    return s;
  };
  const merged = mergeBatch(batchShape, strides(params.a, "a"), strides(params.b, "b"));
  if (merged.shape.length > MAX_BATCH_DIMS) {
    throw new RangeError(
      `matmul: at most ${MAX_BATCH_DIMS} batch dimensions that cannot be merged, ` +
        `got batch [${batchShape.join(", ")}]`,
    );
  }
  const count = merged.shape.reduce((x, y) => x * y, 1);
  if (m === 0 || n === 0 || count === 0) return scratch.release();
  const last = (op: MatmulOperand, rows: number, cols: number, strides: number[]) =>
    op.offset + (rows - 1) * op.rowStride + (cols - 1) * op.colStride +
    strides.reduce((sum, s, d) => sum + (merged.shape[d] - 1) * s, 0);
  if (k > 0) {
    checkExtent("matmul", "a", a, last(params.a, m, k, merged.sa));
    checkExtent("matmul", "b", b, last(params.b, k, n, merged.sb));
  }
  checkExtent("matmul", "out", out, (params.outOffset ?? 0) + count * m * n - 1);
  const tile = params.tile ?? chooseTile(device, m, n, count);
  const bytes = sharedBytes(tile);
  if (bytes > device.limits.maxComputeWorkgroupStorageSize) {
    throw new RangeError(
      `matmul: tile ${tile.rows}x${tile.cols}x${tile.depth} needs ${bytes} bytes of ` +
        `workgroup memory, over this device's ${device.limits.maxComputeWorkgroupStorageSize}`,
    );
  }
  const band = tile.band ?? 1;
  if (!Number.isInteger(band) || band < 1 || band > 64) {
    throw new RangeError(`matmul: tile.band must be an integer in [1, 64], got ${band}`);
  }
  const pad = MAX_BATCH_DIMS - merged.shape.length;
  const shape4 = [...Array(pad).fill(1), ...merged.shape];
  const sa4 = [...Array(pad).fill(0), ...merged.sa];
  const sb4 = [...Array(pad).fill(0), ...merged.sb];
  // the coalesced direction of each operand: along k when its columns (A) / rows (B) are
  // the closer elements
  const aAlongK = params.a.colStride <= params.a.rowStride;
  const bAlongK = params.b.rowStride < params.b.colStride;
  const bm = THREADS * tile.rows, bn = THREADS * tile.cols;
  const outOffset = params.outOffset ?? 0;
  const wide = tile.wide ?? true;
  // 16-byte accesses need every vec4 an operand's threads read to be whole and aligned:
  // unit stride along the read direction, a multiple of 4 elements long, and every
  // other stride and the offset multiples of 4
  const aligned4 = (op: MatmulOperand, unit: number, other: number, len: number, bs: number[]) =>
    unit === 1 && len % 4 === 0 && other % 4 === 0 && op.offset % 4 === 0 &&
    bs.every((s) => s % 4 === 0);
  const staged = (len: number) => (len * tile.depth) / (THREADS * THREADS) >= 4;
  const form: Form = {
    aAlongK,
    bAlongK,
    wideA: wide && staged(bm) &&
      (aAlongK
        ? aligned4(params.a, params.a.colStride, params.a.rowStride, k, merged.sa)
        : aligned4(params.a, params.a.rowStride, params.a.colStride, m, merged.sa)),
    wideB: wide && staged(bn) &&
      (bAlongK
        ? aligned4(params.b, params.b.rowStride, params.b.colStride, k, merged.sb)
        : aligned4(params.b, params.b.colStride, params.b.rowStride, n, merged.sb)),
    wideC: wide && n % 4 === 0 && outOffset % 4 === 0,
    // no edge anywhere: the kernel drops every bounds check
    exact: m % bm === 0 && n % bn === 0 && k % tile.depth === 0 && k > 0,
    band,
  };
  const key = `matmul|f32|${tile.rows}x${tile.cols}x${tile.depth}x${tile.stages ?? 2}|${
    Object.values(form).join(",")
  }`;
  const pipe = pipeline(device, key, () => matmulSource(tile, form));
  const groupsX = Math.ceil(n / bn), groupsY = Math.ceil(m / bm);
  if (groupsY > 65535) throw new RangeError(`matmul: m = ${m} needs over 65535 row tiles`);
  const limit = device.limits.maxComputeWorkgroupsPerDimension;
  for (let zBase = 0; zBase < count; zBase += limit) {
    const uniforms = scratch.uniform([
      m,
      n,
      k,
      Math.ceil(k / tile.depth),
      params.a.offset,
      params.a.rowStride,
      params.a.colStride,
      zBase,
      params.b.offset,
      params.b.rowStride,
      params.b.colStride,
      outOffset,
      ...shape4,
      ...sa4,
      ...sb4,
      groupsX,
      groupsY,
    ]);
    const groups = [groupsX, groupsY, Math.min(limit, count - zBase)] as const;
    scratch.pass(encoder, pipe, [uniforms, a, b, out], groups);
  }
  return scratch.release();
}

/** What one pipeline of a tile is specialised for. */
interface Form {
  /** A's (B's) consecutive elements run along k rather than along rows (columns). */
  aAlongK: boolean;
  bAlongK: boolean;
  /** A, B, C are read / written as vec4s. */
  wideA: boolean;
  wideB: boolean;
  wideC: boolean;
  /** The sizes are multiples of the tile: no bounds checks. */
  exact: boolean;
  /** Tile rows per band of the workgroup order. */
  band: number;
}

const LANES = ["x", "y", "z", "w"];

/** WGSL of one tile configuration. */
function matmulSource(tile: MatmulTile, form: Form): string {
  const { rows: tm, cols: tn, depth: bk } = tile;
  const stages = tile.stages ?? 2;
  const bm = THREADS * tm, bn = THREADS * tn;
  const loadsA = (bm * bk) / (THREADS * THREADS); // elements each thread stages per slab
  const loadsB = (bn * bk) / (THREADS * THREADS);
  const lines: string[] = [];
  const emit = (s: string) => lines.push(s);

  // staging of one operand: `len` is its tile extent (bm or bn), `alongK` its layout;
  // each thread moves groups of `run` consecutive-in-memory elements, one vec4 load each
  // when `wide`
  const stage = (name: "A" | "B", len: number, loads: number, alongK: boolean, wide: boolean) => {
    const setup: string[] = [], load: string[] = [];
    const store: ((stage: number) => string)[] = [];
    const run = Math.min(4, loads);
    for (let g = 0; g < loads / run; g++) {
      const idx = `(t + ${g * THREADS * THREADS}u)`;
      const r = `${name.toLowerCase()}${g}`;
      const at = (stage: number, k: string, o: string) =>
        `S${name}[${stage * bk}u + ${k}][${o} / 4u]`;
      if (alongK) {
        // the thread reads `run` consecutive k of one row (A) or column (B)
        const per = bk / run;
        setup.push(`let ${r}o = ${idx} / ${per}u; let ${r}k = (${idx} % ${per}u) * ${run}u;`);
        if (wide) load.push(`${r} = ld${name}4(base${name}, o${name} + ${r}o, k0 + ${r}k);`);
        for (let j = 0; j < run; j++) {
          if (!wide) {
            load.push(
              `${r}[${j}] = ld${name}(base${name}, o${name} + ${r}o, k0 + ${r}k + ${j}u);`,
            );
          }
          store.push((st) => `${at(st, `${r}k + ${j}u`, `${r}o`)}[${r}o % 4u] = ${r}[${j}];`);
        }
      } else {
        // the thread reads `run` consecutive rows (A) or columns (B) at one k
        const per = len / run;
        setup.push(`let ${r}o = (${idx} % ${per}u) * ${run}u; let ${r}k = ${idx} / ${per}u;`);
        if (wide) load.push(`${r} = ld${name}4(base${name}, o${name} + ${r}o, k0 + ${r}k);`);
        for (let j = 0; j < run && !wide; j++) {
          load.push(`${r}[${j}] = ld${name}(base${name}, o${name} + ${r}o + ${j}u, k0 + ${r}k);`);
          if (run < 4) {
            store.push((st) =>
              `${at(st, `${r}k`, `(${r}o + ${j}u)`)}[(${r}o + ${j}u) % 4u] = ${r}[${j}];`
            );
          }
        }
        if (run === 4) store.push((st) => `${at(st, `${r}k`, `${r}o`)} = ${r};`);
      }
    }
    return { setup, load, store, regs: loads / run };
  };
  const sa = stage("A", bm, loadsA, form.aAlongK, form.wideA);
  const sb = stage("B", bn, loadsB, form.bAlongK, form.wideB);

  const elem = (wide: boolean) => wide ? "vec4<f32>" : "f32";
  // element (row r, depth c) of A and (column c, depth r) of B, zero outside the
  // matrices; the wide forms return it and the next three along the operand's layout
  const loader = (name: "A" | "B", wide: boolean, inside: string) => {
    const type = elem(wide);
    const at = `base + r * p.${name.toLowerCase()}Rs + c * p.${name.toLowerCase()}Cs`;
    const read = `${name}[${wide ? `(${at}) / 4u` : at}]`;
    const args = name === "A" ? "r: u32, c: u32" : "c: u32, r: u32";
    if (form.exact) {
      return `fn ld${name}${wide ? "4" : ""}(base: u32, ${args}) -> ${type} {
  return ${read};
}`;
    }
    return `fn ld${name}${wide ? "4" : ""}(base: u32, ${args}) -> ${type} {
  if (${inside}) { return ${read}; }
  return ${type}(0.0);
}`;
  };

  emit(`struct P {
  m: u32, n: u32, k: u32, slabs: u32,
  aOff: u32, aRs: u32, aCs: u32, zBase: u32,
  bOff: u32, bRs: u32, bCs: u32, cOff: u32,
  shape: vec4<u32>, aBs: vec4<u32>, bBs: vec4<u32>,
  groupsX: u32, groupsY: u32,
}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> A: array<${elem(form.wideA)}>;
@group(0) @binding(2) var<storage, read> B: array<${elem(form.wideB)}>;
@group(0) @binding(3) var<storage, read_write> C: array<${elem(form.wideC)}>;
// [stage * depth + k][row / 4 (A) or column / 4 (B)]; a constant first index spares the
// bounds clamp WGSL puts on a runtime one, so the inner loop's addresses fold
var<workgroup> SA: array<array<vec4<f32>, ${bm / 4}>, ${stages * bk}>;
var<workgroup> SB: array<array<vec4<f32>, ${bn / 4}>, ${stages * bk}>;

${loader("A", form.wideA, "r < p.m && c < p.k")}
${loader("B", form.wideB, "c < p.n && r < p.k")}

@compute @workgroup_size(${THREADS}, ${THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * ${THREADS}u + tx;
  let zz = wg.z + p.zBase;
  var z = zz;
  var baseA = p.aOff;
  var baseB = p.bOff;`);
  for (const lane of ["w", "z", "y", "x"]) {
    emit(`  { let i = z % p.shape.${lane}; z = z / p.shape.${lane};
    baseA += i * p.aBs.${lane}; baseB += i * p.bBs.${lane}; }`);
  }
  if (form.band > 1) {
    // launch order id = wg.y * groupsX + wg.x, renumbered column by column within bands
    // of `band` tile rows
    emit(`  let id = wg.y * p.groupsX + wg.x;
  let width = ${form.band}u * p.groupsX;
  let first = (id / width) * ${form.band}u;
  let tall = min(p.groupsY - first, ${form.band}u);
  let tileRow = first + (id % width) % tall;
  let tileCol = (id % width) / tall;`);
  } else emit(`  let tileRow = wg.y;\n  let tileCol = wg.x;`);
  emit(`  let oA = tileRow * ${bm}u;
  let oB = tileCol * ${bn}u;`);
  for (const l of [...sa.setup, ...sb.setup]) emit(`  ${l}`);
  for (let g = 0; g < sa.regs; g++) emit(`  var a${g}: vec4<f32>;`);
  for (let g = 0; g < sb.regs; g++) emit(`  var b${g}: vec4<f32>;`);
  for (let i = 0; i < tm; i++) {
    for (let v = 0; v < tn / 4; v++) emit(`  var c${i}_${v} = vec4<f32>(0.0);`);
  }
  const loadAll = (indent: string) => [...sa.load, ...sb.load].map((l) => indent + l).join("\n");
  const storeAll = (indent: string, stage: number) =>
    [...sa.store, ...sb.store].map((l) => indent + l(stage)).join("\n");
  // one slab: prefetch the next into registers, multiply this stage, store the next
  const slab = (stage: number, next: string) => {
    emit(`    {
      let more = ${next} < p.slabs;
      if (more) {
        let k0 = (${next}) * ${bk}u;
${loadAll("        ")}
      }`);
    for (let kk = 0; kk < bk; kk++) {
      const row = stage * bk + kk;
      emit(`      {`);
      for (let h = 0; h < tm / 4; h++) {
        emit(`        let x${h} = SA[${row}u][${h * THREADS}u + ty];`);
      }
      for (let v = 0; v < tn / 4; v++) {
        emit(`        let y${v} = SB[${row}u][${v * THREADS}u + tx];`);
      }
      for (let i = 0; i < tm; i++) {
        for (let v = 0; v < tn / 4; v++) {
          emit(
            `        c${i}_${v} = fma(vec4<f32>(x${i >> 2}.${LANES[i & 3]}), y${v}, c${i}_${v});`,
          );
        }
      }
      emit(`      }`);
    }
    // one buffer: everyone must be done reading it before it is overwritten
    if (stages === 1) emit(`      workgroupBarrier();`);
    emit(`      if (more) {
${storeAll("        ", stages === 1 ? 0 : 1 - stage)}
      }
      workgroupBarrier();
    }`);
  };
  emit(`  {
    let k0 = 0u;
${loadAll("    ")}
${storeAll("    ", 0)}
  }
  workgroupBarrier();`);
  if (stages === 1) {
    emit(`  for (var s0 = 0u; s0 < p.slabs; s0 += 1u) {`);
    slab(0, "s0 + 1u");
    emit(`  }`);
  } else {
    emit(`  // two slabs per iteration, so that each reads a stage known in the text
  for (var s0 = 0u; s0 < p.slabs; s0 += 2u) {`);
    slab(0, "s0 + 1u");
    emit(`    if (s0 + 1u < p.slabs) {`);
    slab(1, "s0 + 2u");
    emit(`    }
  }`);
  }
  emit(`  let cBase = p.cOff + zz * p.m * p.n;`);
  for (let i = 0; i < tm; i++) {
    const row = `oA + ${(i >> 2) * 4 * THREADS}u + ty * 4u + ${i & 3}u`;
    emit(`  { let r = ${row};
    ${form.exact ? "" : "if (r < p.m) "}{
      let rb = cBase + r * p.n;`);
    for (let v = 0; v < tn / 4; v++) {
      const col = `oB + ${v * 4 * THREADS}u + tx * 4u`;
      const guard = (c: string) => form.exact ? "" : `if (${c} < p.n) `;
      if (form.wideC) {
        // n is a multiple of 4: the vec4 is inside C or wholly past its last column
        emit(`      { let c = ${col};
        ${guard("c")}{ C[(rb + c) / 4u] = c${i}_${v}; } }`);
      } else {
        for (let j = 0; j < 4; j++) {
          emit(`      { let c = ${col} + ${j}u;
        ${guard("c")}{ C[rb + c] = c${i}_${v}.${LANES[j]}; } }`);
        }
      }
    }
    emit(`    } }`);
  }
  emit(`}`);
  return lines.join("\n");
}
