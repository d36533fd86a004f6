import assert from "node:assert/strict";
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIR, loadFashionMnist } from "../../mod.ts";
import { gzip, idxBytes, withTempDir } from "./helpers.ts";

const PIXELS = 28 * 28;

/** Writes a Fashion-MNIST-shaped directory: `train` and `test` images with pixel i*3+k. */
async function writeSet(
  dir: string,
  options: {
    train?: number;
    test?: number;
    trainLabels?: number;
    compress?: boolean;
    side?: number;
  } = {},
): Promise<void> {
  const { train = 5, test = 3, compress = true, side = 28 } = options;
  const trainLabels = options.trainLabels ?? train;
  const image = (n: number) =>
    idxBytes("ubyte", [n, side, side], Array.from({ length: n * side * side }, (_, i) => i % 256));
  const labels = (n: number) => idxBytes("ubyte", [n], Array.from({ length: n }, (_, i) => i % 10));
  const files: [string, Uint8Array][] = [
    ["train-images-idx3-ubyte", image(train)],
    ["train-labels-idx1-ubyte", labels(trainLabels)],
    ["t10k-images-idx3-ubyte", image(test)],
    ["t10k-labels-idx1-ubyte", labels(test)],
  ];
  for (const [name, bytes] of files) {
    if (compress) await Deno.writeFile(`${dir}/${name}.gz`, await gzip(bytes));
    else await Deno.writeFile(`${dir}/${name}`, bytes);
  }
}

Deno.test("loadFashionMnist() reads a directory in the Fashion-MNIST layout", async () => {
  await withTempDir(async (dir) => {
    await writeSet(dir);
    const { train, test } = await loadFashionMnist(dir);
    assert.deepEqual(train.x.shape, [5, PIXELS]);
    assert.equal(train.x.dtype, "float32");
    assert.deepEqual(train.y.shape, [5]);
    assert.equal(train.y.dtype, "int32");
    assert.deepEqual(test.x.shape, [3, PIXELS]);
    assert.deepEqual([...test.y.toArray()], [0, 1, 2]);
    const x = train.x.toArray();
    for (const i of [0, 1, 255, 256, 1000, 5 * PIXELS - 1]) {
      assert.equal(x[i], Math.fround((i % 256) / 255), `pixel ${i}`);
    }
    assert.equal(train.x.max().item(), 1);
    assert.equal(train.x.min().item(), 0);
  });
});

Deno.test("loadFashionMnist() also reads uncompressed files", async () => {
  await withTempDir(async (dir) => {
    await writeSet(dir, { compress: false, train: 2, test: 1 });
    const { train, test } = await loadFashionMnist(`${dir}/`);
    assert.deepEqual(train.x.shape, [2, PIXELS]);
    assert.deepEqual(test.y.shape, [1]);
  });
});

Deno.test("loadFashionMnist() says which files are missing and how to get them", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeFile(
      `${dir}/train-images-idx3-ubyte.gz`,
      await gzip(idxBytes("ubyte", [0, 28, 28], [])),
    );
    await assert.rejects(
      () => loadFashionMnist(dir),
      (e: Error) => {
        assert.ok(e instanceof Deno.errors.NotFound);
        assert.match(e.message, /^loadFashionMnist: /);
        assert.match(e.message, new RegExp(`${dir} lacks train-labels-idx1-ubyte\\.gz, t10k-`));
        assert.doesNotMatch(e.message, /train-images/);
        assert.match(e.message, /apt-get install dataset-fashion-mnist/);
        assert.match(e.message, /pass the directory/);
        return true;
      },
    );
    await assert.rejects(() => loadFashionMnist(`${dir}/nowhere`), Deno.errors.NotFound);
  });
});

Deno.test("loadFashionMnist() rejects label and image counts that disagree, naming both files", async () => {
  await withTempDir(async (dir) => {
    await writeSet(dir, { train: 4, trainLabels: 3 });
    await assert.rejects(
      () => loadFashionMnist(dir),
      (e: Error) =>
        e instanceof TypeError &&
        e.message === `loadFashionMnist: ${dir}/train-labels-idx1-ubyte.gz has 3 labels but ` +
            `${dir}/train-images-idx3-ubyte.gz has 4 images`,
    );
  });
});

Deno.test("loadFashionMnist() rejects images that are not 28×28 and labels beyond 9", async () => {
  await withTempDir(async (dir) => {
    await writeSet(dir, { side: 27 });
    await assert.rejects(
      () => loadFashionMnist(dir),
      /holds ubyte \[5, 27, 27\], expected ubyte \[N, 28, 28\]/,
    );
  });
  await withTempDir(async (dir) => {
    await writeSet(dir);
    await Deno.writeFile(
      `${dir}/t10k-labels-idx1-ubyte.gz`,
      await gzip(idxBytes("ubyte", [3], [1, 12, 0])),
    );
    await assert.rejects(
      () => loadFashionMnist(dir),
      (e: Error) =>
        e instanceof RangeError &&
        /t10k-labels.*label 12 at index 1 is not in 0\.\.9/.test(e.message),
    );
  });
});

Deno.test("loadFashionMnist() passes on the file's own error for a malformed file", async () => {
  await withTempDir(async (dir) => {
    await writeSet(dir);
    const bad = idxBytes("ubyte", [3], [1, 2, 3]);
    bad[0] = 7;
    await Deno.writeFile(`${dir}/t10k-labels-idx1-ubyte.gz`, await gzip(bad));
    await assert.rejects(() => loadFashionMnist(dir), /t10k-labels-idx1-ubyte\.gz: bad magic/);
  });
});

Deno.test("FASHION_MNIST_CLASSES names the ten classes in label order", () => {
  assert.equal(FASHION_MNIST_CLASSES.length, 10);
  assert.equal(FASHION_MNIST_CLASSES[0], "T-shirt/top");
  assert.equal(FASHION_MNIST_CLASSES[8], "Bag");
});

Deno.test({
  name: "loadFashionMnist() reads the installed data set: 60,000 + 10,000 balanced samples",
  ignore: Deno.permissions.querySync({ name: "read", path: FASHION_MNIST_DIR }).state !==
      "granted" || !existsSync(`${FASHION_MNIST_DIR}/train-images-idx3-ubyte.gz`),
  async fn() {
    const { train, test } = await loadFashionMnist();
    assert.deepEqual(train.x.shape, [60000, PIXELS]);
    assert.deepEqual(test.x.shape, [10000, PIXELS]);
    for (const [split, per] of [[train, 6000], [test, 1000]] as const) {
      const counts = new Array(10).fill(0);
      for (const label of split.y.toArray()) counts[label]++;
      assert.deepEqual(counts, new Array(10).fill(per));
    }
    assert.ok(train.x.max().item() === 1 && train.x.min().item() === 0);
  },
});

function existsSync(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}
