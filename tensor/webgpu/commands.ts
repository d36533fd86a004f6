/**
 * Recording GPU work. Dispatches go into one command encoder that is submitted in
 * batches: when a read needs the results, before a host write (which the queue would
 * otherwise run ahead of recorded work), or every `MAX_BATCH` dispatches. Each kernel's
 * validation errors are caught in an error scope and raised, with the kernel's name, by
 * the next read: a failed kernel never passes for zeros.
 *
 * Small per-dispatch parameters (sizes, strides, scalars) are written into one
 * mapped-at-creation buffer per batch, each at its own 256-byte-aligned slice.
 * @module
 */

import { currentDevice, gpuDevice, takeUncapturedErrors } from "./device.ts";
import { layoutOf } from "./pipelines.ts";
import { foldGroups } from "./scratch.ts";

/** Dispatches per submitted batch. */
const MAX_BATCH = 256;
/** Bytes of the parameter buffer of one batch. */
const PARAM_BYTES = MAX_BATCH * 256;

let encoder: GPUCommandEncoder | null = null;
let params: GPUBuffer | null = null;
let paramWords: Uint32Array | null = null;
let paramUsed = 0;
let recorded = 0;
/** Names of the kernels in this batch, for errors that surface only when it is submitted. */
let batchKernels = new Set<string>();
/** Releases of kernels' scratch buffers, due once their batch is submitted. */
let releases: (() => void)[] = [];
/** Error scopes popped but not yet checked: each resolves to a message or null. */
let scopes: Promise<string | null>[] = [];

/** The encoder that collects this batch's work. */
function currentEncoder(device: GPUDevice): GPUCommandEncoder {
  return encoder ??= device.createCommandEncoder({ label: "adamant batch" });
}

function withScope(device: GPUDevice, kernel: string, encode: () => void): void {
  batchKernels.add(kernel);
  device.pushErrorScope("validation");
  try {
    encode();
  } finally {
    scopes.push(
      device.popErrorScope().then((e) => (e === null ? null : `${kernel}: ${e.message}`)),
    );
  }
  if (++recorded >= MAX_BATCH) flush();
}

/**
 * Records `encode` (a kernel module's function that encodes passes into the given
 * encoder) as the kernel named `kernel`, with its errors caught and named. What it
 * returns (a release of its scratch buffers) runs once the batch is submitted.
 */
export function encodeKernel(
  kernel: string,
  encode: (device: GPUDevice, encoder: GPUCommandEncoder) => (() => void) | void,
): void {
  const device = gpuDevice(kernel);
  withScope(device, kernel, () => {
    const release = encode(device, currentEncoder(device));
    if (release) releases.push(release);
  });
}

/**
 * Runs `fn` once everything recorded so far is submitted (at once when nothing is): for
 * destroying a buffer that recorded work may still use, which would make the batch invalid.
 */
export function afterSubmit(fn: () => void): void {
  if (encoder === null && params === null) fn();
  else releases.push(fn);
}

/** A binding: a whole buffer or its first `size` bytes. */
export type Binding = GPUBuffer | { buffer: GPUBuffer; size: number };

/**
 * Records one compute dispatch of `pipe` with `bindings` at bindings 1, 2, … and the
 * 32-bit words of `meta` (a read-only storage array) at binding 0.
 */
export function dispatch(
  kernel: string,
  pipe: GPUComputePipeline,
  meta: Uint32Array,
  bindings: readonly Binding[],
  workgroups: readonly [number, number?, number?],
): void {
  const device = gpuDevice(kernel);
  withScope(device, kernel, () => {
    const bytes = Math.max(meta.byteLength, 4);
    if (params === null || paramUsed + bytes > PARAM_BYTES) {
      if (params !== null) flush();
      params = device.createBuffer({
        label: "adamant params",
        size: PARAM_BYTES,
        usage: GPUBufferUsage.STORAGE,
        mappedAtCreation: true,
      });
      paramWords = new Uint32Array(params.getMappedRange());
      paramUsed = 0;
    }
    const at = paramUsed;
    paramWords!.set(meta, at / 4);
    paramUsed += Math.ceil(bytes / 256) * 256;
    const entries: GPUBindGroupEntry[] = [
      { binding: 0, resource: { buffer: params, offset: at, size: bytes } },
      ...bindings.map((b, i) => ({
        binding: i + 1,
        resource: b instanceof GPUBuffer
          ? { buffer: b }
          : { buffer: b.buffer, size: Math.max(4, Math.ceil(b.size / 4) * 4) },
      })),
    ];
    const group = device.createBindGroup({ layout: layoutOf(pipe), entries });
    const pass = currentEncoder(device).beginComputePass({ label: kernel });
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(workgroups[0], workgroups[1] ?? 1, workgroups[2] ?? 1);
    pass.end();
  });
}

