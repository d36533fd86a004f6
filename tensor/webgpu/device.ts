/**
 * The one WebGPU adapter and device of this process. Deno cannot reuse an adapter after
 * `requestDevice`, so both are acquired once, lazily, by `initGpu()`; GPU setup is async,
 * while everything after it (recording dispatches) is synchronous.
 * @module
 */

let device: GPUDevice | null = null;
/**
 * Held for the life of the process: Deno frees an adapter whose object is collected, and
 * its device then fails inside the runtime (a panic, not an error).
 */
let adapter: GPUAdapter | null = null;
let starting: Promise<GPUDevice | null> | null = null;
/** Errors no error scope caught, waiting to be raised by the next flush or read. */
const uncaptured: string[] = [];

async function start(): Promise<GPUDevice | null> {
  // structural: a worker's type library names its navigator WorkerNavigator
  const gpu = (globalThis.navigator as { gpu?: GPU } | undefined)?.gpu;
  if (gpu === undefined) return null;
  adapter = await gpu.requestAdapter();
  if (adapter === null) return null;
  // the default limits cap a binding at 128 MiB; ask for what the adapter offers
  const dev = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      // matmul's larger tiles stage more than the default 16 KiB in workgroup memory
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxStorageBuffersPerShaderStage: Math.min(adapter.limits.maxStorageBuffersPerShaderStage, 10),
    },
  });
  // A lost device shows through here and through the failing reads. `dev.lost` is not
  // awaited: in Deno 2.9.6 its pending promise crashed about one process in ten at exit
  // (heap corruption while the runtime tore the device down).
  dev.addEventListener("uncapturederror", (event) => {
    uncaptured.push((event as GPUUncapturedErrorEvent).error.message);
  });
  return dev;
}

/**
 * Acquires the GPU once per process; call it (and await it) before moving tensors to the
 * GPU. Resolves to false when the runtime offers no WebGPU adapter, so code can fall back
 * to the CPU.
 *
 * @returns Whether a GPU device is ready.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { initGpu } from "@adamant/core";
 * const ready = await initGpu();
 * assert(typeof ready === "boolean");
 * ```
 */
export async function initGpu(): Promise<boolean> {
  if (device !== null) return true;
  starting ??= start();
  device = await starting;
  return device !== null;
}

/**
 * Whether a GPU can be used: acquires it on the first call, as `initGpu` does.
 *
 * @returns True when a WebGPU adapter and device exist.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuAvailable, tensor } from "@adamant/core";
 * const device = (await gpuAvailable()) ? "gpu" : "cpu";
 * assert.equal(tensor([1, 2], { device }).device, device);
 * ```
 */
export function gpuAvailable(): Promise<boolean> {
  return initGpu();
}

/** The GPU device, or an error saying what to do when there is none (named for `op`). */
export function gpuDevice(op: string): GPUDevice {
  if (device !== null) return device;
  throw new Error(
    `${op}: no GPU device; await initGpu() first (it resolves to false when the runtime ` +
      'has no WebGPU adapter: then keep the tensors on "cpu")',
  );
}

/** The GPU device when one is ready, else null. */
export function currentDevice(): GPUDevice | null {
  return device;
}

/** Removes and returns the errors that reached no error scope. */
export function takeUncapturedErrors(): string[] {
  return uncaptured.splice(0);
}
