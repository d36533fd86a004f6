import assert from "node:assert/strict";
import {
  deserialize,
  deserializeCheckpoint,
  Generator,
  load,
  loadCheckpoint,
  randn,
  save,
  saveCheckpoint,
  serialize,
  serializeCheckpoint,
  Storage,
  Tensor,
  tensor,
  zeros,
} from "../../mod.ts";

await Deno.mkdir(".tmp", { recursive: true });

/** A fresh scratch folder under .tmp/, removed after `fn`. */
async function inTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ dir: ".tmp", prefix: "io_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function names(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(dir)) out.push(e.name);
  return out.sort();
}

// ---- save / load ------------------------------------------------------------------------------

Deno.test("save() then load() round-trips tensors and metadata through a file", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/w.safetensors`;
    const w = randn([3, 4]);
    const ids = tensor(new Int32Array([3, 1, 2]));
    await save(path, { "fc.weight": w.T, ids }, { epoch: "2" });
    assert.deepEqual(await names(dir), ["w.safetensors"]);
    const { tensors, metadata } = await load(path);
    assert.deepEqual(tensors["fc.weight"].toNested(), w.T.toNested());
    assert.deepEqual(tensors.ids.toArray(), ids.toArray());
    assert.deepEqual(metadata, { epoch: "2" });
    assert.deepEqual(
      await Deno.readFile(path),
      serialize({ "fc.weight": w.T, ids }, { epoch: "2" }),
    );
  });
});

Deno.test("save() replaces an existing file and accepts a file URL", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/m.safetensors`;
    await save(path, { x: zeros([2]) });
    const url = new URL(path, `file://${Deno.cwd()}/`);
    await save(url, { y: tensor([7]) });
    const { tensors } = await load(url);
    assert.deepEqual(Object.keys(tensors), ["y"]);
    assert.deepEqual(await names(dir), ["m.safetensors"]);
  });
});

Deno.test("save() writes tensors over shared memory and strided tensors that require grad", async () => {
  await inTempDir(async (dir) => {
    const shared = new Float32Array(new SharedArrayBuffer(16));
    shared.set([1, 2, 3, 4]);
    const arena = new Tensor(new Storage(shared, false), [2, 2]);
    const w = randn([2, 3], { requiresGrad: true });
    await save(`${dir}/s.safetensors`, { arena, wT: w.T });
    const { tensors } = await load(`${dir}/s.safetensors`);
    assert.deepEqual(tensors.arena.toNested(), [[1, 2], [3, 4]]);
    assert.deepEqual(tensors.wT.toNested(), w.T.toNested());
    assert.equal(tensors.wT.requiresGrad, false);
    assert.equal(arena.isDisposed, false);
    assert.equal(w.isDisposed, false);
  });
});

Deno.test("save() failing to read a tensor leaves the old file whole and no temporary file", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/model.safetensors`;
    await save(path, { w: tensor([1, 2, 3]) });
    const before = await Deno.readFile(path);

    const seen: string[][] = [];
    const bad = tensor([4, 5]);
    Object.defineProperty(bad, "data", {
      get() {
        seen.push([...Deno.readDirSync(dir)].map((e) => e.name));
        throw new Error("disk on fire");
      },
    });
    const good = tensor([[1, 2], [3, 4]], { dtype: "float64" });
    await assert.rejects(
      () => save(path, { good, bad }),
      { message: 'save: tensor "bad" could not be read: disk on fire' },
    );
    // the data is read before any file is made
    assert.deepEqual(seen, [["model.safetensors"]]);
    assert.deepEqual(await Deno.readFile(path), before);
    assert.deepEqual(await names(dir), ["model.safetensors"]);
  });
});

Deno.test("save() writes the values tensors had at the call, even if they change before it settles", async () => {
  await inTempDir(async (dir) => {
    const w = tensor([1, 2, 3]);
    const pending = save(`${dir}/w.safetensors`, { w });
    w.fillInPlace(9);
    await pending;
    const { tensors } = await load(`${dir}/w.safetensors`);
    assert.deepEqual([...tensors.w.toArray()], [1, 2, 3]);
  });
});

Deno.test("save() failing to rename removes the temporary file and leaves the target alone", async () => {
  await inTempDir(async (dir) => {
    // a non-empty folder under the target name: the temporary file is made, written and
    // synced, then the rename over the folder fails
    const path = `${dir}/taken`;
    await Deno.mkdir(path);
    await Deno.writeTextFile(`${path}/keep.txt`, "still here");
    await assert.rejects(
      () => save(path, { w: tensor([1]) }),
      /save: could not move the written file onto .*taken: /,
    );
    assert.deepEqual(await names(dir), ["taken"]);
    assert.equal(await Deno.readTextFile(`${path}/keep.txt`), "still here");
  });
});

Deno.test("save() rejects bad input before creating any file", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/x.safetensors`;
    const gone = zeros([1]);
    gone.dispose();
    await assert.rejects(() => save(path, { gone }), /save: tensor "gone" was disposed/);
    await assert.rejects(
      () => save(path, { x: zeros([1]) }, { n: 1 as unknown as string }),
      TypeError,
    );
    await assert.rejects(
      () => save(`${dir}/missing/x.safetensors`, { x: zeros([1]) }),
      /save: could not create .*missing\/x\.safetensors\.tmp-[0-9a-f]+: /,
    );
    assert.deepEqual(await names(dir), []);
  });
});

