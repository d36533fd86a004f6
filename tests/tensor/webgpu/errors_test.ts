/**
 * A failing GPU kernel is raised by the next read, naming the kernel, and every later read
 * fails too (WebGPU drops the whole batch, so its results are never passed off as data).
 * In a file of its own: after a failure the process's GPU results stay invalid.
 */
import assert from "node:assert/strict";
import { keep, ones } from "../../../mod.ts";
import { hasGpu } from "../../device.ts";
import { dispatch } from "../../../tensor/webgpu/commands.ts";
import { gpuDevice } from "../../../tensor/webgpu/device.ts";
import { pipeline } from "../../../tensor/webgpu/pipelines.ts";

if (!hasGpu) console.log("skip GPU error test: navigator.gpu has no adapter");

Deno.test({
  ignore: !hasGpu,
  sanitizeOps: false,
  sanitizeResources: false,
  name: "a failing kernel is raised by the next read, naming the kernel, and stays raised",
  fn: async () => {
    const t = keep(ones([4], { device: "gpu" }));
    assert.deepEqual(Array.from(await t.read()), [1, 1, 1, 1]);
    const pipe = pipeline(
      gpuDevice("test"),
      "test|broken",
      () =>
        `@group(0) @binding(0) var<storage, read> M: array<u32>;
         @group(0) @binding(1) var<storage, read_write> O: array<f32>;
         @compute @workgroup_size(1) fn main() { O[0] = f32(M[0]); }`,
    );
    // bound without its output buffer: a validation error
    dispatch("brokenKernel", pipe, new Uint32Array([1]), [], [1]);
    const y = t.mul(2);
    await assert.rejects(() => y.read(), {
      name: "Error",
      message: /^GPU kernel failed: brokenKernel: /,
    });
    await assert.rejects(() => t.read(), {
      name: "Error",
      message: /^GPU kernel failed: brokenKernel: .*; GPU results since are invalid/,
    });
    // leave no work in flight (gpuSynchronize would raise the failure again)
    await gpuDevice("test").queue.onSubmittedWorkDone();
  },
});
