/**
 * Devices: moving tensors, the errors of mixing devices and of reading a GPU tensor
 * synchronously, GPU memory accounting and release, batched error reporting, and the
 * edge cases of the GPU kernels (empty tensors, sizes off the workgroup size, strided
 * inputs, tensors beyond the device's buffer limit).
 */
import assert from "node:assert/strict";
import {
  Adam,
  AdamW,
  crossEntropy,
  type Device,
  full,
  Linear,
  memory,
  ones,
  tensor,
  tidy,
  zeros,
} from "../../mod.ts";
import { DEVICES, forEachDevice, hasGpu, synced, values } from "../device.ts";
import { gpuDevice } from "../../tensor/webgpu/device.ts";
import { maxTensorBytes, sizeClass } from "../../tensor/webgpu/buffer_pool.ts";

if (!hasGpu) console.log("skip GPU-only device tests: navigator.gpu has no adapter");

const gpuOnly = { ignore: !hasGpu, sanitizeOps: false, sanitizeResources: false };

forEachDevice("read() resolves on every device; creation honours the device", async (device) => {
  const t = tensor([[1, 2], [3, 4]], { device });
  assert.equal(t.device, device);
  assert.deepEqual(await values(t.T), [1, 3, 2, 4]);
  assert.equal(zeros([3], { device, dtype: "int32" }).device, device);
  assert.deepEqual(await values(full([2], 7, { device })), [7, 7]);
  assert.equal(ones([2], { device }).zerosLike().device, device);
});

forEachDevice("elementwise ops broadcast strided inputs off the workgroup size", async (device) => {
  // 3 x 700 = 2100 elements: not a multiple of 256; the left operand is a transposed view
  const n = 700, base = Array.from({ length: 3 * n }, (_, i) => (i % 13) - 6);
  const a = tensor(base, { shape: [n, 3], device }).T;
  const b = tensor([0.5, -1, 2], { shape: [3, 1], device });
  const got = await values(a.mul(b).add(1).relu());
  const cpu = tensor(base, { shape: [n, 3] }).T.mul(tensor([0.5, -1, 2], { shape: [3, 1] }))
    .add(1).relu().toArray();
  assert.deepEqual(got, Array.from(cpu));
});

forEachDevice("empty tensors flow through elementwise, reduce and matmul", async (device) => {
  const e = zeros([0, 3], { device });
  assert.deepEqual(await values(e.add(1).exp()), []);
  assert.deepEqual(await values(e.sum(0)), [0, 0, 0]);
  assert.deepEqual(e.matmul(zeros([3, 2], { device })).shape, [0, 2]);
  assert.deepEqual(await values(zeros([2, 0], { device }).matmul(zeros([0, 2], { device }))), [
    0,
    0,
    0,
    0,
  ]);
});

Deno.test({
  ...gpuOnly,
  name: "an op on tensors of two devices names the op and both devices",
  fn: () => {
    const cpu = ones([2]), gpu = ones([2], { device: "gpu" });
    assert.throws(() => gpu.add(cpu), {
      name: "TypeError",
      message: /^add: tensors on different devices, gpu \[2\] and cpu \[2\]/,
    });
    assert.throws(() => cpu.reshape([1, 2]).matmul(gpu.reshape([2, 1])), {
      name: "TypeError",
      message: /^matmul: tensors on different devices, cpu \[1, 2\] and gpu \[2, 1\]/,
    });
    assert.throws(() => gpu.gt(0).where(cpu, 1), /^TypeError: where: tensors on different/);
  },
});

Deno.test({
  ...gpuOnly,
  name: "a sync read of a GPU tensor throws and says to await read()",
  fn: () => {
    const t = ones([2], { device: "gpu" });
    for (const read of [() => t.item(), () => t.toArray(), () => t.toNested()]) {
      assert.throws(read, { name: "TypeError", message: /on the gpu.*await t\.read\(\)/ });
    }
    assert.throws(() => t.sum().item(), /^TypeError: item: the tensor \[\] is on the gpu/);
    assert.throws(() => t.to("cpu"), /^TypeError: to: .*await t\.cpu\(\)/);
  },
});

