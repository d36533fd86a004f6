/**
 * Cross-entropy of logits `[N, C]` against int32 labels as one fused op, on either device:
 * the forward computes the mean loss without materialising log-probabilities, and backward
 * writes `g · (softmax - onehot) / counted` per row directly (row kernels on the GPU, loops
 * in double on the CPU). `nn`'s `crossEntropy` takes this path for the common case (2-D,
 * mean, no class weights, no smoothing) and composes logSoftmax, gather and mean
 * everywhere else.
 * @module
 */

import { isGradEnabled } from "../../autograd/grad_mode.ts";
import { crossEntropyBackward as cpuBackward, crossEntropyForward } from "../cpu/cross_entropy.ts";
import { tensor } from "../creation.ts";
import { checkSameDevice } from "../device.ts";
import { fmt } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { encodeKernel } from "../webgpu/commands.ts";
import { crossEntropy, crossEntropyBackward } from "../webgpu/softmax.ts";
import { record } from "./record.ts";

/**
 * The mean cross-entropy of `logits` `[N, C]` against int32 `labels` `[N]`, over the
 * labels that are not `ignoreIndex`. On the CPU a label out of range throws; on the GPU
 * it makes the loss NaN (the GPU cannot throw), and the gradient is not differentiable
 * again.
 */
export function crossEntropyRows(logits: Tensor, labels: Tensor, ignoreIndex: number): Tensor {
  checkSameDevice("crossEntropy", logits, labels);
  if (logits.ndim !== 2 || labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new TypeError(
      `crossEntropy: fused rows need logits [N, C] and labels [N], got ${fmt(logits.shape)} ` +
        `and ${fmt(labels.shape)}`,
    );
  }
  return logits.device === "gpu"
    ? rowsOnGpu(logits, labels, ignoreIndex)
    : rowsOnCpu(logits, labels, ignoreIndex);
}

/** How many fused CPU forward and backward passes have run (tests check the path taken). */
export const fusedCrossEntropy = { forward: 0, backward: 0 };

function rowsOnCpu(logits: Tensor, labels: Tensor, ignoreIndex: number): Tensor {
  const [rows, cols] = logits.shape;
  const x = logits.contiguous(), y = labels.contiguous();
  const ys = y.data as Int32Array;
  const batch = {
    x: x.data as Float32Array | Float64Array,
    xo: x.offset,
    labels: ys,
    lo: y.offset,
    rows,
    cols,
    ignoreIndex,
  };
  const { loss, counted, lse } = crossEntropyForward(batch);
  fusedCrossEntropy.forward++;
  const out = Tensor.empty([], logits.dtype, "cpu", "crossEntropy");
  out.data[0] = loss;
  return record(out, "crossEntropy", [logits], [x, y], (g) => {
    if (isGradEnabled()) {
      // createGraph: the same gradient from differentiable ops (on the saved, version-checked
      // x), so it can be differentiated again; ignored rows are zero, whatever they hold
      const onehot = new Float64Array(rows * cols), keep = new Float64Array(rows);
      for (let r = 0; r < rows; r++) {
        const k = ys[y.offset + r];
        if (k === ignoreIndex) continue;
        onehot[r * cols + k] = 1;
        keep[r] = 1;
      }
      const hot = tensor(onehot, { shape: [rows, cols], dtype: logits.dtype });
      const valid = tensor(keep, { shape: [rows, 1] }).gt(0);
      return [valid.where(x.softmax(1), 0).sub(hot).mul(g.div(Math.max(counted, 1)))];
    }
    const dx = Tensor.empty([rows, cols], logits.dtype, "cpu", "crossEntropy backward");
    const scale = g.item() / counted;
    cpuBackward(batch, lse, scale, dx.data as Float32Array | Float64Array);
    fusedCrossEntropy.backward++;
    return [dx];
  });
}

function rowsOnGpu(logits: Tensor, labels: Tensor, ignoreIndex: number): Tensor {
  const [rows, cols] = logits.shape;
  const x = logits.contiguous();
  const y = fromZero(labels);
  const params = { rows, cols, offset: x.offset, ignoreIndex };
  const loss = Tensor.empty([], "float32", "gpu", "crossEntropy");
  encodeKernel(
    "crossEntropy",
    (device, encoder) => crossEntropy(device, encoder, x.buffer, y.buffer, loss.buffer, params),
  );
  return record(loss, "crossEntropy", [logits], [x, y], (g) => {
    const gc = fromZero(g);
    const dx = Tensor.empty([rows, cols], "float32", "gpu", "crossEntropy backward");
    encodeKernel(
      "crossEntropy backward",
      (device, encoder) =>
        crossEntropyBackward(device, encoder, x.buffer, y.buffer, gc.buffer, dx.buffer, params),
    );
    if (gc !== g) gc.dispose();
    return [
      // it depends on the logits as well as on g, so createGraph reaches the error
      record(dx, "crossEntropyBackward", [g, logits], [], () => {
        throw new Error(
          "crossEntropy: the fused GPU kernel has no second derivative; compose " +
            "logSoftmax and nllLoss for higher-order gradients",
        );
      }),
    ];
  });
}

/** `t` when its elements start at element 0 of its buffer (the kernels read from there). */
function fromZero(t: Tensor): Tensor {
  return t.isContiguous && t.offset === 0 ? t : t.clone();
}
