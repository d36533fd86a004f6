import assert from "node:assert/strict";
import { arange, deserialize, serialize, type Tensor, tensor, zeros } from "../../mod.ts";

/** A file from a header (an object, or raw text) and data bytes, as a corrupt writer might. */
function craft(
  header: unknown,
  data: ArrayLike<number> = [],
  length?: bigint,
): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(
    typeof header === "string" ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, length ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

/** The JSON header of a file, parsed. */
function headerOf(bytes: Uint8Array): Record<string, unknown> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
}

/** Bytes of little-endian values written with a DataView setter. */
function le(
  size: number,
  values: (number | bigint)[],
  set: (v: DataView, at: number, x: never) => void,
): number[] {
  const buf = new Uint8Array(size * values.length);
  const view = new DataView(buf.buffer);
  values.forEach((x, i) => set(view, i * size, x as never));
  return [...buf];
}

function sameTensor(actual: Tensor, expected: Tensor): void {
  assert.equal(actual.dtype, expected.dtype);
  assert.deepEqual(actual.shape, expected.shape);
  assert.deepEqual(actual.toArray(), expected.toArray());
}

Deno.test("serialize() and deserialize() round-trip float32, float64 and int32 bit for bit", () => {
  const tensors = {
    f32: tensor(new Float32Array([1.5, -0, NaN, Infinity, -Infinity, 1e-45]), { shape: [2, 3] }),
    f64: tensor(new Float64Array([Math.PI, -0, NaN, Number.MIN_VALUE, Number.MAX_VALUE])),
    i32: tensor(new Int32Array([-2147483648, -1, 0, 2147483647]), { shape: [2, 1, 2] }),
  };
  const { tensors: back, metadata } = deserialize(serialize(tensors));
  assert.deepEqual(Object.keys(back).sort(), ["f32", "f64", "i32"]);
  for (const name of Object.keys(tensors) as (keyof typeof tensors)[]) {
    sameTensor(back[name], tensors[name]);
  }
  assert.deepEqual(metadata, {});
});

Deno.test("serialize() and deserialize() round-trip scalars and empty tensors", () => {
  const tensors = {
    scalar: tensor(new Float64Array([2.5]), { shape: [] }),
    none: zeros([0]),
    noRows: zeros([0, 4], { dtype: "int32" }),
    noCols: zeros([3, 0], { dtype: "float64" }),
  };
  const { tensors: back } = deserialize(serialize(tensors));
  for (const [name, t] of Object.entries(tensors)) sameTensor(back[name], t);
  assert.equal(back.scalar.item(), 2.5);
  const nothing = deserialize(serialize({}));
  assert.deepEqual(nothing, { tensors: {}, metadata: {} });
});

Deno.test("serialize() writes strided views as their contiguous data", () => {
  const base = arange(24).reshape([2, 3, 4]);
  const views = {
    permuted: base.permute([2, 0, 1]),
    stepped: base.slice(2, 1, undefined, 2),
    expanded: tensor([[1], [2]]).expand([2, 3]),
    offset: base.select(0, 1),
    pending: base.add(1).mul(2),
  };
  const { tensors: back } = deserialize(serialize(views));
  for (const [name, t] of Object.entries(views)) {
    assert.deepEqual(back[name].shape, t.shape, name);
    assert.deepEqual(back[name].toNested(), t.toNested(), name);
    assert.ok(back[name].isContiguous);
  }
});

Deno.test("serialize() stores metadata strings, and deserialize() returns them", () => {
  const metadata = { format: "pt", note: 'ünïcode ✓ "quotes" \\ and\nnewlines', empty: "" };
  const back = deserialize(serialize({ x: zeros([1]) }, metadata));
  assert.deepEqual(back.metadata, metadata);
  assert.deepEqual(deserialize(serialize({}, metadata)).metadata, metadata);
});

Deno.test("serialize() pads the header to 8 bytes and aligns every tensor to its element size", () => {
  const bytes = serialize({
    a: zeros([3]),
    b: zeros([1], { dtype: "float64" }),
    c: zeros([1], { dtype: "int32" }),
    d: zeros([2], { dtype: "float64" }),
  });
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.match(text, /^\{.*\} *$/);
  assert.ok(text.trimEnd().length > n - 8);
  const header = headerOf(bytes) as Record<string, { data_offsets: number[] }>;
  // float64 first (stable), then the 4-byte dtypes in their given order
  assert.deepEqual(Object.keys(header), ["b", "d", "a", "c"]);
  assert.deepEqual(header.b.data_offsets, [0, 8]);
  assert.deepEqual(header.d.data_offsets, [8, 24]);
  assert.deepEqual(header.a.data_offsets, [24, 36]);
  assert.deepEqual(header.c.data_offsets, [36, 40]);
  assert.equal(bytes.length, 8 + n + 40);
});

