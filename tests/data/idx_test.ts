import assert from "node:assert/strict";
import { readIdx, readIdxFile } from "../../mod.ts";
import { gzip, idxBytes, withTempDir } from "./helpers.ts";

Deno.test("readIdx() reads every element type back from big-endian bytes", () => {
  const cases = [
    ["ubyte", [0, 1, 127, 128, 255, 7], Uint8Array],
    ["byte", [-128, -1, 0, 1, 127, 5], Int8Array],
    ["short", [-32768, -2, 258, 32767, 0, 1], Int16Array],
    ["int", [-2147483648, -1, 16909060, 2147483647, 0, 9], Int32Array],
    ["float", [-1.5, 0.25, 3.4e38, -0, 1e-40, 6], Float32Array],
    ["double", [Math.PI, -1e-300, 1.7976931348623157e308, 0.1, -0, 2], Float64Array],
  ] as const;
  for (const [type, values, Kind] of cases) {
    const idx = readIdx(idxBytes(type, [2, 3], values));
    assert.equal(idx.type, type);
    assert.deepEqual(idx.shape, [2, 3]);
    assert.ok(idx.data instanceof Kind, `${type} gives a ${Kind.name}`);
    assert.deepEqual([...idx.data], [...new Kind(values)], type);
  }
});

Deno.test("readIdx() reads one to four dimensions and empty arrays", () => {
  assert.deepEqual(readIdx(idxBytes("ubyte", [3], [1, 2, 3])).shape, [3]);
  const four = readIdx(idxBytes("int", [1, 2, 1, 2], [1, 2, 3, 4]));
  assert.deepEqual(four.shape, [1, 2, 1, 2]);
  assert.deepEqual([...four.data], [1, 2, 3, 4]);
  const empty = readIdx(idxBytes("float", [0, 28, 28], []));
  assert.deepEqual(empty.shape, [0, 28, 28]);
  assert.equal(empty.data.length, 0);
});

Deno.test("readIdx() copies the data, so changing the input bytes changes nothing", () => {
  const bytes = idxBytes("ubyte", [2], [4, 5]);
  const idx = readIdx(bytes);
  bytes[8] = 99;
  assert.deepEqual([...idx.data], [4, 5]);
});

Deno.test("readIdx() reads from a view that does not start its buffer", () => {
  const inner = idxBytes("short", [2], [-3, 300]);
  const padded = new Uint8Array(inner.length + 3);
  padded.set(inner, 3);
  assert.deepEqual([...readIdx(padded.subarray(3)).data], [-3, 300]);
});

Deno.test("readIdx() rejects bad magic bytes, and spots gzip data", () => {
  const bytes = idxBytes("ubyte", [1], [1]);
  bytes[1] = 0x08;
  assert.throws(
    () => readIdx(bytes, { name: "x.idx" }),
    (e: Error) =>
      e instanceof SyntaxError && /x\.idx: bad magic: expected 0x00 0x00, got 0x00 0x08/
        .test(e.message),
  );
  assert.throws(
    () => readIdx(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0])),
    /IDX data: bad magic.*gzip data: decompress it first/,
  );
});

Deno.test("readIdx() rejects an unknown type code and lists the valid ones", () => {
  const bytes = idxBytes("ubyte", [1], [1]);
  bytes[2] = 0x0a;
  assert.throws(
    () => readIdx(bytes, { name: "odd.idx" }),
    /odd\.idx: bad type code 0x0A; valid codes are 0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double/,
  );
});

Deno.test("readIdx() rejects a header cut short and a zero dimension count", () => {
  assert.throws(() => readIdx(new Uint8Array([0, 0, 8])), /truncated header: .* got 3/);
  const bytes = idxBytes("ubyte", [2, 2], [1, 2, 3, 4]);
  assert.throws(
    () => readIdx(bytes.subarray(0, 9)),
    /truncated header: 2 dimensions need 12 header bytes, got 9/,
  );
  assert.throws(() => readIdx(new Uint8Array([0, 0, 8, 0])), /bad dimension count 0/);
});

Deno.test("readIdx() reports truncated data: expected N bytes, got M", () => {
  const bytes = idxBytes("int", [2, 3], [1, 2, 3, 4, 5, 6]);
  assert.throws(
    () => readIdx(bytes.subarray(0, bytes.length - 5), { name: "cut.idx" }),
    (e: Error) =>
      e instanceof SyntaxError &&
      e.message ===
        "readIdx: cut.idx: truncated: expected 24 bytes of data for shape [2, 3] of int, got 19",
  );
});

Deno.test("readIdx() reports data longer than its dimensions say", () => {
  const bytes = idxBytes("ubyte", [2, 2], [1, 2, 3, 4, 5]);
  assert.throws(
    () => readIdx(bytes),
    /wrong length: expected 4 bytes of data for shape \[2, 2\] of ubyte, got 5 \(1 too many\)/,
  );
});

Deno.test("readIdx() rejects input that is not a Uint8Array", () => {
  assert.throws(() => readIdx([0, 0, 8, 1] as unknown as Uint8Array), TypeError);
});

Deno.test("readIdxFile() reads plain files and gunzips files written through CompressionStream", async () => {
  await withTempDir(async (dir) => {
    const values = Array.from({ length: 2 * 28 * 28 }, (_, i) => i % 256);
    const bytes = idxBytes("ubyte", [2, 28, 28], values);
    await Deno.writeFile(`${dir}/images-idx3-ubyte`, bytes);
    await Deno.writeFile(`${dir}/images-idx3-ubyte.gz`, await gzip(bytes));
    for (const name of ["images-idx3-ubyte", "images-idx3-ubyte.gz"]) {
      const idx = await readIdxFile(`${dir}/${name}`);
      assert.deepEqual(idx.shape, [2, 28, 28], name);
      assert.deepEqual([...idx.data], values, name);
    }
    const floats = idxBytes("double", [3], [0.5, -2, 1e100]);
    await Deno.writeFile(`${dir}/d.gz`, await gzip(floats));
    const url = new URL(`${dir}/d.gz`, `file://${Deno.cwd()}/`);
    assert.deepEqual([...(await readIdxFile(url)).data], [0.5, -2, 1e100]);
  });
});

Deno.test("readIdxFile() names the file in every error", async () => {
  await withTempDir(async (dir) => {
    const cut = `${dir}/cut-idx1-ubyte.gz`;
    const bytes = idxBytes("ubyte", [10], [1, 2, 3, 4, 5, 6, 7, 8, 9, 0]);
    await Deno.writeFile(cut, await gzip(bytes.subarray(0, 12)));
    await assert.rejects(
      () => readIdxFile(cut),
      (e: Error) =>
        e instanceof SyntaxError &&
        e.message === `readIdx: ${cut}: truncated: expected 10 bytes of data for shape [10] ` +
            "of ubyte, got 4",
    );
    const corrupt = `${dir}/corrupt.gz`;
    const gz = await gzip(bytes);
    await Deno.writeFile(corrupt, gz.subarray(0, gz.length - 12));
    await assert.rejects(
      () => readIdxFile(corrupt),
      (e: Error) => e instanceof SyntaxError && e.message.includes(`${corrupt}: corrupt gzip`),
    );
    await assert.rejects(
      () => readIdxFile(`${dir}/missing.gz`),
      (e: Error) => e instanceof Deno.errors.NotFound && e.message.includes(`${dir}/missing.gz`),
    );
  });
});
