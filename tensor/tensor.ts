/**
 * The `Tensor`: an n-d view (shape, strides, offset) over a shared storage, with the
 * autograd fields and one method per op. Each method forwards to the op's file under
 * `ops/`, where its forward and backward sit side by side.
 * @module
 */

import { type BackwardOptions, runBackward } from "../autograd/engine.ts";
import type { GradHook, Node } from "../autograd/node.ts";
import {
  ARRAY_TYPES,
  type DType,
  dtypeOfArray,
  isDType,
  isFloat,
  type TypedArray,
} from "./dtype.ts";
import { type Device, isDevice } from "./device.ts";
import { download } from "./webgpu/commands.ts";
import { acquire } from "./pool.ts";
import { evaluate, type Expr, leavesOf, Pending } from "./lazy.ts";
import { HELPERS } from "./cpu/elementwise.ts";
import { collect, keep, track } from "./scope.ts";
import { contiguousStrides, fmt, type Shape, sizeOf } from "./shape.ts";
import { Storage } from "./storage.ts";
import * as E from "./ops/elementwise.ts";
import * as R from "./ops/reduce.ts";
import * as V from "./ops/view.ts";
import * as J from "./ops/join.ts";
import { matmul } from "./ops/matmul.ts";

/** A number or a tensor: every binary op accepts either on its right-hand side. */
export type TensorLike = Tensor | number;

/** Nested arrays of numbers, as `tensor()` accepts and `toNested()` returns. */
export type NestedArray = number | NestedArray[];

/** A handle that removes a registered hook. */
export interface HookHandle {
  /** Removes the hook. */
  remove(): void;
}

/**
 * An n-dimensional array on the CPU, with reverse-mode autograd. Create one with
 * `tensor`, `zeros`, `randn` and friends rather than with `new`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tensor } from "@adamant/core";
 * const w = tensor([[1, 2], [3, 4]], { requiresGrad: true });
 * const loss = w.matmul(tensor([[1], [1]])).relu().sum();
 * loss.backward();
 * assert(w.grad!.toArray().join() === "1,1,1,1");
 * ```
 */
export class Tensor {
  /** Size of each dimension. */
  readonly shape: readonly number[];
  /** Elements to step in storage per step along each dimension (0: broadcast). */
  readonly strides: readonly number[];
  /** Index of element [0, …, 0] in storage. */
  readonly offset: number;
  /** Element type. */
  readonly dtype: DType;
  /** Number of elements. */
  readonly size: number;
  #device: Device;
  /** The accumulated gradient, once backward has reached this tensor. */
  grad: Tensor | null = null;
  /** The op that produced this tensor when it was recorded for autograd (null: a leaf). */
  gradFn: Node | null = null;
  /** Hooks on this leaf's gradient (non-leaf hooks live on `gradFn`). */
  readonly hooks: GradHook[] = [];
  /** Set by `keep`: no `tidy` scope disposes this tensor. */
  kept = false;
  #storage: Storage | null;
  /** The fused expression still to compute (see lazy.ts); null once realised. */
  #pending: Expr | null = null;
  #requiresGrad = false;

  /**
   * Wraps a storage, or a pending fused expression; prefer the creation functions. The
   * tensor takes a reference to each storage it reads, which `dispose()` gives back.
   */
  constructor(
    source: Storage | Pending,
    shape: Shape,
    strides: readonly number[] = contiguousStrides(shape),
    offset = 0,
  ) {
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.size = sizeOf(shape);
    if (source instanceof Pending) {
      this.#device = "cpu";
      this.#storage = null;
      this.#pending = source.expr;
      this.dtype = source.dtype;
      for (const s of leavesOf(source.expr)) {
        s.refs++;
        s.readers.add(this);
      }
    } else {
      this.#storage = source;
      this.#device = source.gpu === null ? "cpu" : "gpu";
      source.refs++;
      const array = source.data;
      this.dtype = array instanceof Float32Array
        ? "float32"
        : array instanceof Int32Array
        ? "int32"
        : "float64";
    }
    track(this);
  }

  /** Where the data lives: `"cpu"` or `"gpu"`. */
  get device(): Device {
    return this.#device;
  }

