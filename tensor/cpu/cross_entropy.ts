/**
 * Cross-entropy of the rows of a contiguous logits matrix against class labels, in double
 * and max-shifted: the CPU side of the fused `crossEntropy`. The forward keeps each row's
 * log-sum-exp, so backward needs one `exp` per logit and nothing else.
 * @module
 */

type Floats = Float32Array | Float64Array;

/** `rows` rows of `cols` logits from `x[xo]` on, and their labels from `labels[lo]` on. */
export interface LabelledRows {
  x: Floats;
  xo: number;
  labels: Int32Array;
  lo: number;
  rows: number;
  cols: number;
  /** The label that counts for nothing. */
  ignoreIndex: number;
}

/** The rows that count; a label outside [0, cols) that is not ignored throws. */
function checkLabels({ labels, lo, rows, cols, ignoreIndex }: LabelledRows): number {
  let counted = 0;
  for (let r = 0; r < rows; r++) {
    const k = labels[lo + r];
    if (k === ignoreIndex) continue;
    if (!(k >= 0 && k < cols)) {
      throw new RangeError(`crossEntropy: target ${k} is out of range for ${cols} classes`);
    }
    counted++;
  }
  return counted;
}

/**
 * The mean over the counted rows of `logsumexp(row) - row[label]` (NaN when no row
 * counts, as a mean over nothing, and for a row of NaN, +Infinity or only -Infinity, as in
 * PyTorch). `counted` is the number of rows whose label is not `ignoreIndex`; `lse` holds
 * each counted row's log-sum-exp, for backward.
 */
export function crossEntropyForward(
  batch: LabelledRows,
): { loss: number; counted: number; lse: Float64Array } {
  const counted = checkLabels(batch);
  const { x, xo, labels, lo, rows, cols, ignoreIndex } = batch;
  const lse = new Float64Array(rows);
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const k = labels[lo + r];
    if (k === ignoreIndex) continue;
    const p = xo + r * cols;
    let m = -Infinity;
    for (let c = 0; c < cols; c++) if (x[p + c] > m) m = x[p + c];
    let s = 0;
    for (let c = 0; c < cols; c++) s += Math.exp(x[p + c] - m);
    lse[r] = m + Math.log(s);
    sum += lse[r] - x[p + k];
  }
  return { loss: sum / counted, counted, lse };
}

/**
 * Writes `scale · (softmax(row) - onehot(label))` into each row of `out` (contiguous, from
 * 0), from the log-sum-exps the forward kept, and zeros for the rows whose label is
 * `ignoreIndex`.
 */
export function crossEntropyBackward(
  batch: LabelledRows,
  lse: Float64Array,
  scale: number,
  out: Floats,
): void {
  const { x, xo, labels, lo, rows, cols, ignoreIndex } = batch;
  for (let r = 0; r < rows; r++) {
    const k = labels[lo + r], p = xo + r * cols, q = r * cols;
    if (k === ignoreIndex) {
      out.fill(0, q, q + cols);
      continue;
    }
    const shift = lse[r];
    for (let c = 0; c < cols; c++) out[q + c] = Math.exp(x[p + c] - shift) * scale;
    // from the double, not from out[q + k]: that has been rounded to float32 already
    out[q + k] = Math.exp(x[p + k] - shift) * scale - scale;
  }
}
