import assert from "node:assert/strict";
import { type AdamHyper, adamUpdate, adamwUpdate } from "../../../optim/update.ts";
import { adam, type AdamSegment } from "../../../tensor/webgpu/adam.ts";
import { device, maxError, randoms, run, skipped, upload } from "./gpu.ts";

/** Two tensors packed with a gap between them, and a tail after the second. */
const SEGMENTS: AdamSegment[] = [{ offset: 0, count: 300 }, { offset: 310, count: 1000 }];
const LENGTH = 1320;

async function read(dev: GPUDevice, b: GPUBuffer): Promise<Float32Array> {
  return new Float32Array(await run(dev, b, () => () => {}));
}

Deno.test("webgpu adam() matches adamUpdate/adamwUpdate over three steps, every option", async () => {
  if (skipped("webgpu adam")) return;
  const dev = device!;
  for (const decoupled of [false, true]) {
    for (const amsgrad of [false, true]) {
      for (const maximize of [false, true]) {
        for (const weightDecay of [0, 0.01]) {
          const label = `decoupled=${decoupled} amsgrad=${amsgrad} maximize=${maximize} ` +
            `weightDecay=${weightDecay}`;
          const seed = (decoupled ? 8 : 0) + (amsgrad ? 4 : 0) + (maximize ? 2 : 0) +
            (weightDecay ? 1 : 0);
          const p = randoms(LENGTH, 100 + seed);
          // the gap and the tail hold NaN: touching them would show
          p.fill(NaN, 300, 310).fill(NaN, 1310);
          const m = new Float32Array(LENGTH), v = new Float32Array(LENGTH);
          const vMax = new Float32Array(LENGTH);
          const bufs = {
            param: upload(dev, p.slice()),
            grad: upload(dev, new Float32Array(LENGTH)),
            m: upload(dev, m.slice()),
            v: upload(dev, v.slice()),
            vMax: upload(dev, vMax.slice()),
          };
          for (let step = 1; step <= 3; step++) {
            const g = randoms(LENGTH, 1000 * step + seed).map((x) => x * 0.1);
            dev.queue.writeBuffer(bufs.grad, 0, g);
            const hyper: AdamHyper = {
              lr: 0.01,
              beta1: 0.9,
              beta2: 0.99,
              eps: 1e-8,
              weightDecay,
              amsgrad,
              maximize,
              step,
            };
            for (const s of SEGMENTS) {
              (decoupled ? adamwUpdate : adamUpdate)(
                p,
                g,
                { m, v, vMax },
                hyper,
                s.offset,
                s.offset + s.count,
              );
            }
            await run(
              dev,
              bufs.param,
              (e) => adam(dev, e, bufs, { ...hyper, decoupled, segments: SEGMENTS }),
            );
          }
          const got = await read(dev, bufs.param);
          assert(maxError(got.subarray(0, LENGTH), p) < 1e-5, `${label}: parameters`);
          assert(maxError((await read(dev, bufs.m)).subarray(0, LENGTH), m) < 1e-6, label);
          assert(maxError((await read(dev, bufs.v)).subarray(0, LENGTH), v) < 1e-6, label);
          if (amsgrad) {
            assert(maxError((await read(dev, bufs.vMax)).subarray(0, LENGTH), vMax) < 1e-6);
          }
          for (const b of Object.values(bufs)) b.destroy();
        }
      }
    }
  }
});

Deno.test("webgpu adam() checks its buffers, segments and step", () => {
  if (skipped("webgpu adam errors")) return;
  const dev = device!;
  const b = upload(dev, new Float32Array(4));
  const e = dev.createCommandEncoder();
  const hyper = {
    lr: 0.1,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    weightDecay: 0,
    amsgrad: false,
    maximize: false,
    step: 1,
    decoupled: false,
    segments: [{ offset: 0, count: 4 }],
  };
  const bufs = { param: b, grad: b, m: b, v: b };
  assert.throws(() => adam(dev, e, bufs, { ...hyper, amsgrad: true }), {
    name: "TypeError",
    message: "adam: amsgrad needs buffers.vMax, a buffer like buffers.v",
  });
  assert.throws(() => adam(dev, e, bufs, { ...hyper, segments: [{ offset: 2, count: 4 }] }), {
    name: "RangeError",
    message: "adam: segments[0] ends at byte 24, past the 16 bytes of param",
  });
  assert.throws(() => adam(dev, e, bufs, { ...hyper, decoupled: true, step: 0 }), {
    name: "RangeError",
    message: "adamw: step counts from 1, got 0",
  });
});