Deno.test("deserialize() reads from a Uint8Array that is a window into a larger buffer", () => {
  const inner = serialize({ x: tensor([1, 2, 3]) });
  const outer = new Uint8Array(inner.length + 13);
  outer.set(inner, 5);
  const { tensors } = deserialize(outer.subarray(5, 5 + inner.length));
  assert.deepEqual([...tensors.x.toArray()], [1, 2, 3]);
});

Deno.test("deserialize() gives fresh tensors that do not share the input bytes", () => {
  const bytes = serialize({ x: tensor([1, 2]) });
  const { tensors } = deserialize(bytes);
  bytes.fill(0, bytes.length - 8);
  assert.deepEqual([...tensors.x.toArray()], [1, 2]);
});

Deno.test("serialize() rejects non-tensors, disposed tensors, bad metadata and reserved names", () => {
  assert.throws(
    () => serialize({ w: [1, 2] as unknown as Tensor }),
    { name: "TypeError", message: 'serialize: tensor "w" is an array, not a Tensor' },
  );
  assert.throws(() => serialize(null as unknown as Record<string, Tensor>), TypeError);
  const gone = zeros([2]);
  gone.dispose();
  assert.throws(() => serialize({ gone }), /serialize: tensor "gone" was disposed/);
  assert.throws(
    () => serialize({}, { epoch: 3 as unknown as string }),
    {
      name: "TypeError",
      message:
        /serialize: metadata "epoch" is the number 3; safetensors metadata values must be strings/,
    },
  );
  assert.throws(
    () => serialize({ __metadata__: zeros([1]) }),
    /"__metadata__" is reserved for metadata/,
  );
});

Deno.test("deserialize() converts PyTorch's other dtypes: F16 and BF16 to float32", () => {
  const half = [0x3e00, 0x8000, 0x7c00, 0xfc00, 0x0001, 0x03ff, 0x7bff, 0x7e00];
  const bf16 = [0x3fc0, 0xbf80, 0x7f80, 0x0001];
  const bytes = craft(
    {
      h: { dtype: "F16", shape: [8], data_offsets: [0, 16] },
      b: { dtype: "BF16", shape: [2, 2], data_offsets: [16, 24] },
    },
    [
      ...le(2, half, (v, at, x) => v.setUint16(at, x, true)),
      ...le(2, bf16, (v, at, x) => v.setUint16(at, x, true)),
    ],
  );
  const { tensors } = deserialize(bytes);
  assert.equal(tensors.h.dtype, "float32");
  assert.deepEqual(
    [...tensors.h.toArray()],
    [1.5, -0, Infinity, -Infinity, 2 ** -24, 1023 * 2 ** -24, 65504, NaN],
  );
  assert.equal(tensors.b.dtype, "float32");
  assert.deepEqual(tensors.b.shape, [2, 2]);
  assert.deepEqual([...tensors.b.toArray()], [1.5, -1, Infinity, Math.fround(2 ** -133)]);
});

Deno.test("deserialize() converts integer and BOOL dtypes to int32", () => {
  const bytes = craft(
    {
      i64: { dtype: "I64", shape: [3], data_offsets: [0, 24] },
      u64: { dtype: "U64", shape: [1], data_offsets: [24, 32] },
      u32: { dtype: "U32", shape: [1], data_offsets: [32, 36] },
      i16: { dtype: "I16", shape: [2], data_offsets: [36, 40] },
      u16: { dtype: "U16", shape: [1], data_offsets: [40, 42] },
      i8: { dtype: "I8", shape: [2], data_offsets: [42, 44] },
      u8: { dtype: "U8", shape: [2], data_offsets: [44, 46] },
      bool: { dtype: "BOOL", shape: [2], data_offsets: [46, 48] },
    },
    [
      ...le(8, [-2147483648n, -1n, 2147483647n], (v, at, x) => v.setBigInt64(at, x, true)),
      ...le(8, [7n], (v, at, x) => v.setBigUint64(at, x, true)),
      ...le(4, [2147483647], (v, at, x) => v.setUint32(at, x, true)),
      ...le(2, [-32768, 32767], (v, at, x) => v.setInt16(at, x, true)),
      ...le(2, [65535], (v, at, x) => v.setUint16(at, x, true)),
      0x80,
      0x7f,
      0,
      255,
      1,
      0,
    ],
  );
  const { tensors } = deserialize(bytes);
  const got = Object.fromEntries(
    Object.entries(tensors).map(([k, t]) => [k, [t.dtype, ...t.toArray()]]),
  );
  assert.deepEqual(got, {
    i64: ["int32", -2147483648, -1, 2147483647],
    u64: ["int32", 7],
    u32: ["int32", 2147483647],
    i16: ["int32", -32768, 32767],
    u16: ["int32", 65535],
    i8: ["int32", -128, 127],
    u8: ["int32", 0, 255],
    bool: ["int32", 1, 0],
  });
});

