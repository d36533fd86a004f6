/**
 * Timing of GPU work for the bench scripts: seconds per encoded piece of work, from submit
 * to `onSubmittedWorkDone`, with many pieces per submit so that Deno's ~11 ms completion
 * polling is spread thin.
 * @module
 */
import type { Release } from "../tensor/webgpu/scratch.ts";

/**
 * Median seconds per `encode` call: `inner` calls per submit, over `runs` submits, after
 * one submit of a single call that compiles the pipeline and must pass validation.
 */
export async function timeSubmits(
  device: GPUDevice,
  encode: (e: GPUCommandEncoder) => Release,
  inner: number,
  runs: number,
): Promise<number> {
  const once = async (count: number) => {
    const e = device.createCommandEncoder();
    const releases: Release[] = [];
    for (let i = 0; i < count; i++) releases.push(encode(e));
    const t0 = performance.now();
    device.queue.submit([e.finish()]);
    await device.queue.onSubmittedWorkDone();
    const dt = performance.now() - t0;
    for (const r of releases) r();
    return dt / 1000 / count;
  };
  device.pushErrorScope("validation");
  await once(1);
  const error = await device.popErrorScope();
  if (error) throw new Error(error.message);
  const times: number[] = [];
  for (let r = 0; r < runs; r++) times.push(await once(inner));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}
