import assert from "node:assert/strict";
import { reduce, type ReduceOp, type ReduceParams } from "../../../tensor/webgpu/reduce.ts";
import { device, maxError, poisoned, randoms, run, skipped, upload } from "./gpu.ts";

/** The reduction by plain loops over every element (float64 sums, first index wins). */
function reference(x: ArrayLike<number>, p: ReduceParams): number[] {
  const keptDims = p.shape.map((_, d) => d).filter((d) => !p.axes.includes(d));
  const redDims = p.shape.map((_, d) => d).filter((d) => p.axes.includes(d));
  const size = (dims: number[]) => dims.reduce((a, d) => a * p.shape[d], 1);
  const outputs = size(keptDims), count = size(redDims);
  const res: number[] = [];
  for (let o = 0; o < outputs; o++) {
    let acc = p.op === "sum" || p.op === "mean" ? 0 : NaN, at = -1;
    for (let r = 0; r < count; r++) {
      let off = p.offset, ro = o, rr = r;
      for (const dims of [keptDims, redDims]) {
        let rest = dims === keptDims ? ro : rr;
        for (let i = dims.length - 1; i >= 0; i--) {
          off += (rest % p.shape[dims[i]]) * p.strides[dims[i]];
          rest = Math.floor(rest / p.shape[dims[i]]);
        }
        if (dims === keptDims) ro = rest;
        else rr = rest;
      }
      const v = x[off];
      if (p.op === "sum" || p.op === "mean") acc += v;
      else {
        const big = p.op === "max" || p.op === "argmax";
        const better = at < 0 || (big ? v > acc : v < acc) ||
          (Number.isNaN(v) && !Number.isNaN(acc));
        if (better && !(Number.isNaN(acc) && at >= 0)) {
          acc = v;
          at = r;
        }
      }
    }
    res.push(
      p.op === "mean" ? acc / count : p.op === "argmax" || p.op === "argmin" ? at : acc,
    );
  }
  return res;
}

/** Contiguous strides of `shape` permuted: the input is stored in `order`'s layout. */
function stridesFor(shape: number[], order: number[]): number[] {
  const strides = new Array(shape.length).fill(0);
  let s = 1;
  for (let i = order.length - 1; i >= 0; i--) {
    strides[order[i]] = s;
    s *= shape[order[i]];
  }
  return strides;
}

interface Case {
  name: string;
  shape: number[];
  axes: number[];
  /** Memory order of the dimensions (default: row-major). */
  order?: number[];
  int?: boolean;
  /** Values drawn from a few integers, so ties are common. */
  ties?: boolean;
  nans?: number[];
  /** The ops to run (default: all). */
  ops?: ReduceOp[];
}

const cases: Case[] = [
  { name: "rows", shape: [5, 300], axes: [1] },
  { name: "all of a large tensor (two passes)", shape: [100_003], axes: [0] },
  { name: "columns, few outputs", shape: [300, 7], axes: [0] },
  { name: "columns, many outputs (thread per output)", shape: [40, 300], axes: [0] },
  { name: "short rows", shape: [33, 3], axes: [1] },
  { name: "transposed input, two axes", shape: [6, 7, 8], axes: [0, 2], order: [2, 0, 1] },
  { name: "ties", shape: [9, 500], axes: [1], ties: true },
  { name: "ties over a long range", shape: [20_000], axes: [0], ties: true },
  { name: "NaN", shape: [4, 50], axes: [1], nans: [3, 60, 61, 199] },
  { name: "int32", shape: [3, 1000], axes: [1], int: true, ties: true },
  { name: "int32 all", shape: [70_000], axes: [0], int: true },
  // more workgroups than one grid dimension holds: the grid folds into two
  { name: "70000 rows", shape: [70_000, 20], axes: [1], ops: ["sum", "argmin"] },
];

const OPS: ReduceOp[] = ["sum", "mean", "max", "min", "argmax", "argmin"];

