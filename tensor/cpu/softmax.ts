/**
 * Softmax and log-softmax over the rows of a contiguous matrix, max-shifted for stability.
 * @module
 */

import type { TypedArray } from "../dtype.ts";
import { compile } from "./elementwise.ts";

type RowsKernel = (x: TypedArray, xo: number, out: TypedArray, rows: number, cols: number) => void;

const SOFTMAX = `
for (let r = 0; r < rows; r++) {
  const p = xo + r * cols, q = r * cols;
  let m = -Infinity;
  for (let c = 0; c < cols; c++) if (x[p + c] > m) m = x[p + c];
  if (m === -Infinity) m = 0;
  let s = 0;
  for (let c = 0; c < cols; c++) s += Math.exp(x[p + c] - m);
  LAST
}`;

/** Writes softmax (or log-softmax when `log`) of each row of `x` into `out`. */
export function softmaxRows(
  x: TypedArray,
  xo: number,
  out: TypedArray,
  rows: number,
  cols: number,
  log: boolean,
): void {
  const last = log
    ? "const ls = m + Math.log(s); for (let c = 0; c < cols; c++) out[q + c] = x[p + c] - ls;"
    : "const inv = 1 / s; for (let c = 0; c < cols; c++) out[q + c] = Math.exp(x[p + c] - m) * inv;";
  const k = compile<RowsKernel>(
    `softmax|${log}|${x.constructor.name}>${out.constructor.name}`,
    ["x", "xo", "out", "rows", "cols"],
    SOFTMAX.replace("LAST", last),
  );
  k(x, xo, out, rows, cols);
}