Deno.test("load() names the file in its errors", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/broken.safetensors`;
    const bytes = serialize({ x: tensor([1, 2, 3]) });
    await Deno.writeFile(path, bytes.subarray(0, bytes.length - 4));
    await assert.rejects(
      () => load(path),
      new RegExp(
        `^Error: load: ${dir}/broken\\.safetensors: tensor "x": data_offsets \\[0, 12\\] run past`,
      ),
    );
    await assert.rejects(() => load(`${dir}/nope.safetensors`), /load: could not read .*nope/);
  });
});

// ---- checkpoints ------------------------------------------------------------------------------

function trainingState() {
  const g = new Generator(42);
  g.normal(); // leaves a spare normal draw in the state
  const w1 = randn([4, 3], { requiresGrad: true });
  const b1 = zeros([4], { requiresGrad: true });
  return {
    model: { "fc1.weight": w1, "fc1.bias": b1 },
    optimizer: {
      state: [
        { step: 3, m: randn([4, 3]), v: randn([4, 3], { dtype: "float64" }) },
        { step: 3, m: zeros([4]), v: zeros([4]) },
      ],
      paramGroups: [{ lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, params: [0, 1] }],
    },
    scheduler: { lastEpoch: 4, baseLrs: [1e-3], gamma: 0.1 },
    generator: g.getState(),
    permutation: new Int32Array([2, 0, 1]),
    seeds: new Uint32Array([1, 2 ** 32 - 1]),
    history: new Float64Array([0.5, 0.25]),
    bytes: new Uint8Array([0, 255]),
    big: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n]),
    epoch: 5,
    step: 1234,
    best: Infinity,
    worst: -Infinity,
    unset: NaN,
    negZero: -0,
    tiny: 5e-324,
    name: "run-α",
    done: false,
    parent: null,
    empty: { list: [], obj: {} },
    "$weird": { $tensor: "not a marker", $number: "NaN" },
  };
}

Deno.test("saveCheckpoint() then loadCheckpoint() rebuilds a nested training state exactly", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/run.ckpt`;
    const state = trainingState();
    await saveCheckpoint(path, state);
    assert.deepEqual(await names(dir), ["run.ckpt"]);
    const back = await loadCheckpoint(path);

    const model = back.model as Record<string, Tensor>;
    assert.deepEqual(Object.keys(model), ["fc1.weight", "fc1.bias"]);
    assert.deepEqual(model["fc1.weight"].toArray(), state.model["fc1.weight"].toArray());
    assert.equal(model["fc1.weight"].requiresGrad, true);
    assert.equal(model["fc1.bias"].requiresGrad, true);
    const opt = back.optimizer as typeof state.optimizer;
    assert.equal(opt.state[0].v.dtype, "float64");
    assert.deepEqual(opt.state[0].v.toArray(), state.optimizer.state[0].v.toArray());
    assert.equal(opt.state[0].m.requiresGrad, false);

    // everything that is not a tensor compares structurally, classes and -0 included
    const plain = (s: Record<string, unknown>) => {
      const { model: _m, optimizer: { state: _s, ...rest }, ...others } = s as typeof state;
      return { ...others, optimizer: rest };
    };
    assert.deepEqual(plain(back), plain(state));
    assert.ok(Object.is(back.negZero, -0));
    assert.ok(back.seeds instanceof Uint32Array);
    assert.ok(back.big instanceof BigInt64Array);

    // the generator continues exactly where it was
    const a = new Generator(0);
    a.setState(state.generator);
    const b = new Generator(0);
    b.setState(back.generator as number[]);
    assert.deepEqual([a.normal(), a.uniform()], [b.normal(), b.uniform()]);
  });
});

Deno.test("a checkpoint stores tensors under dotted keys and the rest as metadata JSON", () => {
  const bytes = serializeCheckpoint(trainingState());
  const { tensors, metadata } = deserialize(
    serializeCheckpoint({
      model: { "fc1.weight": zeros([2]) },
      optimizer: { state: [{ m: zeros([1]) }] },
    }),
  );
  assert.deepEqual(Object.keys(tensors).sort(), ["model.fc1.weight", "optimizer.state.0.m"]);
  assert.equal(metadata["adamant.checkpoint"], "1");
  assert.deepEqual(JSON.parse(metadata["adamant.state"]), {
    model: { "fc1.weight": { $tensor: "model.fc1.weight" } },
    optimizer: { state: [{ m: { $tensor: "optimizer.state.0.m" } }] },
  });
  // typed arrays keep their own dtype in the body
  const header = JSON.parse(
    new TextDecoder().decode(
      bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true))),
    ),
  );
  assert.equal(header.seeds.dtype, "U32");
  assert.equal(header.big.dtype, "I64");
  assert.equal(header.permutation.dtype, "I32");
});

