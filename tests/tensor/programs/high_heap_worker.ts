/**
 * Run as a worker by heap_test.ts, so that its own heap (not the test process's) takes the
 * filler: moves the heap's bump pointer past 1 GiB, then runs each SIMD kernel on buffers
 * that lie there and on plain copies, and posts what it found.
 */
import { Adam, Conv2d, manualSeed, randn, Storage, Tensor } from "../../../mod.ts";
import { heapAddress, heapAlloc, heapBuffer } from "../../../tensor/heap.ts";
import { blockedKernel } from "../../../tensor/cpu/matmul.ts";
import { simdCalls } from "../../../tensor/cpu/conv.ts";
import { fusedElements } from "../../../tensor/lazy.ts";
import { adamSimdElements } from "../../../optim/adam_simd.ts";

const plain = (t: Tensor) => new Tensor(new Storage(new Float32Array(t.toArray()), false), t.shape);
const same = (a: Float32Array, b: Float32Array) => a.every((v, i) => Object.is(v, b[i]));
const scope = self as unknown as {
  onmessage: () => void;
  postMessage: (message: Record<string, number | boolean | string>) => void;
};

scope.onmessage = () => {
  const filler = heapAlloc(1.25 * 2 ** 30); // never touched: no memory is committed
  const cap = new Int32Array(heapBuffer(), 0, 2)[1]; // the heap's reservation, in its header
  manualSeed(0);
  const a = randn([300, 500]), b = randn([500, 200]);
  const fused = fusedElements.simd;
  const relu = a.mul(2).add(a).relu().toArray() as Float32Array;
  const fusedSimd = fusedElements.simd - fused;
  // the TypeScript kernel sums in double: where the SIMD kernel ran, some bits differ
  const product = a.matmul(b).toArray() as Float32Array;
  const typescript = new Float32Array(300 * 200);
  const view = (t: Tensor) => ({
    data: t.data as Float32Array,
    offset: 0,
    rowStride: t.shape[1],
    colStride: 1,
  });
  blockedKernel(300, 200, 500, view(a), view(b), typescript, 0);
  const conv = new Conv2d(3, 8, 3, { padding: 1 });
  const x = randn([4, 3, 16, 16]);
  const im2col = simdCalls.im2col;
  const convolved = conv.forward(x).toArray() as Float32Array;
  const convSimd = simdCalls.im2col - im2col;
  const w = randn([1000], { requiresGrad: true }), wPlain = plain(w);
  const g = randn([1000]);
  w.grad = g;
  const adam = adamSimdElements.count;
  new Adam([w], { lr: 0.1 }).step();
  const adamSimd = adamSimdElements.count - adam;
  wPlain.requiresGrad = true;
  wPlain.grad = plain(g);
  new Adam([wPlain], { lr: 0.1 }).step();
  // past the reservation: refused, and said once
  const warnings: string[] = [];
  console.warn = (message: string) => warnings.push(message);
  const refused = [heapAlloc(2 ** 30), heapAlloc(2 ** 30)];
  scope.postMessage({
    refused: refused.every((at) => at === -1),
    warnings: warnings.length,
    warning: warnings[0] ?? "",
    filler,
    lowest: Math.min(...[a, b, x, w].map((t) => heapAddress(t.data))),
    cap,
    matmul: same(product, plain(a).matmul(plain(b)).toArray() as Float32Array),
    matmulSimd: !same(product, typescript),
    fused: same(relu, plain(a).mul(2).add(plain(a)).relu().toArray() as Float32Array),
    fusedSimd,
    conv: same(convolved, conv.forward(plain(x)).toArray() as Float32Array),
    convSimd,
    adam: same(w.toArray() as Float32Array, wPlain.toArray() as Float32Array),
    adamSimd,
  });
};