Deno.test("deserialize() rejects 64-bit and U32 integers outside int32, naming the element", () => {
  const i64 = craft(
    { step: { dtype: "I64", shape: [2], data_offsets: [0, 16] } },
    le(8, [1n, 2n ** 31n], (v, at, x) => v.setBigInt64(at, x, true)),
  );
  assert.throws(() => deserialize(i64, { source: "opt.safetensors" }), {
    name: "RangeError",
    message: 'deserialize: opt.safetensors: tensor "step" (I64): element 1 is 2147483648, ' +
      "outside the int32 range that adamant stores integers in",
  });
  const u32 = craft(
    { x: { dtype: "U32", shape: [1], data_offsets: [0, 4] } },
    le(4, [4294967295], (v, at, x) => v.setUint32(at, x, true)),
  );
  assert.throws(() => deserialize(u32), /tensor "x" \(U32\): element 0 is 4294967295/);
});

// ---- corrupt input: each problem has its own message ------------------------------------------

const GOOD = { x: { dtype: "F32", shape: [2], data_offsets: [0, 8] } };
const EIGHT = [0, 0, 128, 63, 0, 0, 0, 64];

Deno.test("deserialize() accepts the hand-made reference file the corrupt cases start from", () => {
  assert.deepEqual([...deserialize(craft(GOOD, EIGHT)).tensors.x.toArray()], [1, 2]);
});

Deno.test("deserialize() rejects input shorter than the header length field", () => {
  assert.throws(() => deserialize(new Uint8Array(5), { source: "a.safetensors" }), {
    name: "Error",
    message: "deserialize: a.safetensors: the data is 5 bytes long, too short for the 8-byte " +
      "header length",
  });
  assert.throws(() => deserialize(new Uint8Array(0)), /0 bytes long/);
  assert.throws(
    () => deserialize([1, 2] as unknown as Uint8Array),
    { name: "TypeError", message: /expected a Uint8Array/ },
  );
});