Deno.test("webgpu reduce() matches plain loops for every op, layout and size", async () => {
  if (skipped("webgpu reduce")) return;
  const dev = device!;
  for (const c of cases) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const offset = 3;
    const raw = randoms(offset + n, n);
    const values = c.ties || c.int ? raw.map((v) => Math.round(v * 3)) : raw;
    for (const i of c.nans ?? []) values[offset + i] = NaN;
    const data = c.int ? Int32Array.from(values) : values;
    const x = upload(dev, data);
    for (const op of c.ops ?? OPS) {
      if (c.int && op === "mean") continue;
      const params: ReduceParams = {
        op,
        dtype: c.int ? "int32" : "float32",
        shape: c.shape,
        strides: stridesFor(c.shape, c.order ?? c.shape.map((_, i) => i)),
        offset,
        axes: c.axes,
      };
      const want = reference(data, params);
      const out = poisoned(dev, want.length + 1);
      const bytes = await run(dev, out, (e) => reduce(dev, e, x, out, params));
      const intOut = op === "argmax" || op === "argmin" || c.int;
      const got = intOut ? new Int32Array(bytes) : new Float32Array(bytes);
      const label = `${c.name}, ${op}`;
      if (intOut) assert.deepEqual([...got.subarray(0, want.length)], want, label);
      else assert(maxError(got.subarray(0, want.length), want) < 1e-5, label);
      assert(Number.isNaN(new Float32Array(bytes)[want.length]), `${label}: wrote past the end`);
      out.destroy();
    }
    x.destroy();
  }
});

Deno.test("webgpu reduce() of empty ranges: sum 0, mean NaN, nothing for no outputs", async () => {
  if (skipped("webgpu reduce empty")) return;
  const dev = device!;
  const x = upload(dev, new Float32Array(4));
  const params = (op: ReduceOp, shape: number[], axes: number[]): ReduceParams => ({
    op,
    dtype: "float32",
    shape,
    strides: [shape[1] ?? 1, 1],
    offset: 0,
    axes,
  });
  const out = poisoned(dev, 4);
  let got = new Float32Array(
    await run(dev, out, (e) => reduce(dev, e, x, out, params("sum", [2, 0], [1]))),
  );
  assert.deepEqual([...got.subarray(0, 2)], [0, 0]);
  got = new Float32Array(
    await run(dev, out, (e) => reduce(dev, e, x, out, params("mean", [2, 0], [1]))),
  );
  assert(Number.isNaN(got[0]) && Number.isNaN(got[1]));
  const fresh = poisoned(dev, 4);
  got = new Float32Array(
    await run(dev, fresh, (e) => reduce(dev, e, x, fresh, params("max", [0, 3], [1]))),
  );
  assert(got.every(Number.isNaN));
});

Deno.test("webgpu reduce() rejects bad axes, empty extremes and integer means", () => {
  if (skipped("webgpu reduce errors")) return;
  const dev = device!;
  const x = upload(dev, new Float32Array(4));
  const encoder = dev.createCommandEncoder();
  const base: ReduceParams = {
    op: "max",
    dtype: "float32",
    shape: [2, 2],
    strides: [2, 1],
    offset: 0,
    axes: [1],
  };
  assert.throws(() => reduce(dev, encoder, x, x, { ...base, axes: [1, 1] }), {
    name: "RangeError",
    message: "max: axes [1, 1] must be distinct integers in [0, 2)",
  });
  assert.throws(() => reduce(dev, encoder, x, x, { ...base, shape: [2, 0] }), {
    name: "RangeError",
    message: "max: cannot reduce an empty dimension of shape [2, 0]",
  });
  assert.throws(() => reduce(dev, encoder, x, x, { ...base, strides: [3, 1] }), {
    name: "RangeError",
    message: "max: input needs element 4, but its buffer holds 4",
  });
  assert.throws(() => reduce(dev, encoder, x, x, { ...base, op: "mean", dtype: "int32" }), {
    name: "TypeError",
    message: "mean: needs a float32 input, got int32",
  });
});
