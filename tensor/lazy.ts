/**
 * Elementwise fusion. An elementwise op on same-shaped contiguous float tensors (or
 * scalars) does not run at once: its result holds an expression over the storages it
 * reads. Ops on such pending results extend the expression, and the first read of the
 * data compiles the whole chain into one loop, so `a.mul(b).add(a)` makes one pass over
 * memory instead of two and never allocates the intermediate.
 *
 * Correctness rests on two rules: a pending tensor holds a reference to every storage it
 * reads (so disposing an input cannot free it), and any write to, or raw read of, a
 * storage first realises the pending tensors that read it.
 * @module
 */

import type { DType, TypedArray } from "./dtype.ts";
import { compile } from "./cpu/elementwise.ts";
import { simdLoop, type SimdNode } from "./cpu/simd_fused.ts";
import { heapAddress } from "./heap.ts";
import type { Storage } from "./storage.ts";

/**
 * A fused elementwise expression: a storage read at `offset + i`, a scalar, or an op over
 * other expressions. Pending tensors hold one until they are read.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * const y = tensor([1, 2]).mul(3).add(1);
 * assert(y.pendingExpr?.kind === "op" && y.pendingExpr.name === "add");
 * ```
 */
export type Expr =
  | { readonly kind: "leaf"; readonly storage: Storage; readonly offset: number }
  | { readonly kind: "scalar"; readonly value: number }
  | {
    readonly kind: "op";
    /** The op's name in the op table (the SIMD loop looks its form up by it). */
    readonly name: string;
    /** JavaScript in `x`, `y` (the args) and `p0`, `p1` (scalar params). */
    readonly code: string;
    readonly args: readonly Expr[];
    readonly params: readonly number[];
  };

/** Expressions larger than this are cut: their inputs are realised first. */
export const MAX_NODES = 24;
/** At most this many distinct storages feed one fused loop. */
export const MAX_LEAVES = 6;

/** Counts the nodes of an expression. */
export function nodeCount(e: Expr): number {
  return e.kind === "op" ? 1 + e.args.reduce((s, a) => s + nodeCount(a), 0) : 1;
}

/** The distinct storages an expression reads. */
export function leavesOf(e: Expr, out = new Set<Storage>()): Set<Storage> {
  if (e.kind === "leaf") out.add(e.storage);
  else if (e.kind === "op") { for (const a of e.args) leavesOf(a, out); }
  return out;
}

interface Emitted {
  leaves: { storage: Storage; offset: number }[];
  scalars: number[];
}

/** An op's code cut at its operands: text, then 0 (x), 1 (y), 2 (p0) or 3 (p1), and so on. */
type Template = readonly (string | number)[];
const OPERANDS = ["x", "y", "p0", "p1"];
const templates = new Map<string, Template>();

/** `code` as a template, cut once per op code rather than once per fused loop. */
function templateOf(code: string): Template {
  let t = templates.get(code);
  if (t === undefined) {
    t = code.split(/\b(x|y|p0|p1)\b/).map((part, i) => i % 2 === 1 ? OPERANDS.indexOf(part) : part);
    templates.set(code, t);
  }
  return t;
}

/** `e` as JavaScript over `v0..` (leaves) and `s0..` (scalars), and as a `SimdNode`. */
function emit(e: Expr, ctx: Emitted): { js: string; node: SimdNode } {
  if (e.kind === "scalar") {
    const scalar = ctx.scalars.push(e.value) - 1;
    return { js: `s${scalar}`, node: { scalar } };
  }
  if (e.kind === "leaf") {
    let leaf = ctx.leaves.findIndex((l) => l.storage === e.storage && l.offset === e.offset);
    if (leaf < 0) leaf = ctx.leaves.push({ storage: e.storage, offset: e.offset }) - 1;
    return { js: `v${leaf}`, node: { leaf } };
  }
  // plain loops: this runs for every fused op, and V8 compiles a lean function faster
  const js: string[] = [], nodes: SimdNode[] = [], params: number[] = [];
  for (const a of e.args) {
    const emitted = emit(a, ctx);
    js.push(`(${emitted.js})`);
    nodes.push(emitted.node);
  }
  for (const p of e.params) params.push(ctx.scalars.push(p) - 1);
  let body = "";
  for (const part of templateOf(e.code)) {
    body += typeof part === "string" ? part : part < 2 ? js[part] : `s${params[part - 2]}`;
  }
  return { js: body, node: { op: e.name, args: nodes, params } };
}

