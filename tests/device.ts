/**
 * One test body per device: `forEachDevice` registers a test on the CPU and, when
 * `navigator.gpu` gives an adapter, the same body on the GPU (printing a skip line when
 * it gives none). GPU tests read results with `await t.read()` (see `values`).
 */
import { type Device, gpuSynchronize, initGpu, type Tensor } from "../mod.ts";

/** Whether this process has a GPU device. */
export const hasGpu: boolean = await initGpu();

/** The devices the tests run on here. */
export const DEVICES: readonly Device[] = hasGpu ? ["cpu", "gpu"] : ["cpu"];

/** Registers `fn` as a test named `name [device]` for each device. */
export function forEachDevice(
  name: string,
  fn: (device: Device) => void | Promise<void>,
): void {
  Deno.test(`${name} [cpu]`, () => fn("cpu"));
  if (hasGpu) {
    // the device's lost promise and error scopes outlive single tests by design
    Deno.test({
      name: `${name} [gpu]`,
      fn: synced(() => fn("gpu")),
      sanitizeOps: false,
      sanitizeResources: false,
    });
  } else console.log(`skip ${name} [gpu]: navigator.gpu has no adapter`);
}

/** The elements of `t` on any device, as a plain array. */
export async function values(t: Tensor): Promise<number[]> {
  return Array.from(await t.read());
}

/**
 * A GPU test body that ends with the queue idle, so no work is in flight when the test
 * (and, after the last test, the process) ends.
 */
export function synced<A extends unknown[]>(
  fn: (...args: A) => void | Promise<void>,
): (...args: A) => Promise<void> {
  return async (...args: A) => {
    await fn(...args);
    await gpuSynchronize();
  };
}
