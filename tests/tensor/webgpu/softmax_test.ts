import assert from "node:assert/strict";
import { softmaxRows } from "../../../tensor/cpu/softmax.ts";
import {
  crossEntropy,
  crossEntropyBackward,
  softmax,
  softmaxBackward,
} from "../../../tensor/webgpu/softmax.ts";
import { device, maxError, poisoned, randoms, run, skipped, upload } from "./gpu.ts";

/** Row counts and lengths: one thread per row, a few, and a whole workgroup per row. */
const SHAPES: [number, number][] = [[1, 1], [7, 3], [33, 10], [5, 130], [3, 1000]];

function scaled(n: number, seed: number): Float32Array<ArrayBuffer> {
  return randoms(n, seed).map((v) => v * 8);
}

Deno.test("webgpu softmax() and logSoftmax() match the CPU rows kernel", async () => {
  if (skipped("webgpu softmax")) return;
  const dev = device!;
  for (const [rows, cols] of SHAPES) {
    const offset = 5;
    const data = scaled(offset + rows * cols, rows * cols);
    if (rows * cols > 20) {
      data.fill(-Infinity, offset + cols, offset + 2 * cols); // a row of -Infinity: NaN
      data[offset + 3 * cols + 1] = NaN; // NaN spreads through its row
    }
    const x = upload(dev, data);
    for (const log of [false, true]) {
      const want = new Float32Array(rows * cols);
      softmaxRows(data, offset, want, rows, cols, log);
      const out = poisoned(dev, rows * cols + 1);
      const got = new Float32Array(
        await run(dev, out, (e) => softmax(dev, e, x, out, { rows, cols, log, offset })),
      );
      const label = `${rows}x${cols} log=${log}`;
      assert(maxError(got.subarray(0, rows * cols), want) < 2e-6, label);
      assert(Number.isNaN(got[rows * cols]), `${label}: wrote past the end`);
      out.destroy();
    }
    x.destroy();
  }
});

Deno.test("webgpu softmaxBackward() matches the formulas of the CPU backward", async () => {
  if (skipped("webgpu softmax backward")) return;
  const dev = device!;
  for (const [rows, cols] of SHAPES) {
    const n = rows * cols;
    const xs = scaled(n, 3 + n), dys = randoms(n, 4 + n);
    for (const log of [false, true]) {
      const ys = new Float32Array(n);
      softmaxRows(xs, 0, ys, rows, cols, log);
      const want = new Float64Array(n);
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          s += log ? dys[i] : dys[i] * ys[i];
        }
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          want[i] = log ? dys[i] - Math.exp(ys[i]) * s : ys[i] * (dys[i] - s);
        }
      }
      const y = upload(dev, ys), dy = upload(dev, dys), dx = poisoned(dev, n);
      const got = new Float32Array(
        await run(dev, dx, (e) => softmaxBackward(dev, e, y, dy, dx, { rows, cols, log })),
      );
      assert(maxError(got.subarray(0, n), want) < 1e-5, `${rows}x${cols} log=${log}`);
      for (const b of [y, dy, dx]) b.destroy();
    }
  }
});

/** Cross-entropy and its gradient by plain loops (float64). */
function crossEntropyReference(
  x: Float32Array,
  labels: Int32Array,
  rows: number,
  cols: number,
  ignore: number,
  gradOut: number,
): { loss: number; grad: Float64Array } {
  let total = 0, count = 0;
  const grad = new Float64Array(rows * cols);
  const probs: number[][] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from(x.subarray(r * cols, (r + 1) * cols));
    const m = Math.max(...row);
    const s = row.reduce((a, v) => a + Math.exp(v - m), 0);
    probs.push(row.map((v) => Math.exp(v - m) / s));
    if (labels[r] === ignore) continue;
    count++;
    total += m + Math.log(s) - row[labels[r]];
  }
  for (let r = 0; r < rows; r++) {
    if (labels[r] === ignore) continue;
    for (let c = 0; c < cols; c++) {
      grad[r * cols + c] = gradOut * (probs[r][c] - (c === labels[r] ? 1 : 0)) / count;
    }
  }
  return { loss: total / count, grad };
}

Deno.test("webgpu crossEntropy() forward and backward match plain loops", async () => {
  if (skipped("webgpu crossEntropy")) return;
  const dev = device!;
  for (const [rows, cols] of [[1, 2], [13, 10], [70, 3], [4, 300]]) {
    const n = rows * cols;
    const offset = 2;
    const data = scaled(offset + n, 11 + n);
    const xs = data.subarray(offset);
    const labelData = Int32Array.from({ length: rows }, (_, r) => (r * 7 + 3) % cols);
    if (rows > 3) labelData[2] = -100; // ignored: neither counted nor given a gradient
    const gradOut = 0.5;
    const want = crossEntropyReference(xs, labelData, rows, cols, -100, gradOut);
    const x = upload(dev, data), labels = upload(dev, labelData);
    const g = upload(dev, new Float32Array([gradOut]));
    const out = poisoned(dev, 2);
    const params = { rows, cols, offset };
    const loss = new Float32Array(
      await run(dev, out, (e) => crossEntropy(dev, e, x, labels, out, params)),
    );
    assert(maxError([loss[0]], [want.loss]) < 1e-5, `${rows}x${cols} loss`);
    assert(Number.isNaN(loss[1]), "one loss value only");
    const dx = poisoned(dev, n);
    const grad = new Float32Array(
      await run(dev, dx, (e) => crossEntropyBackward(dev, e, x, labels, g, dx, params)),
    );
    assert(maxError(grad.subarray(0, n), want.grad) < 1e-6, `${rows}x${cols} gradient`);
    for (const b of [x, labels, g, out, dx]) b.destroy();
  }
});

Deno.test("webgpu crossEntropy() is NaN for an out-of-range label and for all ignored", async () => {
  if (skipped("webgpu crossEntropy NaN")) return;
  const dev = device!;
  const x = upload(dev, new Float32Array([1, 2, 3, 4]));
  for (const labelData of [[0, 2], [-1, -1]]) {
    const labels = upload(dev, Int32Array.from(labelData)), out = poisoned(dev, 1);
    const loss = new Float32Array(
      await run(
        dev,
        out,
        (e) => crossEntropy(dev, e, x, labels, out, { rows: 2, cols: 2, ignoreIndex: -1 }),
      ),
    );
    assert(Number.isNaN(loss[0]), `labels ${labelData}`);
    // the same buffer reused with a valid label gives a number again
    const ok = upload(dev, Int32Array.from([1, -1]));
    const fine = new Float32Array(
      await run(
        dev,
        out,
        (e) => crossEntropy(dev, e, x, ok, out, { rows: 2, cols: 2, ignoreIndex: -1 }),
      ),
    );
    assert(Math.abs(fine[0] - Math.log(1 + Math.exp(-1))) < 1e-6);
  }
  assert.throws(
    () =>
      crossEntropy(dev, dev.createCommandEncoder(), x, x, x, {
        rows: 1,
        cols: 2,
        ignoreIndex: 0.5,
      }),
    { name: "RangeError", message: "crossEntropy: ignoreIndex must be an int32, got 0.5" },
  );
  assert.throws(
    () => softmax(dev, dev.createCommandEncoder(), x, x, { rows: 2, cols: 3, log: true }),
    { name: "RangeError", message: "logSoftmax: x needs element 5, but its buffer holds 4" },
  );
});