  /**
   * Points this tensor at `source`'s data, keeping its identity, shape and autograd
   * fields: how `Module.to` moves parameters and buffers between devices. `source` must
   * have this shape and dtype; it stays usable (it shares the storage).
   */
  adoptStorage(source: Tensor): void {
    if (source.shape.join() !== this.shape.join() || source.dtype !== this.dtype) {
      throw new TypeError(
        `adoptStorage: source ${fmt(source.shape)} ${source.dtype} does not match ` +
          `${fmt(this.shape)} ${this.dtype}`,
      );
    }
    const storage = source.storage;
    storage.refs++;
    this.dispose();
    this.#storage = storage;
    this.#device = source.device;
    const self = this as { strides: readonly number[]; offset: number };
    self.strides = source.strides;
    self.offset = source.offset;
  }

  /** The fused expression of a tensor not computed yet, or null. */
  get pendingExpr(): Expr | null {
    return this.#pending;
  }

  /** Computes a pending tensor now; a no-op for any other. */
  realize(): void {
    const expr = this.#pending;
    if (expr === null) return;
    const out = acquire(this.dtype, this.size);
    evaluate(expr, out, this.size, HELPERS);
    const storage = new Storage(out, true);
    storage.refs++;
    this.#storage = storage;
    this.#pending = null;
    for (const s of leavesOf(expr)) {
      s.readers.delete(this);
      s.unref();
    }
  }