Deno.test("a checkpoint keeps one tensor for every place that held the same tensor", () => {
  const shared = tensor([1, 2]);
  const back = deserializeCheckpoint(serializeCheckpoint({ encoder: shared, decoder: [shared] }));
  assert.equal((back.decoder as Tensor[])[0], back.encoder);
  assert.deepEqual(
    Object.keys(deserialize(serializeCheckpoint({ a: shared, b: shared })).tensors),
    [
      "a",
    ],
  );
});

Deno.test("saveCheckpoint() rejects values a checkpoint cannot hold, naming where they are", async () => {
  const cases: [object, RegExp][] = [
    [{ a: { b: undefined } }, /state\.a\.b is undefined; a checkpoint holds Tensors/],
    [{ a: [1, () => 0] }, /state\.a\.1 is a function/],
    [{ when: new Date(0) }, /state\.when is a Date/],
    [{ m: new Map() }, /state\.m is a Map/],
    [{ n: 1n }, /state\.n is the bigint 1n/],
    [
      { v: new DataView(new ArrayBuffer(1)) },
      /state\.v is a DataView; checkpoints store Float32Array/,
    ],
    [
      { "a.b": zeros([1]), a: { b: zeros([1]) } },
      /state\.a\.b and state\.a\.b would both be stored/,
    ],
    [{ __metadata__: zeros([1]) }, /"__metadata__" is reserved/],
  ];
  for (const [state, message] of cases) {
    assert.throws(() => serializeCheckpoint(state), { name: "TypeError", message });
  }
  const loop: Record<string, unknown> = { x: 1 };
  loop.self = { back: loop };
  assert.throws(() => serializeCheckpoint(loop), /state\.self\.back refers back to itself/);
  assert.throws(
    () => serializeCheckpoint([1] as object),
    /the state must be a plain object, got an array/,
  );
  await assert.rejects(() => saveCheckpoint(".tmp/never.ckpt", { n: 1n }), TypeError);
  await assert.rejects(() => Deno.stat(".tmp/never.ckpt"), Deno.errors.NotFound);
});

Deno.test("loadCheckpoint() rejects a plain safetensors file and a broken skeleton", async () => {
  assert.throws(
    () => deserializeCheckpoint(serialize({ x: zeros([1]) }), { source: "w.safetensors" }),
    /deserializeCheckpoint: w\.safetensors: not an adamant checkpoint .* read plain safetensors files with load\(\)/,
  );
  const meta = (state: string, version = "1") =>
    serialize({ x: zeros([1]) }, { "adamant.checkpoint": version, "adamant.state": state });
  assert.throws(
    () => deserializeCheckpoint(meta("{}", "9")),
    /format version "9" is not supported/,
  );
  assert.throws(
    () => deserializeCheckpoint(meta("{oops")),
    /adamant\.state metadata is not valid JSON/,
  );
  assert.throws(
    () => deserializeCheckpoint(meta('{"a":{"$tensor":"y"}}')),
    /state\.a refers to "y", which the file lacks/,
  );
  assert.throws(
    () => deserializeCheckpoint(meta('{"a":{"$array":"Uint32Array","key":"x"}}')),
    /state\.a: a Uint32Array cannot be read from "x" \(F32, shape \[1\]\)/,
  );
  assert.throws(
    () => deserializeCheckpoint(meta('{"a":{"$number":"7"}}')),
    /bad number marker "7"/,
  );
  assert.throws(
    () => deserializeCheckpoint(meta("[1]")),
    /adamant\.state metadata is not an object/,
  );
  await inTempDir(async (dir) => {
    await Deno.writeFile(`${dir}/plain`, serialize({}));
    await assert.rejects(
      () => loadCheckpoint(`${dir}/plain`),
      /loadCheckpoint: .*plain: not an adamant/,
    );
  });
});

Deno.test("saveCheckpoint() is atomic like save()", async () => {
  await inTempDir(async (dir) => {
    const path = `${dir}/run.ckpt`;
    await saveCheckpoint(path, { epoch: 1 });
    const bad = tensor([1]);
    Object.defineProperty(bad, "data", {
      get() {
        throw new Error("gone");
      },
    });
    await assert.rejects(
      () => saveCheckpoint(path, { epoch: 2, w: bad }),
      /tensor "w" could not be read/,
    );
    assert.deepEqual(await loadCheckpoint(path), { epoch: 1 });
    assert.deepEqual(await names(dir), ["run.ckpt"]);
  });
});
