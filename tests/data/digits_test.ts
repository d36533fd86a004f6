import assert from "node:assert/strict";
import { defaultGenerator, loadDigits, manualSeed, splitTrainTest, tensor } from "../../mod.ts";

/** Rows 0, 1, 999 and 1796 of scikit-learn's digits.csv: 64 pixels, then the label. */
const KNOWN_ROWS: [number, string][] = [
  [
    0,
    "0,0,5,13,9,1,0,0,0,0,13,15,10,15,5,0,0,3,15,2,0,11,8,0,0,4,12,0,0,8,8,0,0,5,8,0,0,9,8,0," +
    "0,4,11,0,1,12,7,0,0,2,14,5,10,12,0,0,0,0,6,13,10,0,0,0,0",
  ],
  [
    1,
    "0,0,0,12,13,5,0,0,0,0,0,11,16,9,0,0,0,0,3,15,16,6,0,0,0,7,15,16,16,2,0,0,0,0,1,16,16,3,0," +
    "0,0,0,1,16,16,6,0,0,0,0,1,16,16,6,0,0,0,0,0,11,16,10,0,0,1",
  ],
  [
    999,
    "0,0,9,15,14,2,0,0,0,0,9,3,9,8,0,0,0,0,0,0,6,10,0,0,0,0,0,10,15,2,0,0,0,0,2,10,11,15,2,0," +
    "0,3,1,0,0,14,4,0,0,10,13,7,2,12,4,0,0,0,7,14,16,10,0,0,3",
  ],
  [
    1796,
    "0,0,10,14,8,1,0,0,0,2,16,14,6,1,0,0,0,0,15,15,8,15,0,0,0,0,5,16,16,10,0,0,0,0,12,15,15," +
    "12,0,0,0,4,16,6,4,16,6,0,0,8,16,10,8,16,8,0,0,1,8,12,14,12,1,0,8",
  ],
];

Deno.test("loadDigits() returns 1,797 samples of 64 features in [0, 1] and int32 labels", async () => {
  const { x, y } = await loadDigits();
  assert.deepEqual(x.shape, [1797, 64]);
  assert.equal(x.dtype, "float32");
  assert.deepEqual(y.shape, [1797]);
  assert.equal(y.dtype, "int32");
  assert.equal(x.min().item(), 0);
  assert.equal(x.max().item(), 1);
  for (const v of x.toArray()) assert.ok(Number.isInteger(v * 16), `${v} is a count / 16`);
});

Deno.test("loadDigits() has the known label counts", async () => {
  const counts = new Array(10).fill(0);
  for (const label of (await loadDigits()).y.toArray()) counts[label]++;
  assert.deepEqual(counts, [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
});

Deno.test("loadDigits() matches known rows of the source CSV", async () => {
  const { x, y } = await loadDigits();
  for (const [row, csv] of KNOWN_ROWS) {
    const values = csv.split(",").map(Number);
    assert.deepEqual([...x.select(0, row).toArray()].map((v) => v * 16), values.slice(0, 64));
    assert.equal(y.toArray()[row], values[64], `label of row ${row}`);
  }
});

Deno.test("loadDigits() decodes to the bytes whose SHA-256 the data file records", async () => {
  const { x, y } = await loadDigits();
  const bytes = new Uint8Array(1797 * 65);
  x.toArray().forEach((v, i) => (bytes[i] = v * 16));
  bytes.set(y.toArray(), 1797 * 64);
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(hex, "87ff0c9e40dc7e2c0e34e7257799c2e3f3aec1a016363bb11cad869ec428a826");
});

Deno.test({
  name: "loadDigits() needs no permission and returns new tensors on each call",
  permissions: "none",
  async fn() {
    const a = await loadDigits(), b = await loadDigits();
    assert.notEqual(a.x, b.x);
    a.x.data[0] = 5;
    assert.equal(b.x.toArray()[0], 0);
  },
});

Deno.test("splitTrainTest() holds out a seeded 20% and keeps every sample once", async () => {
  const data = await loadDigits();
  const { train, test } = splitTrainTest(data, { testFraction: 0.2, seed: 0 });
  assert.deepEqual(test.x.shape, [359, 64]);
  assert.deepEqual(train.x.shape, [1438, 64]);
  assert.deepEqual(train.y.shape, [1438]);
  assert.equal(test.y.dtype, "int32");
  // every sample lands in exactly one split: compare multisets of (row, label) strings
  const rows = (s: { x: typeof data.x; y: typeof data.y }) => {
    const x = s.x.toArray(), y = s.y.toArray();
    return Array.from(y, (label, i) => `${x.subarray(i * 64, i * 64 + 64).join()}|${label}`);
  };
  assert.deepEqual([...rows(train), ...rows(test)].sort(), rows(data).sort());
});

Deno.test("splitTrainTest() is reproducible with a seed, differs with another, and leaves the default generator alone", () => {
  const x = tensor(Array.from({ length: 50 }, (_, i) => [i, -i]));
  const y = tensor(Array.from({ length: 50 }, (_, i) => i), { dtype: "int32" });
  manualSeed(3);
  const before = defaultGenerator.getState();
  const a = splitTrainTest({ x, y }, { seed: 1 }).test.y.toArray();
  const b = splitTrainTest({ x, y }, { seed: 1 }).test.y.toArray();
  const c = splitTrainTest({ x, y }, { seed: 2 }).test.y.toArray();
  assert.deepEqual(defaultGenerator.getState(), before);
  assert.equal(a.length, 10);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assert.deepEqual([...a], [...a].sort((p, q) => p - q), "each split keeps the original order");
  const { train, test } = splitTrainTest({ x, y }, { testFraction: 0.5 });
  assert.deepEqual([...train.x.select(1, 0).toArray()], [...train.y.toArray()]);
  assert.equal(test.y.size, 25);
});

Deno.test("splitTrainTest() rejects bad options and mismatched data, naming them", () => {
  const x = tensor([[1], [2], [3]]), y = tensor([1, 2, 3]);
  for (const testFraction of [0, 1, -0.1, 1.5, NaN]) {
    assert.throws(
      () => splitTrainTest({ x, y }, { testFraction }),
      (e: Error) => e instanceof RangeError && e.message.includes("testFraction"),
    );
  }
  assert.throws(() => splitTrainTest({ x, y }, { testFraction: 0.01 }), /leaves 0 for testing/);
  assert.throws(() => splitTrainTest({ x, y }, { seed: 0.5 }), /option seed must be an integer/);
  assert.throws(() => splitTrainTest({ x, y: tensor([1, 2]) }), TypeError);
  assert.throws(() => splitTrainTest({ x } as never), TypeError);
});
