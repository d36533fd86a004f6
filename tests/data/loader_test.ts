import assert from "node:assert/strict";
import {
  arange,
  type Batch,
  DataLoader,
  type Dataset,
  defaultGenerator,
  Generator,
  manualSeed,
  memory,
  tensor,
  TensorDataset,
  tidy,
} from "../../mod.ts";

/** n samples: x row i is [i, 1000 + i] (float32), y is i (int32). */
function numbered(n: number): TensorDataset {
  const x = tensor(Array.from({ length: n }, (_, i) => [i, 1000 + i]));
  const y = arange(0, n, 1, { dtype: "int32" });
  return new TensorDataset(x, y);
}

/** The sample indices (y) of each batch of one epoch, disposing the batches. */
function epoch(loader: DataLoader): number[][] {
  const out: number[][] = [];
  for (using batch of loader) {
    const ids = [...batch.y.toArray()];
    assert.deepEqual(
      [...batch.x.toArray()],
      ids.flatMap((i) => [i, 1000 + i]),
      "x rows travel with their y",
    );
    out.push(ids);
  }
  return out;
}

Deno.test("a DataLoader's batches cover every sample once per epoch, in order without shuffle", () => {
  const loader = new DataLoader(numbered(10), { batchSize: 4 });
  assert.equal(loader.length, 3);
  const batches = epoch(loader);
  assert.deepEqual(batches, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  assert.deepEqual(epoch(loader), batches, "every epoch is the same without shuffle");
  assert.equal(loader.epoch, 2);
});

Deno.test("a shuffled DataLoader still covers every sample exactly once per epoch", () => {
  const loader = new DataLoader(numbered(23), {
    batchSize: 5,
    shuffle: true,
    generator: new Generator(4),
  });
  for (let e = 0; e < 3; e++) {
    const batches = epoch(loader);
    assert.deepEqual(batches.map((b) => b.length), [5, 5, 5, 5, 3]);
    assert.deepEqual(batches.flat().sort((a, b) => a - b), [...Array(23).keys()]);
    assert.deepEqual(batches.flat(), [...loader.permutation]);
  }
});

Deno.test("dropLast skips the short last batch, and length counts batches", () => {
  const ds = numbered(10);
  const drop = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(drop.length, 2);
  assert.deepEqual(epoch(drop), [[0, 1, 2, 3], [4, 5, 6, 7]]);
  assert.equal(new DataLoader(ds, { batchSize: 5, dropLast: true }).length, 2);
  assert.equal(new DataLoader(ds, { batchSize: 11, dropLast: true }).length, 0);
  assert.deepEqual(epoch(new DataLoader(ds, { batchSize: 11, dropLast: true })), []);
  assert.equal(new DataLoader(ds, { batchSize: 11 }).length, 1);
  assert.equal(new DataLoader(ds).length, 10, "batchSize defaults to 1");
  assert.equal(new DataLoader(numbered(0), { batchSize: 3 }).length, 0);
});

Deno.test("shuffling is reproducible with the same seed and differs with another", () => {
  const ds = numbered(40);
  const run = (seed: number) => {
    const loader = new DataLoader(ds, {
      batchSize: 8,
      shuffle: true,
      generator: new Generator(seed),
    });
    return [epoch(loader), epoch(loader)];
  };
  const [a1, a2] = run(7), [b1, b2] = run(7), [c1] = run(8);
  assert.deepEqual(a1, b1);
  assert.deepEqual(a2, b2);
  assert.notDeepEqual(a1, a2, "each epoch draws a new order");
  assert.notDeepEqual(a1, c1);
});

Deno.test("shuffling draws Fisher–Yates from the generator in the documented order", () => {
  const n = 17, seed = 11;
  const g = new Generator(seed);
  const expected = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.integer(0, i + 1);
    [expected[i], expected[j]] = [expected[j], expected[i]];
  }
  const generator = new Generator(seed);
  const loader = new DataLoader(numbered(n), { batchSize: n, shuffle: true, generator });
  assert.deepEqual(epoch(loader), [expected]);
  assert.deepEqual(generator.getState(), g.getState(), "exactly those draws, no others");
});

Deno.test("a shuffling DataLoader without a generator uses the default one (manualSeed)", () => {
  const ds = numbered(12);
  manualSeed(5);
  const a = epoch(new DataLoader(ds, { batchSize: 12, shuffle: true }));
  manualSeed(5);
  const b = epoch(new DataLoader(ds, { batchSize: 12, shuffle: true }));
  assert.deepEqual(a, b);
  const before = defaultGenerator.getState();
  epoch(new DataLoader(ds, { batchSize: 12 }));
  assert.deepEqual(defaultGenerator.getState(), before, "no shuffle, no draws");
});