Deno.test({
  ...gpuOnly,
  name: "to() moves between devices and still converts dtypes; float64 stays on the CPU",
  fn: synced(async () => {
    const x = tensor([1.5, -2.5], { requiresGrad: true });
    const g = x.to("gpu");
    assert.equal(g.device, "gpu");
    assert.ok(g.requiresGrad && g.isLeaf);
    assert.deepEqual(await values(g.to("int32")), [1, -2]);
    const back = await g.cpu();
    assert.deepEqual(Array.from(back.toArray()), [1.5, -2.5]);
    assert.equal(g.to("gpu"), g);
    assert.throws(() => x.double().to("gpu"), {
      name: "TypeError",
      message: /^to: float64 is CPU-only; GPU tensors are float32 or int32/,
    });
    assert.throws(
      () => tensor([1], { dtype: "float64", device: "gpu" }),
      /^TypeError: tensor: float64 is CPU-only/,
    );
    assert.throws(() => g.to("float64"), /^TypeError: to: float64 is CPU-only/);
    assert.throws(() => zeros([2], { device: "tpu" as Device }), {
      name: "TypeError",
      message: 'full: option device must be "cpu" or "gpu", got tpu',
    });
  }),
});

Deno.test({
  ...gpuOnly,
  name: "Module.to moves parameters in place and Module.cpu brings them back",
  fn: synced(async () => {
    const layer = new Linear(3, 2);
    const weight = layer.weight, before = Array.from(weight.toArray());
    layer.to("gpu");
    assert.equal(layer.weight, weight);
    assert.equal(weight.device, "gpu");
    assert.ok(weight.requiresGrad);
    const y = layer.forward(ones([4, 3], { device: "gpu" }));
    assert.equal(y.device, "gpu");
    await layer.cpu();
    assert.equal(weight.device, "cpu");
    assert.deepEqual(Array.from(weight.toArray()), before);
    // a CPU state dict loads into a GPU module
    const other = new Linear(3, 2).to("gpu");
    other.loadStateDict(layer.stateDict());
    assert.deepEqual(await values(other.weight), before);
  }),
});

Deno.test({
  ...gpuOnly,
  name: "GPU buffers go back through dispose, using, tidy and async tidy",
  fn: synced(async () => {
    // buffers the collector reclaims from earlier tests meanwhile must not count
    const live = () => memory().gpu.liveBuffers + memory().gpu.collectedBuffers;
    const start = live();
    const t = zeros([1000], { device: "gpu" });
    assert.equal(live(), start + 1);
    assert.ok(memory().gpu.liveBytes >= 4000);
    t.dispose();
    assert.equal(live(), start);
    {
      using u = ones([10], { device: "gpu" });
      assert.equal(u.device, "gpu");
      assert.equal(live(), start + 1);
    }
    assert.equal(live(), start);
    const kept = tidy(() => ones([4], { device: "gpu" }).mul(2).add(1));
    assert.equal(live(), start + 1);
    const sum = await tidy(async () => {
      const s = kept.mul(kept).sum();
      return (await s.read())[0];
    });
    assert.equal(sum, 36);
    assert.equal(live(), start + 1);
    kept.dispose();
    assert.equal(live(), start);
  }),
});

Deno.test({
  ...gpuOnly,
  name: "a buffer released past the pool's cap outlives the recorded work that reads it",
  fn: synced(async () => {
    // fill the pool to its 1 GiB cap (all held at once, then released), so the next release
    // destroys its buffer
    const big = Array.from({ length: 8 }, () => zeros([1 << 25], { device: "gpu" }));
    for (const t of big) t.dispose();
    const a = ones([1024], { device: "gpu" });
    const b = a.add(1); // recorded, not yet submitted
    a.dispose();
    assert.deepEqual([...await b.read()].slice(0, 3), [2, 2, 2]);
  }),
});

Deno.test({
  ...gpuOnly,
  name: "a GPU tensor beyond the device's buffer limit is rejected, naming the limit",
  fn: () => {
    const limit = maxTensorBytes(gpuDevice("test"));
    const elements = Math.floor(limit / 4) + 1;
    assert.throws(() => zeros([elements], { device: "gpu" }), {
      name: "RangeError",
      message: new RegExp(
        `^full: a GPU tensor of ${elements * 4} bytes exceeds this device's limit of ${limit} ` +
          "bytes per buffer",
      ),
    });
    assert.equal(memory().gpu.liveBuffers >= 0, true);
  },
});

