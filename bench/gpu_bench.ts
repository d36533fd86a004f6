/**
 * The GPU against the CPU in the same groups: elementwise `c = a*b + a`, and one Adam
 * training steps of the MLP and of the small CNN that `deno task train` uses. Each GPU
 * iteration ends with a one-element read, so the time covers the work, not just its
 * recording; a read costs about 11 ms in Deno 2.9.6 whatever the work (it polls the device),
 * so each iteration runs `STEPS` training steps and one read, as training does between logs.
 * Without a WebGPU adapter only the CPU rows run.
 * Run: deno bench --allow-read bench/gpu_bench.ts (on llvmpipe judge correctness, not speed).
 */
import {
  Adam,
  crossEntropy,
  type Device,
  initGpu,
  rand,
  randint,
  type Tensor,
  tidy,
} from "../mod.ts";
import { buildModel } from "../examples/lib/models.ts";

const gpu = await initGpu();
const devices: Device[] = gpu ? ["cpu", "gpu"] : ["cpu"];
if (!gpu) console.log("gpu_bench: navigator.gpu has no adapter; CPU rows only");

/** Waits for `t` (one element is read back: the queue runs everything before it). */
async function sync(t: Tensor): Promise<void> {
  await t.reshape([-1]).narrow(0, 0, 1).read();
}

const n = 1 << 22;
for (const device of devices) {
  const a = rand([n], { device }), b = rand([n], { device });
  Deno.bench({
    name: `${device} a.mul(b).add(a) 4M`,
    group: "elementwise c=a*b+a 4M float32 (48 MiB moved)",
    baseline: device === "cpu",
    fn: async () => {
      const c = tidy(() => a.mul(b).add(a));
      if (device === "cpu") c.realize();
      else await sync(c);
      c.dispose();
    },
  });
}

/** Training steps per timed iteration (one read at the end). */
const STEPS = 10;

for (
  const [name, kind, batch, runs] of [["MLP", "mlp", 128, undefined], [
    "CNN",
    "cnn",
    64,
    3,
  ]] as const
) {
  for (const device of devices) {
    const model = buildModel(kind, [1, 28, 28], 10).to(device);
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const x = rand([batch, 1, 28, 28], { device });
    const y = randint(0, 10, [batch], { device });
    Deno.bench({
      name: `${device} ${name} ${STEPS} steps`,
      group: `${name} Adam training, ${STEPS} steps on 1x28x28, batch ${batch}`,
      baseline: device === "cpu",
      ...(runs === undefined ? {} : { n: runs, warmup: 1 }),
      fn: async () => {
        for (let step = 1; step <= STEPS; step++) {
          const loss = tidy(() => {
            opt.zeroGrad();
            const l = crossEntropy(model.forward(x), y);
            l.backward();
            opt.step();
            return l;
          });
          if (step === STEPS) await sync(loss);
          loss.dispose();
        }
      },
    });
  }
}