Deno.test("batches keep the dtype and trailing shape of the dataset's tensors", () => {
  const x = arange(0, 24, 1, { dtype: "float64" }).reshape([4, 2, 3]);
  const y = arange(0, 8, 1, { dtype: "int32" }).reshape([4, 2]);
  const [first] = new DataLoader(new TensorDataset(x, y), { batchSize: 3 });
  assert.deepEqual(first.x.shape, [3, 2, 3]);
  assert.equal(first.x.dtype, "float64");
  assert.deepEqual(first.y.shape, [3, 2]);
  assert.equal(first.y.dtype, "int32");
  assert.deepEqual([...first.y.toArray()], [0, 1, 2, 3, 4, 5]);
});

Deno.test("TensorDataset reads non-contiguous tensors and gives views from get()", () => {
  const x = arange(6).reshape([2, 3]).T; // [3, 2], column-major
  const ds = new TensorDataset(x, arange(3));
  assert.deepEqual([...ds.get(1).x.toArray()], [1, 4]);
  const [batch] = new DataLoader(ds, { batchSize: 3 });
  assert.deepEqual(batch.x.toNested(), [[0, 3], [1, 4], [2, 5]]);
  assert.throws(() => ds.get(3), /TensorDataset.get: index 3 is out of range for 3 samples/);
  assert.throws(() => ds.getBatch(new Int32Array([0, 5])), RangeError);
});

Deno.test("TensorDataset rejects tensors that disagree on the number of samples", () => {
  assert.throws(
    () => new TensorDataset(arange(6).reshape([3, 2]), arange(4)),
    (e: Error) =>
      e instanceof TypeError &&
      e.message === "TensorDataset: x of shape [3, 2] and y of shape [4] disagree on the " +
          "number of samples (3 vs 4)",
  );
  assert.throws(() => new TensorDataset(tensor(1), arange(1)), /x must have a first dimension/);
  assert.throws(() => new TensorDataset(arange(2), [0, 1] as never), /y must be a Tensor/);
});

Deno.test("a DataLoader allocates no fresh memory per batch after the first epoch", () => {
  const ds = numbered(1000);
  const loader = new DataLoader(ds, { batchSize: 64, shuffle: true, generator: new Generator(0) });
  const consume = (batch: Batch) =>
    tidy(() => batch.x.mul(2).sum(1).add(batch.y.to("float32")).sum().item());
  // disposing each batch (here with `using`) lets the next one reuse its memory
  for (using batch of loader) consume(batch);
  let before = memory().freshBytes;
  for (let e = 0; e < 3; e++) for (using b of loader) consume(b);
  assert.equal(memory().freshBytes - before, 0);
  // or: a tidy around the whole epoch disposes the batches at its end
  tidy(() => {
    for (const batch of loader) consume(batch);
  });
  before = memory().freshBytes;
  for (let e = 0; e < 2; e++) {
    tidy(() => {
      for (const batch of loader) consume(batch);
    });
  }
  assert.equal(memory().freshBytes - before, 0);
});

Deno.test("stateDict() and loadStateDict() resume mid-epoch bit-identically", () => {
  const ds = numbered(30);
  const options = { batchSize: 4, shuffle: true };
  const reference = new DataLoader(ds, { ...options, generator: new Generator(21) });
  const whole = [epoch(reference), epoch(reference), epoch(reference)].flat();
  // the interrupted run: one epoch, then 3 batches of the second, then a checkpoint
  const first = new DataLoader(ds, { ...options, generator: new Generator(21) });
  const seen = epoch(first);
  const it = first[Symbol.iterator]();
  for (let i = 0; i < 3; i++) {
    using batch = it.next().value as Batch;
    seen.push([...batch.y.toArray()]);
  }
  const saved = JSON.parse(JSON.stringify(first.stateDict()));
  assert.equal(saved.epoch, 2);
  assert.equal(saved.batch, 3);
  // the resumed run: a fresh loader and a generator in another state
  const resumed = new DataLoader(ds, { ...options, generator: new Generator(999) });
  resumed.loadStateDict(saved);
  assert.equal(resumed.epoch, 2);
  seen.push(...epoch(resumed), ...epoch(resumed));
  assert.deepEqual(seen, whole);
  assert.equal(resumed.epoch, 3);
});

Deno.test("a state saved at an epoch's end or before any epoch resumes too", () => {
  const ds = numbered(9);
  const options = { batchSize: 2, shuffle: true };
  const a = new DataLoader(ds, { ...options, generator: new Generator(1) });
  const fresh = a.stateDict();
  const firstEpoch = epoch(a);
  const atEnd = a.stateDict();
  const secondEpoch = epoch(a);
  const b = new DataLoader(ds, { ...options, generator: new Generator(2) });
  b.loadStateDict(atEnd);
  assert.deepEqual(epoch(b), secondEpoch);
  b.loadStateDict(fresh);
  assert.equal(b.epoch, 0);
  assert.deepEqual(b.permutation.length, 0);
  assert.deepEqual(epoch(b), firstEpoch);
  const plain = new DataLoader(ds, { batchSize: 2 });
  plain.loadStateDict({ ...plain.stateDict(), epoch: 4, batch: 3 });
  assert.deepEqual(epoch(plain), [[6, 7], [8]]);
  assert.equal(plain.epoch, 4);
});