Deno.test({
  ...gpuOnly,
  name: "more than 65535 workgroups fold into a second dispatch dimension",
  fn: synced(async () => {
    const n = 65536 * 256 + 300; // one workgroup past the first dimension's limit
    const got = await tidy(() => full([n], 2, { device: "gpu" }).mul(3)).read();
    assert.equal(got.length, n);
    assert.equal(got[0], 6);
    assert.equal(got[n - 1], 6);
    assert.equal(got[65535 * 256 + 7], 6);
  }),
});

Deno.test("tests here cover the devices this machine has", () => {
  assert.deepEqual(DEVICES, hasGpu ? ["cpu", "gpu"] : ["cpu"]);
});

Deno.test({
  ...gpuOnly,
  name: "Adam takes a parameter's moments along when it moves to the GPU after CPU steps",
  fn: synced(async () => {
    const run = (moveAfter: number) => {
      const w = tensor([0.5, -1.5, 2], { requiresGrad: true });
      const opt = new Adam([w], { lr: 0.1 });
      for (let i = 0; i < 4; i++) {
        if (i === moveAfter) {
          const moved = w.to("gpu");
          w.adoptStorage(moved);
          moved.dispose();
          w.grad = null;
        }
        tidy(() => {
          opt.zeroGrad();
          w.mul(w).mul(tensor([1, 2, 3], { device: w.device })).sum().backward();
          opt.step();
        });
      }
      return { w, opt };
    };
    const cpu = run(-1), mixed = run(2);
    const got = await values(mixed.w);
    Array.from(cpu.w.toArray()).forEach((v, i) => assert.ok(Math.abs(got[i] - v) < 1e-5));
    assert.throws(() => mixed.opt.stateDict(), {
      name: "TypeError",
      message: /^Adam: stateDict of parameter 0 \[3\]: its state lives on the GPU/,
    });
  }),
});

forEachDevice("reductions over 5-D tensors and arg-extremes agree with the CPU", async (device) => {
  const data = Array.from({ length: 2 * 3 * 2 * 2 * 5 }, (_, i) => ((i * 7) % 11) - 5);
  const x = tensor(data, { shape: [2, 3, 2, 2, 5], device });
  const ref = tensor(data, { shape: [2, 3, 2, 2, 5] });
  for (const axes of [[1, 3], [0, 2, 4], [4]]) {
    assert.deepEqual(await values(x.sum(axes)), Array.from(ref.sum(axes).toArray()));
    assert.deepEqual(await values(x.max(axes)), Array.from(ref.max(axes).toArray()));
    assert.deepEqual(await values(x.min(axes, true)), Array.from(ref.min(axes, true).toArray()));
  }
  assert.deepEqual(await values(x.argmax(4)), Array.from(ref.argmax(4).toArray()));
  assert.deepEqual(await values(x.argmin(1)), Array.from(ref.argmin(1).toArray()));
});

Deno.test("GPU buffers are pooled in classes that waste at most a quarter", () => {
  assert.equal(sizeClass(1), 256);
  assert.equal(sizeClass(4096), 4096);
  assert.equal(sizeClass(4097), 5120);
  for (const bytes of [300, 70_000, 5_000_000, 129 * 2 ** 20]) {
    const cls = sizeClass(bytes);
    assert.ok(cls >= bytes && cls <= bytes * 1.25 + 256, `${bytes} -> ${cls}`);
    assert.equal(sizeClass(cls), cls);
  }
});

forEachDevice("addInPlace scales by alpha, also from a view of its own storage", async (device) => {
  const t = tensor([1, 2, 3, 4], { device });
  t.addInPlace(tensor([1, 1, 1, 1], { device }), 0.5);
  t.narrow(0, 0, 2).addInPlace(t.narrow(0, 2, 2), 2);
  assert.deepEqual(await values(t), [8.5, 11.5, 3.5, 4.5]);
  const i = tensor([1, 2], { device, dtype: "int32" });
  i.addInPlace(tensor([1, 1], { device, dtype: "int32" }), 3);
  assert.deepEqual(await values(i), [4, 5]);
});