Deno.test("deserialize() rejects a header length beyond the file (a truncated header)", () => {
  const whole = craft(GOOD, EIGHT);
  const truncated = whole.subarray(0, 20);
  assert.throws(
    () => deserialize(truncated, { source: "cut.safetensors" }),
    /deserialize: cut\.safetensors: header length \d+ runs past the end of the data \(12 bytes follow/,
  );
  assert.throws(() => deserialize(craft(GOOD, EIGHT, 1000n)), /header length 1000 runs past/);
});

Deno.test("deserialize() rejects a header length above the 100 MB cap without allocating it", () => {
  assert.throws(
    () => deserialize(craft(GOOD, EIGHT, 2n ** 63n)),
    /header length 9223372036854775808 is above the 100000000-byte limit/,
  );
  assert.throws(() => deserialize(craft(GOOD, EIGHT, 100_000_001n)), /above the 100000000-byte/);
});

Deno.test("deserialize() rejects a header that is not JSON, not UTF-8 or not an object", () => {
  assert.throws(
    () => deserialize(craft('{"x": {"dtype": "F32",', EIGHT), { source: "b.safetensors" }),
    /deserialize: b\.safetensors: the header is not valid JSON \(/,
  );
  const bad = craft("{}      ");
  bad[9] = 0xff;
  assert.throws(() => deserialize(bad), /the header is not valid UTF-8/);
  assert.throws(
    () => deserialize(craft("[1, 2]  ")),
    /the header must be a JSON object, got an array/,
  );
  assert.throws(() => deserialize(craft("null    ")), /must be a JSON object, got null/);
});

Deno.test("deserialize() rejects an unknown dtype, listing the ones it reads", () => {
  const bytes = craft({ x: { dtype: "F8_E4M3", shape: [8], data_offsets: [0, 8] } }, EIGHT);
  assert.throws(() => deserialize(bytes, { source: "c.safetensors" }), {
    message: 'deserialize: c.safetensors: tensor "x": unknown or unsupported dtype "F8_E4M3" ' +
      "(adamant reads F64, I64, U64, F32, I32, U32, F16, BF16, I16, U16, I8, U8, BOOL)",
  });
  const missing = craft({ x: { shape: [2], data_offsets: [0, 8] } }, EIGHT);
  assert.throws(() => deserialize(missing), /tensor "x": unknown or unsupported dtype undefined/);
  const inherited = craft({ x: { dtype: "toString", shape: [2], data_offsets: [0, 8] } }, EIGHT);
  assert.throws(() => deserialize(inherited), /unsupported dtype "toString"/);
});

Deno.test("deserialize() rejects malformed shapes, offsets and entries", () => {
  const cases: [unknown, RegExp][] = [
    [{ x: 5 }, /tensor "x": expected \{ dtype, shape, data_offsets \}, got the number 5/],
    [
      { x: { dtype: "F32", shape: [-2], data_offsets: [0, 8] } },
      /tensor "x": shape must be an array of non-negative integers, got \[-2\]/,
    ],
    [
      { x: { dtype: "F32", shape: [1.5], data_offsets: [0, 8] } },
      /shape must be an array of non-negative integers, got \[1\.5\]/,
    ],
    [
      { x: { dtype: "F32", shape: [2], data_offsets: [8, 0] } },
      /tensor "x": data_offsets must be \[begin, end\] with 0 <= begin <= end, got \[8,0\]/,
    ],
    [{ x: { dtype: "F32", shape: [2], data_offsets: [0] } }, /data_offsets must be \[begin, end\]/],
    [{ __metadata__: { a: 1 } }, /__metadata__ "a" is the number 1, not a string/],
    [{ __metadata__: [] }, /__metadata__ must be an object of strings, got an array/],
  ];
  for (const [header, message] of cases) {
    assert.throws(() => deserialize(craft(header, EIGHT)), message);
  }
});

Deno.test("deserialize() rejects offsets beyond the data", () => {
  const bytes = craft({ x: { dtype: "F32", shape: [4], data_offsets: [0, 16] } }, EIGHT);
  assert.throws(() => deserialize(bytes, { source: "d.safetensors" }), {
    message: 'deserialize: d.safetensors: tensor "x": data_offsets [0, 16] run past the end ' +
      "of the data (8 bytes)",
  });
});

Deno.test("deserialize() rejects a shape whose size does not match its offsets", () => {
  const bytes = craft({ x: { dtype: "F32", shape: [3], data_offsets: [0, 8] } }, EIGHT);
  assert.throws(() => deserialize(bytes), {
    message: 'deserialize: tensor "x": shape [3] of F32 needs 12 bytes, but data_offsets ' +
      "[0, 8] hold 8",
  });
  const f64 = craft({ x: { dtype: "F64", shape: [2], data_offsets: [0, 8] } }, EIGHT);
  assert.throws(() => deserialize(f64), /shape \[2\] of F64 needs 16 bytes/);
});

Deno.test("deserialize() rejects overlapping offsets, naming both tensors", () => {
  const bytes = craft(
    {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8] },
    },
    EIGHT,
  );
  assert.throws(() => deserialize(bytes), {
    message: 'deserialize: tensors "a" [0, 8] and "b" [4, 8] overlap',
  });
  const same = craft(
    {
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "I32", shape: [2], data_offsets: [0, 8] },
    },
    EIGHT,
  );
  assert.throws(() => deserialize(same), /tensors "a" \[0, 8\] and "b" \[0, 8\] overlap/);
});

Deno.test("deserialize() rejects data bytes that no tensor covers (gaps and trailing bytes)", () => {
  const gap = craft(
    {
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      b: { dtype: "F32", shape: [0], data_offsets: [8, 8] },
    },
    EIGHT,
  );
  assert.throws(
    () => deserialize(gap),
    /data bytes \[4, 8\] before tensor "b" belong to no tensor/,
  );
  const trailing = craft({ a: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, EIGHT);
  assert.throws(
    () => deserialize(trailing),
    /data bytes \[4, 8\] at the end belong to no tensor \(the header does not describe the whole file\)/,
  );
  const late = craft({ a: { dtype: "F32", shape: [1], data_offsets: [4, 8] } }, EIGHT);
  assert.throws(() => deserialize(late), /data bytes \[0, 4\] before tensor "a"/);
});

Deno.test("deserialize() accepts null metadata, extra fields and tensors listed out of data order", () => {
  const bytes = craft(
    {
      __metadata__: null,
      b: { dtype: "F32", shape: [1], data_offsets: [4, 8], extra: true },
      a: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
      e: { dtype: "F64", shape: [0, 2], data_offsets: [8, 8] },
    },
    EIGHT,
  );
  const { tensors, metadata } = deserialize(bytes);
  assert.deepEqual(Object.keys(tensors), ["b", "a", "e"]);
  assert.deepEqual([tensors.a.item(), tensors.b.item()], [1, 2]);
  assert.deepEqual(tensors.e.shape, [0, 2]);
  assert.deepEqual(metadata, {});
});

Deno.test("deserialize() keeps a tensor named __proto__ as an ordinary entry", () => {
  const bytes = craft({ ["__proto__"]: { dtype: "F32", shape: [2], data_offsets: [0, 8] } }, EIGHT);
  const { tensors } = deserialize(bytes);
  assert.deepEqual(Object.keys(tensors), ["__proto__"]);
  assert.equal(Object.getPrototypeOf(tensors), Object.prototype);
});