Deno.test("loadStateDict() rejects a state from a different loader, naming the field", () => {
  const loader = new DataLoader(numbered(10), {
    batchSize: 2,
    shuffle: true,
    generator: new Generator(0),
  });
  const state = loader.stateDict();
  assert.throws(
    () => new DataLoader(numbered(11), { batchSize: 2, shuffle: true }).loadStateDict(state),
    /the state has samples 10, this loader has 11/,
  );
  assert.throws(
    () => new DataLoader(numbered(10), { batchSize: 3, shuffle: true }).loadStateDict(state),
    /the state has batchSize 2, this loader has 3/,
  );
  assert.throws(
    () => new DataLoader(numbered(10), { batchSize: 2 }).loadStateDict(state),
    /the state has shuffle true, this loader has false/,
  );
  assert.throws(
    () => loader.loadStateDict({ ...state, epoch: 1, batch: 6 }),
    /state.batch must be an integer in \[0, 5\]/,
  );
  assert.throws(() => loader.loadStateDict({ ...state, epoch: -1 }), /state.epoch/);
  assert.throws(
    () => loader.loadStateDict({ ...state, epoch: 1 }),
    /state.epochGenerator must be 5 numbers/,
  );
  assert.throws(() => loader.loadStateDict(null as never), TypeError);
});

Deno.test("DataLoader rejects bad options with errors that name them", () => {
  const ds = numbered(4);
  for (const batchSize of [0, -2, 1.5, NaN, Infinity]) {
    assert.throws(
      () => new DataLoader(ds, { batchSize }),
      (e: Error) =>
        e instanceof RangeError &&
        e.message === `DataLoader: option batchSize must be a positive integer, got ${batchSize}`,
    );
  }
  assert.throws(
    () => new DataLoader(ds, { batchSize: "8" as never }),
    (e: Error) =>
      e instanceof TypeError && /option batchSize must be a positive integer/.test(e.message),
  );
  assert.throws(
    () => new DataLoader(ds, { shuffle: 1 as never }),
    /option shuffle must be a boolean/,
  );
  assert.throws(
    () => new DataLoader(ds, { dropLast: "no" as never }),
    /option dropLast must be a boolean/,
  );
  assert.throws(
    () => new DataLoader(ds, { generator: {} as never }),
    /option generator must be a Generator/,
  );
  assert.throws(
    () => new DataLoader(null as never),
    /dataset must have a numeric length and a get/,
  );
  assert.throws(() => new DataLoader(ds, 8 as never), /options must be an object/);
});

Deno.test("a DataLoader stacks any Dataset from get(i), checking that samples agree", () => {
  const squares: Dataset = {
    length: 5,
    get: (i) => ({ x: tensor([i, i]).reshape([1, 2]), y: tensor(i * i, { dtype: "int32" }) }),
  };
  const batches = [...new DataLoader(squares, { batchSize: 2 })];
  assert.deepEqual(batches.map((b) => b.x.shape), [[2, 1, 2], [2, 1, 2], [1, 1, 2]]);
  assert.deepEqual(batches.flatMap((b) => [...b.y.toArray()]), [0, 1, 4, 9, 16]);
  assert.equal(batches[0].y.dtype, "int32");
  const ragged: Dataset = { length: 3, get: (i) => ({ x: arange(i + 1), y: tensor(i) }) };
  assert.throws(
    () => [...new DataLoader(ragged, { batchSize: 3 })],
    /dataset.get\(1\).x is float32 \[2\], but the batch began with float32 \[1\]/,
  );
  const broken: Dataset = { length: 1, get: () => ({ x: [1] as never, y: tensor(0) }) };
  assert.throws(() => [...new DataLoader(broken)], /dataset.get\(0\).x must be a Tensor/);
});

Deno.test("a new iteration overtakes an older one, whose next step throws", () => {
  const loader = new DataLoader(numbered(6), { batchSize: 2 });
  const older = loader[Symbol.iterator]();
  older.next();
  const newer = loader[Symbol.iterator]();
  newer.next();
  assert.throws(() => older.next(), /another iteration over this loader began/);
  assert.equal(newer.next().done, false);
});

Deno.test("a loop that breaks early leaves the next loop to begin a new epoch", () => {
  const loader = new DataLoader(numbered(6), { batchSize: 2 });
  for (using _ of loader) break;
  assert.deepEqual(epoch(loader), [[0, 1], [2, 3], [4, 5]]);
  assert.equal(loader.epoch, 2);
});
