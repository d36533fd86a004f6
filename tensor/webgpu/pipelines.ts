/**
 * Compute pipelines compiled once per device and kernel key.
 *
 * The key names the kernel and everything its WGSL text depends on (dtype, rank, broadcast
 * pattern, tile sizes); sizes that change from call to call travel in uniforms instead, so a
 * training loop compiles each kernel once.
 *
 * @module
 */

const caches = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

/**
 * Returns the pipeline for `key` on `device`, compiling `source()` the first time.
 *
 * @param device the device the pipeline runs on
 * @param key the kernel and every parameter baked into its WGSL text
 * @param source builds the WGSL text; called only on a cache miss
 * @param entryPoint the compute entry point in the WGSL text
 */
export function pipeline(
  device: GPUDevice,
  key: string,
  source: () => string,
  entryPoint = "main",
): GPUComputePipeline {
  let cache = caches.get(device);
  if (cache === undefined) caches.set(device, cache = new Map());
  let found = cache.get(key);
  if (found === undefined) {
    const module = device.createShaderModule({ label: key, code: source() });
    found = device.createComputePipeline({
      label: key,
      layout: "auto",
      compute: { module, entryPoint },
    });
    cache.set(key, found);
  }
  return found;
}

const layouts = new WeakMap<GPUComputePipeline, GPUBindGroupLayout>();

/**
 * Bind group 0's layout of `pipe`, asked of the pipeline once: every dispatch builds a bind
 * group against it, and each `getBindGroupLayout` call crosses into the runtime.
 *
 * @param pipe a pipeline from `pipeline`
 */
export function layoutOf(pipe: GPUComputePipeline): GPUBindGroupLayout {
  let layout = layouts.get(pipe);
  if (layout === undefined) layouts.set(pipe, layout = pipe.getBindGroupLayout(0));
  return layout;
}
