/**
 * Per-call buffers of the heavy kernels (matmul, reduce, softmax, adam): the uniforms that
 * carry sizes and strides, and intermediate storage such as a reduction's partial results.
 *
 * A kernel function encodes its passes into the caller's encoder and returns a `Release`.
 * The caller must call it after submitting that encoder (before, the submit would fail
 * validation on destroyed buffers); WebGPU keeps a destroyed buffer alive until the
 * submitted work that uses it has finished, so no wait is needed. A ring of reused
 * uniform slots written with `queue.writeBuffer` would not do: every write lands before
 * the encoder runs, so two calls in one encoder would both see the last write.
 *
 * @module
 */

import { layoutOf } from "./pipelines.ts";

/** Destroys the buffers a kernel call created; call it once the encoder is submitted. */
export type Release = () => void;

/** The buffers one kernel call creates, destroyed together by `release`. */
export class Scratch {
  #buffers: GPUBuffer[] = [];

  constructor(readonly device: GPUDevice, readonly kernel: string) {}

  /** A uniform buffer holding `words` (32-bit, written as is: use `f32` for floats). */
  uniform(words: readonly number[], floats: readonly number[] = []): GPUBuffer {
    const size = Math.max(16, Math.ceil((words.length + floats.length) * 4 / 16) * 16);
    const buffer = this.device.createBuffer({
      label: `${this.kernel} uniforms`,
      size,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    });
    const range = buffer.getMappedRange();
    new Uint32Array(range, 0, words.length).set(words);
    new Float32Array(range, words.length * 4, floats.length).set(floats);
    buffer.unmap();
    this.#buffers.push(buffer);
    return buffer;
  }

  /** A storage buffer of at least `bytes` bytes for intermediate results. */
  storage(bytes: number): GPUBuffer {
    const buffer = this.device.createBuffer({
      label: `${this.kernel} scratch`,
      size: Math.max(16, Math.ceil(bytes / 16) * 16),
      usage: GPUBufferUsage.STORAGE,
    });
    this.#buffers.push(buffer);
    return buffer;
  }

  /** A read-only storage buffer holding `words` (a table the kernel looks up). */
  table(words: readonly number[]): GPUBuffer {
    const buffer = this.device.createBuffer({
      label: `${this.kernel} table`,
      size: Math.max(16, Math.ceil(words.length / 4) * 16),
      usage: GPUBufferUsage.STORAGE,
      mappedAtCreation: true,
    });
    new Uint32Array(buffer.getMappedRange(), 0, words.length).set(words);
    buffer.unmap();
    this.#buffers.push(buffer);
    return buffer;
  }

  /** Encodes one compute pass of `pipe` with `buffers` at bindings 0, 1, …. */
  pass(
    encoder: GPUCommandEncoder,
    pipe: GPUComputePipeline,
    buffers: readonly GPUBuffer[],
    groups: readonly [number, number, number],
  ): void {
    const layout = layoutOf(pipe);
    const entries = buffers.map((buffer, binding) => ({ binding, resource: { buffer } }));
    const group = this.device.createBindGroup({ label: this.kernel, layout, entries });
    const pass = encoder.beginComputePass({ label: this.kernel });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2]);
    pass.end();
  }

  /** The function that destroys every buffer made so far. */
  release(): Release {
    const buffers = this.#buffers;
    this.#buffers = [];
    return () => {
      for (const b of buffers) b.destroy();
    };
  }
}

/** Workgroup counts for `n` workgroups, folded into x and y (each at most 65535). */
export function foldGroups(n: number): [number, number, number] {
  if (n <= 65535) return [n, 1, 1];
  return [65535, Math.ceil(n / 65535), 1];
}

/**
 * Throws a RangeError when a buffer is larger than one binding may be on `device`, or an
 * element count needs more than 32-bit indices.
 */
export function checkBindable(
  device: GPUDevice,
  kernel: string,
  buffers: Readonly<Record<string, GPUBuffer>>,
): void {
  const limit = device.limits.maxStorageBufferBindingSize;
  for (const [name, b] of Object.entries(buffers)) {
    if (b.size > limit) {
      throw new RangeError(
        `${kernel}: buffer ${name} holds ${b.size} bytes, over this device's binding limit ` +
          `of ${limit} bytes (maxStorageBufferBindingSize); split the tensor`,
      );
    }
  }
}

/**
 * Throws a RangeError when `buffer` (of 32-bit elements) is too small for the `count`
 * elements up to index `last` that `kernel` would touch: out-of-range reads would
 * otherwise be clamped silently.
 */
export function checkExtent(
  kernel: string,
  name: string,
  buffer: GPUBuffer,
  last: number,
  count = 1,
): void {
  if (count > 0 && (last + 1) * 4 > buffer.size) {
    throw new RangeError(
      `${kernel}: ${name} needs element ${last}, but its buffer holds ${buffer.size / 4}`,
    );
  }
}

/** Throws a RangeError unless `value` is an integer in [0, 2^32). */
export function checkU32(kernel: string, name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${kernel}: ${name} must be an integer in [0, 2^32), got ${value}`);
  }
}
