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
 * assert(y.pendingExpr?.kind === "op");
 * ```
 */
export type Expr =
  | { readonly kind: "leaf"; readonly storage: Storage; readonly offset: number }
  | { readonly kind: "scalar"; readonly value: number }
  | {
    readonly kind: "op";
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
  code: string;
  leaves: { storage: Storage; offset: number }[];
  scalars: number[];
}

function emit(e: Expr, ctx: Emitted): string {
  if (e.kind === "scalar") return `s${ctx.scalars.push(e.value) - 1}`;
  if (e.kind === "leaf") {
    let k = ctx.leaves.findIndex((l) => l.storage === e.storage && l.offset === e.offset);
    if (k < 0) k = ctx.leaves.push({ storage: e.storage, offset: e.offset }) - 1;
    return `v${k}`;
  }
  const args = e.args.map((a) => `(${emit(a, ctx)})`);
  const params = e.params.map((p) => `s${ctx.scalars.push(p) - 1}`);
  return e.code.replace(
    /\b(x|y|p0|p1)\b/g,
    (name) => name === "x" ? args[0] : name === "y" ? args[1] : params[name === "p0" ? 0 : 1],
  );
}

type Fused = (
  leaves: TypedArray[],
  scalars: number[],
  out: TypedArray,
  n: number,
  h: Record<string, (x: number) => number>,
) => void;

/** Runs the fused loop of `e` into `out` (length `n`). */
export function evaluate(
  e: Expr,
  out: TypedArray,
  n: number,
  helpers: Record<string, (x: number) => number>,
): void {
  const ctx: Emitted = { code: "", leaves: [], scalars: [] };
  const body = emit(e, ctx);
  const types = ctx.leaves.map((l) => l.storage.data.constructor.name).join(",");
  // Loops over 4M elements or more get their own instance: V8's code for a kernel that first
  // ran hot on small arrays streamed a 16M loop at 3.5 GB/s, a fresh instance at 6-7 GB/s.
  const size = n >= 1 << 22 ? "|large" : "";
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
    ctx.leaves.map((l) => l.storage.data.subarray(l.offset, l.offset + n)),
    ctx.scalars,
    out,
    n,
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