Deno.test({
  ...gpuOnly,
  name: "Adam and AdamW steps on the GPU match the CPU, fused and on strided parameters",
  fn: synced(async () => {
    const data = [0.5, -1.5, 2, 0.25, -0.75, 1];
    const run = async (device: Device, strided: boolean, options: Record<string, unknown>) => {
      const base = tensor(data, { shape: [2, 3], device });
      const w = (strided ? base.T : base).detach();
      w.requiresGrad = true;
      const Opt = options.adamw ? AdamW : Adam;
      const { adamw: _, ...rest } = options;
      const opt = new Opt([w], { lr: 0.1, ...rest });
      const scale = tensor([1, 2, 3, 4, 5, 6], { shape: w.shape, device });
      for (let i = 0; i < 3; i++) {
        tidy(() => {
          opt.zeroGrad();
          w.mul(w).mul(scale).sum().backward();
          opt.step();
        });
      }
      return await values(w);
    };
    for (
      const options of [
        {},
        { weightDecay: 0.1, maximize: true },
        { amsgrad: true },
        { adamw: true, weightDecay: 0.05 },
      ]
    ) {
      for (const strided of [false, true]) {
        const cpu = await run("cpu", strided, options), gpu = await run("gpu", strided, options);
        cpu.forEach((v, i) =>
          assert.ok(
            Math.abs(gpu[i] - v) < 1e-5,
            `${JSON.stringify(options)} strided ${strided}: ${gpu[i]} vs ${v}`,
          )
        );
      }
    }
  }),
});

Deno.test({
  ...gpuOnly,
  name: "the fused GPU cross-entropy matches the CPU and refuses second derivatives",
  fn: synced(async () => {
    const logits = [[2, -1, 0.5], [0, 0, 0], [-3, 4, 1], [1, 1, 5]];
    const labels = [2, 0, -100, 1];
    const run = async (device: Device) => {
      const x = tensor(logits, { device, requiresGrad: true });
      // labels as a view at an offset, as a batch of a larger label tensor would be
      const y = tensor([7, ...labels], { device, dtype: "int32" }).narrow(0, 1, 4);
      const loss = crossEntropy(x, y);
      loss.backward();
      return { loss: await values(loss), grad: await values(x.grad!) };
    };
    const cpu = await run("cpu"), gpu = await run("gpu");
    assert.ok(Math.abs(gpu.loss[0] - cpu.loss[0]) < 1e-5);
    cpu.grad.forEach((v, i) => assert.ok(Math.abs(gpu.grad[i] - v) < 1e-6));
    const x = tensor(logits, { device: "gpu", requiresGrad: true });
    const loss = crossEntropy(x, tensor([0, 1, 2, 0], { device: "gpu", dtype: "int32" }));
    loss.backward({ createGraph: true });
    assert.throws(() => x.grad!.sum().backward(), {
      name: "Error",
      message: /^crossEntropy: the fused GPU kernel has no second derivative/,
    });
  }),
});

Deno.test({
  ...gpuOnly,
  name: "Adam packs a group's GPU parameters for one fused dispatch and still matches the CPU",
  fn: synced(async () => {
    const run = (device: Device) => {
      const w = tensor([[0.5, -1.5], [2, 0.25], [-0.75, 1]], { device, requiresGrad: true });
      const b = tensor([0.1, -0.2], { device, requiresGrad: true });
      const x = tensor([[1, 2, 3], [-1, 0.5, 2]], { device });
      const opt = new Adam([w, b], { lr: 0.1, amsgrad: true });
      for (let i = 0; i < 5; i++) {
        tidy(() => {
          // steps 2 and 3 drop the gradients (fresh ones must find their slots); step 3
          // leaves b without one, so b's step count lags w's from then on
          opt.zeroGrad({ setToNone: i === 2 || i === 3 });
          const y = x.matmul(w);
          (i === 3 ? y : y.add(b)).square().sum().backward();
          opt.step();
        });
      }
      return { w, b };
    };
    const cpu = run("cpu"), gpu = run("gpu");
    assert.equal(gpu.w.storage, gpu.b.storage, "the parameters share one packed buffer");
    assert.equal(gpu.w.grad!.storage, gpu.b.grad!.storage, "so do their gradients");
    for (const name of ["w", "b"] as const) {
      const got = await values(gpu[name]);
      Array.from(cpu[name].toArray()).forEach((v, i) =>
        assert.ok(Math.abs(got[i] - v) < 1e-5, `${name}[${i}]: ${got[i]} vs ${v}`)
      );
    }
  }),
});
