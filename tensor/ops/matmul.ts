/**
 * Matrix product with PyTorch's rules: vectors are promoted and the added dimension
 * removed; batch dimensions broadcast. Transposed operands are read through their strides.
 * @module
 */

import { matmulKernel, type MatrixView } from "../cpu/matmul.ts";
import { isFloat } from "../dtype.ts";
import { broadcastShapes, broadcastStrides, fmt, sizeOf } from "../shape.ts";
import { Tensor } from "../tensor.ts";
import { record } from "./record.ts";
import { checkSameDevice } from "../device.ts";
import { encodeKernel } from "../webgpu/commands.ts";
import { matmul as gpuMatmul } from "../webgpu/matmul.ts";

/** `a @ b`. */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 0 || b.ndim === 0) {
    throw new TypeError(
      `matmul: both operands need at least 1 dimension, got ${fmt(a.shape)} @ ${fmt(b.shape)}`,
    );
  }
  if (a.dtype !== b.dtype) {
    throw new TypeError(
      `matmul: dtype mismatch, ${a.dtype} ${fmt(a.shape)} @ ${b.dtype} ${fmt(b.shape)}`,
    );
  }
  if (!isFloat(a.dtype)) throw new TypeError(`matmul: needs floating tensors, got ${a.dtype}`);
  const ka = a.shape[a.ndim - 1], kb = b.shape[b.ndim === 1 ? 0 : b.ndim - 2];
  if (ka !== kb) {
    throw new TypeError(
      `matmul: inner dimensions differ, ${fmt(a.shape)} @ ${fmt(b.shape)} (${ka} against ${kb})`,
    );
  }
  if (a.ndim === 1) return matmul(a.unsqueeze(0), b).squeeze(b.ndim === 1 ? 0 : -2);
  if (b.ndim === 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  return batched(a, b);
}

function batched(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2], k = a.shape[a.ndim - 1], n = b.shape[b.ndim - 1];
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const batch = broadcastShapes("matmul", aBatch, bBatch);
  const sa = broadcastStrides(aBatch, a.strides.slice(0, -2), batch);
  const sb = broadcastStrides(bBatch, b.strides.slice(0, -2), batch);
  checkSameDevice("matmul", a, b);
  const out = Tensor.empty([...batch, m, n], a.dtype, a.device, "matmul");
  if (a.device === "gpu") {
    encodeKernel(
      "matmul",
      (device, encoder) =>
        gpuMatmul(device, encoder, a.buffer, b.buffer, out.buffer, {
          m,
          n,
          k,
          batch,
          a: {
            offset: a.offset,
            rowStride: a.strides[a.ndim - 2],
            colStride: a.strides[a.ndim - 1],
            batchStrides: sa,
          },
          b: {
            offset: b.offset,
            rowStride: b.strides[b.ndim - 2],
            colStride: b.strides[b.ndim - 1],
            batchStrides: sb,
          },
        }),
    );
    return recordMatmul(out, a, b);
  }
  const av: MatrixView = {
    data: a.data as Float32Array | Float64Array,
    offset: a.offset,
    rowStride: a.strides[a.ndim - 2],
    colStride: a.strides[a.ndim - 1],
  };
  const bv: MatrixView = {
    data: b.data as Float32Array | Float64Array,
    offset: b.offset,
    rowStride: b.strides[b.ndim - 2],
    colStride: b.strides[b.ndim - 1],
  };
  const count = sizeOf(batch), idx = new Array<number>(batch.length).fill(0);
  const outData = out.data as Float32Array | Float64Array;
  for (let q = 0; q < count; q++) {
    let ao = a.offset, bo = b.offset;
    for (let d = 0; d < batch.length; d++) {
      ao += idx[d] * sa[d];
      bo += idx[d] * sb[d];
    }
    av.offset = ao;
    bv.offset = bo;
    matmulKernel(m, n, k, av, bv, outData, q * m * n);
    for (let d = batch.length - 1; d >= 0; d--) {
      if (++idx[d] < batch[d]) break;
      idx[d] = 0;
    }
  }
  return recordMatmul(out, a, b);
}

/** Whether `t` is a 2-D transposed view of a contiguous matrix (`w.T`, say). */
function isTransposed(t: Tensor): boolean {
  return t.ndim === 2 && t.shape[0] > 1 && t.strides[0] === 1 && t.strides[1] === t.shape[0];
}

function recordMatmul(out: Tensor, a: Tensor, b: Tensor): Tensor {
  return record(out, "matmul", [a, b], [a, b], (g) => [
    a.requiresGrad ? g.matmul(b.transpose(-1, -2)).sumTo(a.shape) : null,
    !b.requiresGrad
      ? null
      // for b = w.T (a linear layer's weight) the product is formed as (g^T a)^T: the same
      // sums in the same order, but w's gradient comes out contiguous instead of strided
      : a.ndim === 2 && isTransposed(b)
      ? g.T.matmul(a).T
      : a.transpose(-1, -2).matmul(g).sumTo(b.shape),
  ]);
}