type Fused = (
  leaves: TypedArray[],
  scalars: number[],
  out: TypedArray,
  n: number,
  h: Record<string, (x: number) => number>,
) => void;

/**
 * Elements computed by each path since the process started: the WebAssembly SIMD loop
 * (all operands in the heap, every op with a SIMD form) and the JavaScript loop.
 */
export const fusedElements = { simd: 0, js: 0 };

/**
 * Runs the SIMD loop over the first multiple of 4 elements when every operand lies in the
 * heap; returns how many elements it computed.
 */
function runSimd(ctx: Emitted, body: string, node: SimdNode, out: TypedArray, n: number): number {
  const n4 = n - n % 4;
  const outAddress = heapAddress(out);
  if (n4 === 0 || outAddress < 0) return 0;
  const bytes = out.BYTES_PER_ELEMENT;
  const pointers: number[] = [];
  for (const l of ctx.leaves) {
    const data = l.storage.data;
    const at = heapAddress(data);
    if (at < 0 || data.constructor !== out.constructor) return 0;
    pointers.push(at + l.offset * bytes);
  }
  const f64 = bytes === 8;
  const loop = simdLoop(`${body}|${f64}`, node, ctx.leaves.length, ctx.scalars.length, f64);
  if (loop === null) return 0;
  loop(outAddress, n4, ...pointers, ...ctx.scalars);
  return n4;
}

/** Runs the fused loop of `e` into `out` (length `n`). */
export function evaluate(
  e: Expr,
  out: TypedArray,
  n: number,
  helpers: Record<string, (x: number) => number>,
): void {
  const ctx: Emitted = { leaves: [], scalars: [] };
  const { js: body, node } = emit(e, ctx);
  const done = runSimd(ctx, body, node, out, n);
  fusedElements.simd += done;
  fusedElements.js += n - done;
  if (done === n) return;
  const types = ctx.leaves.map((l) => l.storage.data.constructor.name).join(",");
  // Loops over 4M elements or more get their own instance: V8's code for a kernel that first
  // ran hot on small arrays streamed a 16M loop at 3.5 GB/s, a fresh instance at 6-7 GB/s.
  const size = n - done >= 1 << 22 ? "|large" : "";
  const key = `fused|${body}|${types}>${out.constructor.name}${size}`;
  const decl = [
    ...ctx.leaves.map((_, k) => `const L${k} = L[${k}];`),
    ...ctx.scalars.map((_, k) => `const s${k} = S[${k}];`),
  ].join("\n");
  // zero-offset views: V8 compiles `L0[i]` tighter than `L0[o0 + i]` (1.3-1.5x at 16M)
  const reads = ctx.leaves.map((_, k) => `const v${k} = L${k}[i];`).join(" ");
  const kernel = compile<Fused>(
    key,
    ["L", "S", "out", "n", "H"],
    `${decl}\nfor (let i = 0; i < n; i++) { ${reads} out[i] = ${body}; }`,
  );
  kernel(
    ctx.leaves.map((l) => l.storage.data.subarray(l.offset + done, l.offset + n)),
    ctx.scalars,
    done === 0 ? out : out.subarray(done, n),
    n - done,
    helpers,
  );
}

/** The dtypes fusion handles: results are rounded once, at the end of the chain. */
export function fusible(dtype: DType): boolean {
  return dtype === "float32" || dtype === "float64";
}

/**
 * The source of a tensor that is not computed yet: its expression and dtype.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Pending, Tensor } from "@adamant/core";
 * const t = new Tensor(new Pending({ kind: "scalar", value: 2 }, "float32"), [3]);
 * assert(t.toArray().join() === "2,2,2");
 * ```
 */
export class Pending {
  /** The expression over the storages it reads. */
  readonly expr: Expr;
  /** The dtype of the result. */
  readonly dtype: DType;

  /** Pairs an expression with the dtype of its result. */
  constructor(expr: Expr, dtype: DType) {
    this.expr = expr;
    this.dtype = dtype;
  }
}