  /** A new contiguous tensor with uninitialised pooled memory; kernels fill it. */
  static empty(shape: Shape, dtype: DType, device: Device = "cpu", op = "empty"): Tensor {
    const storage = device === "cpu"
      ? new Storage(acquire(dtype, sizeOf(shape)), true)
      : Storage.onGpu(dtype, sizeOf(shape), op);
    return new Tensor(storage, shape);
  }

  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }

  /** The storage (computing a pending tensor first); throws once the tensor is disposed. */
  get storage(): Storage {
    if (this.#storage === null) {
      if (this.#pending === null) {
        throw new Error(`tensor of shape ${fmt(this.shape)} was disposed and cannot be used`);
      }
      this.realize();
    }
    return this.#storage!;
  }

  /**
   * The storage's elements (read through `strides` and `offset`). Pending tensors that
   * read this storage are computed first, so writing through the array is safe.
   */
  get data(): TypedArray {
    const storage = this.storage;
    if (storage.gpu !== null) {
      throw new TypeError(
        `data: the tensor ${fmt(this.shape)} is on the gpu, and this code reads its elements ` +
          "on the CPU (an op with no GPU kernel, or a sync read); use `await t.read()`, or " +
          "`await t.cpu()` to run it on the CPU",
      );
    }
    if (storage.readers.size > 0) storage.flushReaders();
    return storage.data;
  }

  /** The GPU buffer of a GPU tensor (read through `strides` and `offset`). */
  get buffer(): GPUBuffer {
    const buffer = this.storage.gpu;
    if (buffer === null) throw new TypeError("buffer: the tensor is on the cpu, not the gpu");
    return buffer;
  }

  #notOnCpu(op: string): never {
    throw new TypeError(
      `${op}: the tensor ${fmt(this.shape)} is on the gpu, where reads are asynchronous; ` +
        "use `await t.read()` (or `await t.cpu()` for a CPU tensor)",
    );
  }

  /** Whether `dispose()` has released this tensor. */
  get isDisposed(): boolean {
    return this.#storage === null && this.#pending === null;
  }

  /** The storage's in-place write counter (0 for a tensor not computed yet). */
  get version(): number {
    return this.#pending !== null ? 0 : this.storage.version;
  }

  /** Whether the elements are laid out row-major with no gaps. */
  get isContiguous(): boolean {
    let s = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== s) return false;
      s *= this.shape[i];
    }
    return true;
  }

  /** Whether gradients flow to (a leaf) or through (an op result) this tensor. */
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }

  set requiresGrad(value: boolean) {
    if (value && !isFloat(this.dtype)) {
      throw new TypeError(
        `requiresGrad: only floating tensors can require grad, not ${this.dtype}`,
      );
    }
    if (!value && this.gradFn !== null) {
      throw new Error(
        "requiresGrad: cannot turn off requiresGrad on an op result; use detach() instead",
      );
    }
    this.#requiresGrad = value;
  }

  /** Whether this tensor was created by the user rather than recorded from an op. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  // ---- autograd ---------------------------------------------------------------------

  /**
   * Computes the gradient of this tensor with respect to every leaf that requires grad,
   * adding it into their `.grad`. A non-scalar needs `gradient` of its own shape.
   *
   * @param gradient The gradient of some scalar with respect to this tensor.
   * @param options `retainGraph` to run backward again, `createGraph` for higher order.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { tensor } from "@adamant/core";
   * const x = tensor([3], { requiresGrad: true });
   * x.mul(x).sum().backward();
   * assert(x.grad!.item() === 6);
   * ```
   */
  backward(gradient?: Tensor | BackwardOptions, options?: BackwardOptions): void {
    if (gradient !== undefined && !(gradient instanceof Tensor)) {
      options = gradient;
      gradient = undefined;
    }
    if (!this.requiresGrad) {
      throw new Error(
        "backward: this tensor does not require grad (no input had requiresGrad, or it " +
          "was computed inside noGrad)",
      );
    }
    if (gradient === undefined && this.size !== 1) {
      throw new Error(
        `backward: a gradient is needed for a non-scalar output of shape ${fmt(this.shape)}; ` +
          "call backward(gradient) or reduce it first (e.g. .sum())",
      );
    }
    if (gradient !== undefined && gradient.shape.join() !== this.shape.join()) {
      throw new TypeError(
        `backward: gradient of shape ${fmt(gradient.shape)} does not match output ` +
          `of shape ${fmt(this.shape)}`,
      );
    }
    const createGraph = options?.createGraph ?? false;
    const seed = gradient ?? E.fullLike(this, 1);
    const { created } = collect(() => runBackward(this, seed, options));
    if (!createGraph) { for (const t of created) if (!t.kept) t.dispose(); }
    if (gradient === undefined && !createGraph) seed.dispose();
  }

  /** Adds `g` into `.grad` (engine use): a kept copy, or in place once one exists. */
  accumulateGrad(g: Tensor, createGraph: boolean): void {
    if (g.shape.join() !== this.shape.join()) {
      throw new Error(
        `backward: gradient of shape ${fmt(g.shape)} reached a leaf of shape ${fmt(this.shape)}`,
      );
    }
    if (this.grad === null) this.grad = keep(createGraph ? g : g.clone());
    else if (createGraph || this.grad.requiresGrad) this.grad = keep(this.grad.add(g));
    else this.grad.addInPlace(g);
  }

  /**
   * Registers `hook` to see (and optionally replace) this tensor's gradient during
   * backward; data parallelism uses it to reduce gradients as they become ready.
   *
   * @param hook Called with the gradient; may return a replacement.
   * @returns A handle whose `remove()` unregisters the hook.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ones } from "@adamant/core";
   * const x = ones([2], { requiresGrad: true });
   * x.registerHook((g) => g.mul(10));
   * x.sum().backward();
   * assert(x.grad!.toArray()[0] === 10);
   * ```
   */
  registerHook(hook: GradHook): HookHandle {
    if (!this.requiresGrad) {
      throw new Error("registerHook: the tensor does not require grad, so no gradient reaches it");
    }
    const list = this.gradFn === null ? this.hooks : this.gradFn.hooks;
    list.push(hook);
    return {
      remove() {
        const i = list.indexOf(hook);
        if (i >= 0) list.splice(i, 1);
      },
    };
  }

  /**
   * A tensor sharing this one's data but cut from the graph.
   *
   * @returns A leaf that does not require grad.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ones } from "@adamant/core";
   * assert(!ones([2], { requiresGrad: true }).detach().requiresGrad);
   * ```
   */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset);
  }

  /**
   * Re-points a contiguous leaf at `storage`, its elements starting at `offset` (row-major,
   * no gaps): how `parallel/` lays a model's parameters out in one shared arena. Nothing
   * is copied, so write the values there first. The old storage is released; views taken
   * earlier keep reading it. The version is bumped, as for an in-place write.
   *
   * @param storage The new storage, of this tensor's dtype.
   * @param offset Index in `storage.data` of the first element.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Storage, tensor } from "@adamant/core";
   * const w = tensor([1, 2], { requiresGrad: true });
   * const arena = new Float32Array(new SharedArrayBuffer(16));
   * arena.set(w.toArray(), 2);
   * w.rebind(new Storage(arena, false), 2);
   * arena[3] = 5;
   * assert(w.toArray().join() === "1,5");
   * ```
   */
  rebind(storage: Storage, offset: number): void {
    const where = `rebind: tensor of shape ${fmt(this.shape)}`;
    if (this.gradFn !== null || !this.isContiguous || this.#storage === null) {
      throw new TypeError(`${where} must be a computed, contiguous leaf`);
    }
    const array = storage.data;
    const dtype = dtypeOfArray(array);
    if (dtype !== this.dtype) {
      throw new TypeError(`${where}: storage holds ${dtype}, the tensor is ${this.dtype}`);
    }
    if (!Number.isInteger(offset) || offset < 0 || offset + this.size > array.length) {
      throw new RangeError(
        `${where}: offset ${offset} + ${this.size} elements overruns a storage of ${array.length}`,
      );
    }
    this.#storage.flushReaders();
    storage.refs++;
    this.#storage.unref();
    this.#storage = storage;
    (this as { offset: number }).offset = offset;
    storage.version++;
  }

  // ---- memory -----------------------------------------------------------------------

  /**
   * Releases this tensor's reference to its storage; the buffer returns to the pool once
   * no view of it remains. Using the tensor afterwards throws.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { zeros } from "@adamant/core";
   * const t = zeros([4]);
   * t.dispose();
   * assert(t.isDisposed);
   * ```
   */
  dispose(): void {
    if (this.#pending !== null) {
      for (const s of leavesOf(this.#pending)) {
        s.readers.delete(this);
        s.unref();
      }
      this.#pending = null;
    }
    if (this.#storage === null) return;
    this.#storage.unref();
    this.#storage = null;
  }

  /** `using t = …` disposes `t` at the end of the block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  // ---- reads ------------------------------------------------------------------------

  /**
   * The value of a one-element tensor.
   *
   * @returns The number.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { tensor } from "@adamant/core";
   * assert(tensor([[5]]).item() === 5);
   * ```
   */
  item(): number {
    if (this.device === "gpu") this.#notOnCpu("item");
    if (this.size !== 1) {
      throw new TypeError(
        `item: the tensor has ${this.size} elements (shape ${fmt(this.shape)}), not 1`,
      );
    }
    return this.data[this.offset];
  }

  /**
   * The elements in row-major order as a new typed array of the tensor's dtype.
   *
   * @returns A fresh copy; changing it does not change the tensor.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { tensor } from "@adamant/core";
   * assert(tensor([[1, 2], [3, 4]]).T.toArray().join() === "1,3,2,4");
   * ```
   */
  toArray(): TypedArray {
    if (this.device === "gpu") this.#notOnCpu("toArray");
    const c = this.contiguous();
    const out = c.data.slice(c.offset, c.offset + c.size);
    if (c !== this) c.dispose();
    return out;
  }

  /**
   * The elements as nested arrays of numbers, shaped like the tensor.
   *
   * @returns Nested arrays (a number for a scalar).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { tensor } from "@adamant/core";
   * assert(JSON.stringify(tensor([[1, 2]]).toNested()) === "[[1,2]]");
   * ```
   */
  toNested(): NestedArray {
    if (this.device === "gpu") this.#notOnCpu("toNested");
    const flat = this.toArray();
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.ndim) return flat[start];
      const step = sizeOf(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim] }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }

  /**
   * Reads the elements on any device; on the CPU it resolves at once.
   *
   * @returns A promise of a fresh typed array in row-major order.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ones } from "@adamant/core";
   * const data = await ones([2]).read();
   * assert(data[1] === 1);
   * ```
   */
  read(): Promise<TypedArray> {
    if (this.device === "cpu") return Promise.resolve(this.toArray());
    return this.#readGpu();
  }

  /**
   * This tensor on the CPU: itself when it is there already, otherwise a new CPU leaf
   * with the values read back (requiring grad when this is a leaf that does).
   *
   * @returns A promise of the CPU tensor.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { ones } from "@adamant/core";
   * const t = await ones([2]).cpu();
   * assert.equal(t.device, "cpu");
   * ```
   */
  async cpu(): Promise<Tensor> {
    if (this.device === "cpu") return this;
    const out = E.fromData(await this.#readGpu(), this.shape, this.dtype);
    if (this.requiresGrad && this.gradFn === null) out.requiresGrad = true;
    return out;
  }

  async #readGpu(): Promise<TypedArray> {
    const c = this.contiguous();
    const bytes = await download(c.buffer, c.offset * 4, c.size * 4);
    if (c !== this) c.dispose();
    return new ARRAY_TYPES[this.dtype](bytes);
  }

  /**
   * A short description with shape, dtype and (for small tensors) the values.
   *
   * @returns The description.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { tensor } from "@adamant/core";
   * assert(tensor([1, 2]).toString().startsWith("Tensor"));
   * ```
   */
  toString(): string {
    if (this.isDisposed) return `Tensor(disposed, shape=${fmt(this.shape)})`;
    if (this.device === "gpu") return `Tensor(gpu, shape=${fmt(this.shape)}, dtype=${this.dtype})`;
    const values = this.size <= 100 ? JSON.stringify(this.toNested()) : "…";
    return `Tensor(${values}, shape=${fmt(this.shape)}, dtype=${this.dtype}` +
      `${this.requiresGrad ? ", requiresGrad" : ""})`;
  }

  // ---- creation relatives --------------------------------------------------------------

  /** A tensor of the same shape and dtype filled with `value`. */
  fullLike(value: number): Tensor {
    return E.fullLike(this, value);
  }
  /** Zeros of the same shape and dtype. */
  zerosLike(): Tensor {
    return E.fullLike(this, 0);
  }
  /** Ones of the same shape and dtype. */
  onesLike(): Tensor {
    return E.fullLike(this, 1);
  }
  /** A new tensor of this dtype holding `data` with `shape` (used by gradcheck). */
  newTensor(data: ArrayLike<number>, shape: Shape): Tensor {
    return E.fromData(data, shape, this.dtype);
  }
  /**
   * A copy converted to `dtype` (differentiable between float dtypes), or this tensor
   * moved to `device` (differentiable; itself when already there).
   */
  to(target: DType | Device): Tensor {
    if (isDevice(target)) return E.toDevice(this, target);
    if (!isDType(target)) {
      throw new TypeError(
        `to: expected a dtype (float32, int32, float64) or a device (cpu, gpu), got ${target}`,
      );
    }
    return E.cast(this, target);
  }
  /** A float64 copy. */
  double(): Tensor {
    return E.cast(this, "float64");
  }
  /** A float32 copy. */
  float(): Tensor {
    return E.cast(this, "float32");
  }
  /** A copy with its own contiguous storage (differentiable). */
  clone(): Tensor {
    return V.clone(this);
  }
  /** This tensor when already contiguous, otherwise a contiguous copy. */
  contiguous(): Tensor {
    return this.isContiguous ? this : V.clone(this);
  }

  // ---- elementwise --------------------------------------------------------------------

  /** `this + other`, broadcasting. */
  add(other: TensorLike): Tensor {
    return E.add(this, other);
  }
  /** `this - other`, broadcasting. */
  sub(other: TensorLike): Tensor {
    return E.sub(this, other);
  }
  /** `this * other`, broadcasting. */
  mul(other: TensorLike): Tensor {
    return E.mul(this, other);
  }
  /** `this / other`, broadcasting. */
  div(other: TensorLike): Tensor {
    return E.div(this, other);
  }
  /** `this ** exponent`, broadcasting. */
  pow(exponent: TensorLike): Tensor {
    return E.pow(this, exponent);
  }
  /** Elementwise maximum (ties split the gradient evenly, as PyTorch does). */
  maximum(other: TensorLike): Tensor {
    return E.maximum(this, other);
  }
  /** Elementwise minimum (ties split the gradient evenly). */
  minimum(other: TensorLike): Tensor {
    return E.minimum(this, other);
  }
  /** Mask (1 or 0, in this dtype) of `this == other`. */
  eq(other: TensorLike): Tensor {
    return E.compare("eq", this, other);
  }
  /** Mask of `this != other`. */
  ne(other: TensorLike): Tensor {
    return E.compare("ne", this, other);
  }
  /** Mask of `this < other`. */
  lt(other: TensorLike): Tensor {
    return E.compare("lt", this, other);
  }
  /** Mask of `this <= other`. */
  le(other: TensorLike): Tensor {
    return E.compare("le", this, other);
  }
  /** Mask of `this > other`. */
  gt(other: TensorLike): Tensor {
    return E.compare("gt", this, other);
  }
  /** Mask of `this >= other`. */
  ge(other: TensorLike): Tensor {
    return E.compare("ge", this, other);
  }
  /** `-this`. */
  neg(): Tensor {
    return E.unary("neg", this);
  }
  /** `|this|`. */
  abs(): Tensor {
    return E.unary("abs", this);
  }
  /** The sign (-1, 0 or 1); its gradient is zero. */
  sign(): Tensor {
    return E.unary("sign", this);
  }
  /** `e ** this`. */
  exp(): Tensor {
    return E.unary("exp", this);
  }
  /** Natural logarithm. */
  log(): Tensor {
    return E.unary("log", this);
  }
  /** Square root. */
  sqrt(): Tensor {
    return E.unary("sqrt", this);
  }
  /** `1 / sqrt(this)`. */
  rsqrt(): Tensor {
    return E.unary("rsqrt", this);
  }
  /** `this * this`. */
  square(): Tensor {
    return E.mul(this, this);
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return E.unary("tanh", this);
  }
  /** Logistic sigmoid. */
  sigmoid(): Tensor {
    return E.unary("sigmoid", this);
  }
  /** The error function. */
  erf(): Tensor {
    return E.unary("erf", this);
  }
  /** `max(this, 0)`; its gradient at 0 is 0, as in PyTorch. */
  relu(): Tensor {
    return E.unary("relu", this);
  }
  /** `this` where positive, `negativeSlope * this` elsewhere (default slope 0.01). */
  leakyRelu(negativeSlope = 0.01): Tensor {
    return E.unary("leakyRelu", this, negativeSlope);
  }
  /** GELU: exact (`"none"`, the default) or the tanh approximation (`"tanh"`). */
  gelu(approximate: "none" | "tanh" = "none"): Tensor {
    if (approximate !== "none" && approximate !== "tanh") {
      throw new RangeError(`gelu: approximate must be "none" or "tanh", got ${approximate}`);
    }
    return E.unary(approximate === "tanh" ? "geluTanh" : "gelu", this);
  }
  /** `log(1 + exp(beta * this)) / beta`, linear above `threshold` (PyTorch defaults 1, 20). */
  softplus(beta = 1, threshold = 20): Tensor {
    return E.unary("softplus", this, beta, threshold);
  }
  /** Limits values to [min, max]; either bound may be omitted with `undefined`. */
  clamp(min?: number, max?: number): Tensor {
    return E.clamp(this, min, max);
  }
  /** Elements of `a` where this mask is non-zero, of `b` elsewhere. */
  where(a: TensorLike, b: TensorLike): Tensor {
    return E.where(this, a, b);
  }

  // ---- in place (for optimizers, under noGrad) ---------------------------------------------

  /** `this += alpha * other` in place. */
  addInPlace(other: TensorLike, alpha = 1): this {
    E.inPlace("addInPlace", this, other, "add", alpha);
    return this;
  }
  /** `this -= other` in place. */
  subInPlace(other: TensorLike): this {
    E.inPlace("subInPlace", this, other, "sub");
    return this;
  }
  /** `this *= other` in place. */
  mulInPlace(other: TensorLike): this {
    E.inPlace("mulInPlace", this, other, "mul");
    return this;
  }
  /** `this /= other` in place. */
  divInPlace(other: TensorLike): this {
    E.inPlace("divInPlace", this, other, "div");
    return this;
  }
  /** Copies `source` (broadcast to this shape) into this tensor. */
  copyInPlace(source: TensorLike): this {
    E.inPlace("copyInPlace", this, source, "second");
    return this;
  }
  /** Sets every element to `value`. */
  fillInPlace(value: number): this {
    E.inPlace("fillInPlace", this, value, "second");
    return this;
  }
  /** Sets every element to zero. */
  zeroInPlace(): this {
    return this.fillInPlace(0);
  }

  // ---- reductions ---------------------------------------------------------------------------

  /** Sum over `axes` (all when omitted). */
  sum(axes?: number | readonly number[], keepDim = false): Tensor {
    return R.sum(this, axes, keepDim);
  }
  /** Mean over `axes` (all when omitted). */
  mean(axes?: number | readonly number[], keepDim = false): Tensor {
    return R.mean(this, axes, keepDim);
  }
  /** Maximum over `axes`; the gradient is shared evenly among tied maxima. */
  max(axes?: number | readonly number[], keepDim = false): Tensor {
    return R.extreme("max", this, axes, keepDim);
  }
  /** Minimum over `axes`; the gradient is shared evenly among tied minima. */
  min(axes?: number | readonly number[], keepDim = false): Tensor {
    return R.extreme("min", this, axes, keepDim);
  }
  /** int32 index of the maximum along `axis` (over the flattened tensor when omitted). */
  argmax(axis?: number, keepDim = false): Tensor {
    return R.argExtreme("argmax", this, axis, keepDim);
  }
  /** int32 index of the minimum along `axis` (over the flattened tensor when omitted). */
  argmin(axis?: number, keepDim = false): Tensor {
    return R.argExtreme("argmin", this, axis, keepDim);
  }
  /** Variance over `axes`; `unbiased` (default true) divides by n - 1. */
  var(axes?: number | readonly number[], options: R.VarOptions = {}): Tensor {
    return R.variance(this, axes, options);
  }
  /** Standard deviation over `axes`; `unbiased` (default true) divides by n - 1. */
  std(axes?: number | readonly number[], options: R.VarOptions = {}): Tensor {
    return R.variance(this, axes, options).sqrt();
  }
  /** `log(sum(exp(this)))` over `axes`, computed stably. */
  logsumexp(axes?: number | readonly number[], keepDim = false): Tensor {
    return R.logsumexp(this, axes, keepDim);
  }
  /** Softmax along `axis` (default the last). */
  softmax(axis = -1): Tensor {
    return R.softmax(this, axis, false);
  }
  /** Log-softmax along `axis` (default the last), computed stably. */
  logSoftmax(axis = -1): Tensor {
    return R.softmax(this, axis, true);
  }
  /** Sums broadcast dimensions away so the result has `shape` (the inverse of `expand`). */
  sumTo(shape: Shape): Tensor {
    return R.sumTo(this, shape);
  }

  // ---- views and layout -----------------------------------------------------------------

  /** The same elements in a new shape (one entry may be -1); a view when possible. */
  reshape(shape: Shape): Tensor {
    return V.reshape(this, shape);
  }
  /** Like `reshape`, but throws instead of copying a non-contiguous tensor. */
  view(shape: Shape): Tensor {
    return V.view(this, shape);
  }
  /** Flattens dimensions `startDim` to `endDim` (inclusive) into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  /** Removes `axis` (or every axis) of size 1. */
  squeeze(axis?: number): Tensor {
    return V.squeeze(this, axis);
  }
  /** Inserts a dimension of size 1 at `axis`. */
  unsqueeze(axis: number): Tensor {
    return V.unsqueeze(this, axis);
  }
  /** Reorders dimensions: result dimension i is this tensor's dimension `axes[i]`. */
  permute(axes: readonly number[]): Tensor {
    return V.permute(this, axes);
  }
  /** Swaps two dimensions (the last two by default). */
  transpose(axis0 = -2, axis1 = -1): Tensor {
    return V.transpose(this, axis0, axis1);
  }
  /** All dimensions reversed (a matrix's transpose). */
  get T(): Tensor {
    return V.permute(this, this.shape.map((_, i) => this.ndim - 1 - i));
  }
  /** Broadcasts size-1 dimensions to `shape` without copying (-1 keeps a size). */
  expand(shape: Shape): Tensor {
    return V.expand(this, shape);
  }
  /** Elements `start` to `end` (exclusive, negatives count from the end) along `axis`. */
  slice(axis: number, start: number, end?: number, step = 1): Tensor {
    return V.slice(this, axis, start, end, step);
  }
  /** `length` elements from `start` along `axis`. */
  narrow(axis: number, start: number, length: number): Tensor {
    return V.narrow(this, axis, start, length);
  }
  /** The sub-tensor at `index` along `axis`, with that axis removed. */
  select(axis: number, index: number): Tensor {
    return V.select(this, axis, index);
  }

  // ---- linear algebra and indexing ---------------------------------------------------------

  /** Matrix product with PyTorch's rules for vectors and broadcast batch dimensions. */
  matmul(other: Tensor): Tensor {
    return matmul(this, other);
  }
  /** Values along `axis` at int32 `index` (same rank as this tensor). */
  gather(axis: number, index: Tensor): Tensor {
    return J.gather(this, axis, index);
  }
  /** Slices along `axis` at the int32 indices of the 1-D `index`. */
  indexSelect(axis: number, index: Tensor): Tensor {
    return J.indexSelect(this, axis, index);
  }
  /** One-hot float32 rows for int32 class indices (a new last dimension of `numClasses`). */
  oneHot(numClasses: number): Tensor {
    return J.oneHot(this, numClasses);
  }
}
