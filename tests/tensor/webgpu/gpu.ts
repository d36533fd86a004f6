/**
 * Shared set-up of the WebGPU kernel tests: the library's one device, buffers filled from
 * typed arrays, poisoned outputs, and a run that submits, releases and reads back.
 * @module
 */

import { currentDevice, initGpu } from "../../../tensor/webgpu/device.ts";
import type { Release } from "../../../tensor/webgpu/scratch.ts";

// One device per process, as in the library: a second one made Deno's teardown abort at exit
// ("double free or corruption") in about one test process in three.
await initGpu();

/** The device, or null (after printing why the caller skips) when there is no adapter. */
export const device: GPUDevice | null = currentDevice();

/** Prints the skip line of a test that needs a GPU when there is none. */
export function skipped(name: string): boolean {
  if (device !== null) return false;
  console.log(`skip ${name}: navigator.gpu has no adapter`);
  return true;
}

const USAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A storage buffer holding `data`. */
export function upload(
  dev: GPUDevice,
  data: Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>,
): GPUBuffer {
  const buffer = dev.createBuffer({ size: Math.max(16, data.byteLength), usage: USAGE });
  dev.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/** A storage buffer of `n` 32-bit words, each set to NaN's bit pattern so unwritten ones show. */
export function poisoned(dev: GPUDevice, n: number): GPUBuffer {
  return upload(dev, new Float32Array(Math.max(n, 4)).fill(NaN));
}

/** Encodes `work`, submits, releases its scratch and reads `out` back as 32-bit words. */
export async function run(
  dev: GPUDevice,
  out: GPUBuffer,
  work: (encoder: GPUCommandEncoder) => Release,
): Promise<ArrayBuffer> {
  const staging = dev.createBuffer({
    size: out.size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  dev.pushErrorScope("validation");
  const encoder = dev.createCommandEncoder();
  const release = work(encoder);
  encoder.copyBufferToBuffer(out, 0, staging, 0, out.size);
  dev.queue.submit([encoder.finish()]);
  release();
  const error = await dev.popErrorScope();
  if (error !== null) throw new Error(error.message);
  await staging.mapAsync(GPUMapMode.READ);
  const bytes = staging.getMappedRange().slice(0);
  staging.destroy();
  return bytes;
}

/** Seeded uniform numbers in [-1, 1) (a small LCG, so failures reproduce). */
export function randoms(n: number, seed: number): Float32Array<ArrayBuffer> {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** Largest |got - want| / (1 + |want|), NaN counting as infinitely far unless both are NaN. */
export function maxError(got: ArrayLike<number>, want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(got[i]) && Number.isNaN(want[i])) continue;
    const e = Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i]));
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
}