/** Workgroup counts covering `n` invocations of `size` each, folded into two dimensions. */
export function groupsFor(n: number, size = 256): [number, number, number] {
  return foldGroups(Math.ceil(n / size));
}

/** Submits everything recorded so far. */
export function flush(): void {
  if (encoder === null && params === null) return;
  const device = gpuDevice("flush");
  if (params !== null) {
    params.unmap();
    paramWords = null;
  }
  // encoding errors (a bad copy, say) surface here: name the batch's kernels
  const kernels = [...batchKernels].join(", ");
  device.pushErrorScope("validation");
  const commands = (encoder ?? device.createCommandEncoder()).finish();
  device.queue.submit([commands]);
  scopes.push(
    device.popErrorScope().then((e) => (e === null ? null : `${kernels}: ${e.message}`)),
  );
  batchKernels = new Set();
  for (const release of releases) release();
  releases = [];
  // destroy waits for the submitted work that uses it
  params?.destroy();
  params = null;
  encoder = null;
  recorded = 0;
}

/**
 * The first kernel failure of this process. WebGPU drops a whole batch with an invalid
 * command, so every GPU result from then on is suspect: each later read fails too.
 */
let failure: string | null = null;

/** Raises the first error of any kernel recorded so far, or one nothing caught. */
async function checkErrors(): Promise<void> {
  const pending = scopes;
  scopes = [];
  const messages = (await Promise.all(pending)).filter((m) => m !== null);
  messages.push(...takeUncapturedErrors());
  if (failure === null && messages.length > 0) {
    failure = `GPU kernel failed: ${messages[0]}` +
      (messages.length > 1 ? ` (and ${messages.length - 1} more)` : "");
    throw new Error(failure);
  }
  if (failure !== null) {
    throw new Error(`${failure}; GPU results since are invalid (restart the process)`);
  }
}

/** Writes `data` into `buffer` at byte `offset`, after all work recorded before it. */
export function upload(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
  flush();
  const bytes = Math.ceil(data.byteLength / 4) * 4;
  if (bytes === 0) return;
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  // shared memory and odd lengths go through a padded private copy
  let src: Uint8Array<ArrayBuffer>;
  if (bytes === data.byteLength && raw.buffer instanceof ArrayBuffer) {
    src = raw as Uint8Array<ArrayBuffer>;
  } else {
    src = new Uint8Array(bytes);
    src.set(raw);
  }
  gpuDevice("upload").queue.writeBuffer(buffer, offset, src, 0, bytes);
}

/** Copies `bytes` bytes from `buffer` at `offset` back to the host, after all recorded work. */
export async function download(
  buffer: GPUBuffer,
  offset: number,
  bytes: number,
): Promise<ArrayBuffer> {
  const device = gpuDevice("read");
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  const staging = device.createBuffer({
    size,
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  try {
    if (bytes > 0) currentEncoder(device).copyBufferToBuffer(buffer, offset, staging, 0, size);
    flush();
    await checkErrors();
    await staging.mapAsync(GPUMapMode.READ);
    await checkErrors();
    return staging.getMappedRange().slice(0, bytes);
  } finally {
    staging.destroy();
  }
}

/**
 * Waits until the GPU has finished everything recorded so far, raising any kernel's error
 * (PyTorch's `torch.cuda.synchronize()`). Reads wait by themselves; this is for timing
 * and for leaving the process or a test with no work in flight.
 *
 * @returns A promise that settles once the queue is idle (at once without a GPU device).
 * @example
 * ```ts
 * import { gpuSynchronize } from "@adamant/core";
 * await gpuSynchronize();
 * ```
 */
export async function gpuSynchronize(): Promise<void> {
  const device = currentDevice();
  if (device === null) return;
  flush();
  await device.queue.onSubmittedWorkDone();
  await checkErrors();
}
