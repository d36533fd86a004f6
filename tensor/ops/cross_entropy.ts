/**
 * Cross-entropy of GPU logits `[N, C]` against int32 labels as one fused op: the row
 * kernels compute the mean loss without materialising log-probabilities, and backward
 * writes `(softmax - onehot) / counted` per row in one pass. `nn`'s `crossEntropy` takes
 * this path for the common case (2-D, mean, no class weights, no smoothing) on the GPU,
 * and composes logSoftmax, gather and mean everywhere else.
 * @module
 */

import { checkSameDevice } from "../device.ts";
import { fmt } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { encodeKernel } from "../webgpu/commands.ts";
import { crossEntropy, crossEntropyBackward } from "../webgpu/softmax.ts";
import { record } from "./record.ts";

/**
 * The mean cross-entropy of GPU `logits` `[N, C]` against int32 `labels` `[N]`, over the
 * labels that are not `ignoreIndex`. A label out of range makes the loss NaN (the GPU
 * cannot throw). Its gradient is not differentiable again.
 */
export function crossEntropyRows(logits: Tensor, labels: Tensor, ignoreIndex: number): Tensor {
  checkSameDevice("crossEntropy", logits, labels);
  if (logits.ndim !== 2 || labels.ndim !== 1 || labels.shape[0] !== logits.shape[0]) {
    throw new TypeError(
      `crossEntropy: fused rows need logits [N, C] and labels [N], got ${fmt(logits.shape)} ` +
        `and ${fmt(labels.shape)}`,
    );
  }
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
