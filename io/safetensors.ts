/**
 * The safetensors format: an 8-byte little-endian header length N, N bytes of JSON header
 * (padded with spaces to a multiple of 8), then the raw little-endian data of every tensor,
 * back to back. The header maps each name to `{ dtype, shape, data_offsets: [begin, end] }`
 * (offsets into the data section) and may hold `__metadata__`, a map of strings.
 *
 * Writing lays the data out by element size, largest first (stable, so names of one size
 * keep their order), as the reference implementation does: every tensor then starts at a
 * multiple of its element size, which readers that map the file without copying need. The
 * header lists the tensors in that same order.
 *
 * Reading checks everything the header claims against the bytes before it trusts it, and
 * names the source, the tensor and the problem when something does not add up.
 *
 * The pieces here (`parse`, `layout`, `assemble`, the chunk and decode helpers) are shared
 * with `checkpoint.ts`. A chunk makes its bytes only when assembled, so at most one strided
 * tensor's contiguous copy exists at a time.
 * @module
 */

import type { DType } from "../tensor/dtype.ts";
import { Tensor } from "../tensor/tensor.ts";

/** The reference implementation's cap on the header length (100 MB). */
export const MAX_HEADER_BYTES = 100_000_000;

/** Bytes per element of each dtype this module reads or writes, by its name in the file. */
export const FILE_DTYPE_BYTES: Readonly<Record<string, number>> = {
  F64: 8,
  I64: 8,
  U64: 8,
  F32: 4,
  I32: 4,
  U32: 4,
  F16: 2,
  BF16: 2,
  I16: 2,
  U16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The file's name for each adamant dtype. */
const FILE_DTYPE: Readonly<Record<DType, string>> = {
  float32: "F32",
  float64: "F64",
  int32: "I32",
};

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/**
 * A safetensors file's contents: its tensors by name and its metadata.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserialize, serialize, type SafetensorsFile, tensor } from "@adamant/core";
 * const file: SafetensorsFile = deserialize(serialize({ x: tensor([1, 2]) }, { step: "7" }));
 * assert(file.tensors.x.size === 2 && file.metadata.step === "7");
 * ```
 */
export interface SafetensorsFile {
  /** The tensors, by name, in the order the header lists them. */
  tensors: Record<string, Tensor>;
  /** The `__metadata__` strings (an empty object when the file has none). */
  metadata: Record<string, string>;
}

/**
 * Options of `deserialize`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserialize } from "@adamant/core";
 * try {
 *   deserialize(new Uint8Array(3), { source: "weights.safetensors" });
 * } catch (e) {
 *   assert((e as Error).message.includes("weights.safetensors"));
 * }
 * ```
 */
export interface DeserializeOptions {
  /** What the bytes are (a file name, say); error messages name it. */
  source?: string;
}

// ---- writing ----------------------------------------------------------------------------

/** The bytes of one chunk while it is being written, and how to let go of them. */
export interface OpenChunk {
  /** The chunk's bytes (exactly `byteLength` of them). */
  data: Uint8Array;
  /** Frees whatever `open` made (a contiguous copy of a strided tensor, say). */
  close(): void;
}

/** One named entry of the data section, whose bytes are produced only when written. */
export interface Chunk {
  /** The entry's name in the header. */
  name: string;
  /** The file's dtype name, e.g. `"F32"`. */
  dtype: string;
  /** The shape recorded in the header. */
  shape: readonly number[];
  /** The number of bytes `open` will produce. */
  byteLength: number;
  /** Produces the bytes; may throw (a disposed tensor, say). */
  open(): OpenChunk;
}

/** `"op: source: "`, the prefix of every message about one input. */
function prefix(op: string, source?: string): string {
  return source === undefined ? `${op}: ` : `${op}: ${source}: `;
}

function checkHost(op: string): void {
  if (!LITTLE_ENDIAN) {
    throw new Error(`${op}: safetensors data is little-endian and this host is big-endian`);
  }
}

/** A description of any value for an error message. */
export function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "object") {
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "bigint") return `the bigint ${value}n`;
  return `the ${typeof value} ${String(value)}`;
}

/** The bytes of a view, copied out of shared memory (file writes want a plain buffer). */
function ownBytes(view: ArrayBufferView): Uint8Array {
  const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  return bytes.buffer instanceof ArrayBuffer ? bytes : bytes.slice();
}

/**
 * The chunk of tensor `t` under `name`: its elements in row-major order, copied into a
 * contiguous buffer first when `t` is a strided view.
 */
export function tensorChunk(op: string, name: string, t: unknown): Chunk {
  if (!(t instanceof Tensor)) {
    throw new TypeError(`${op}: tensor ${JSON.stringify(name)} is ${describe(t)}, not a Tensor`);
  }
  if (t.isDisposed) {
    throw new Error(`${op}: tensor ${JSON.stringify(name)} was disposed and cannot be written`);
  }
  const dtype = FILE_DTYPE[t.dtype];
  const shape = [...t.shape];
  return {
    name,
    dtype,
    shape,
    byteLength: t.size * FILE_DTYPE_BYTES[dtype],
    open() {
      // detached first, so that a strided tensor's contiguous copy records no graph
      const d = t.requiresGrad ? t.detach() : t;
      try {
        const c = d.contiguous();
        const view = c.data.subarray(c.offset, c.offset + c.size);
        const data = ownBytes(view);
        const close = () => {
          if (c !== d) c.dispose();
          if (d !== t) d.dispose();
        };
        return { data, close };
      } catch (e) {
        if (d !== t) d.dispose();
        throw new Error(
          `${op}: tensor ${JSON.stringify(name)} could not be read: ${(e as Error).message}`,
          { cause: e },
        );
      }
    },
  };
}

/** The chunk of a raw typed array stored as a 1-D entry of file dtype `dtype`. */
export function arrayChunk(name: string, dtype: string, array: ArrayBufferView): Chunk {
  return {
    name,
    dtype,
    shape: [array.byteLength / FILE_DTYPE_BYTES[dtype]],
    byteLength: array.byteLength,
    open: () => ({ data: ownBytes(array), close() {} }),
  };
}

/** The header bytes (length field included) and the chunks in the order they follow it. */
export interface Layout {
  /** The 8-byte length, the JSON header and its padding. */
  head: Uint8Array<ArrayBuffer>;
  /** The chunks in data order. */
  chunks: Chunk[];
  /** The total file size in bytes. */
  byteLength: number;
}

/** Checks the metadata and returns its entries. */
function metadataEntries(op: string, metadata: unknown): [string, string][] {
  if (metadata === undefined) return [];
  if (metadata === null || typeof metadata !== "object" || Array.isArray(metadata)) {
    throw new TypeError(`${op}: metadata must be an object of strings, got ${describe(metadata)}`);
  }
  const entries = Object.entries(metadata);
  for (const [key, value] of entries) {
    if (typeof value !== "string") {
      throw new TypeError(
        `${op}: metadata ${JSON.stringify(key)} is ${describe(value)}; safetensors metadata ` +
          "values must be strings (JSON.stringify other values)",
      );
    }
  }
  return entries;
}

/**
 * Orders the chunks (largest element size first, stable) and writes the header that
 * describes them: the part of a file that comes before the data.
 */
export function layout(op: string, chunks: readonly Chunk[], metadata?: unknown): Layout {
  const meta = metadataEntries(op, metadata);
  const names = new Set<string>();
  for (const c of chunks) {
    if (c.name === "__metadata__") {
      throw new TypeError(
        `${op}: "__metadata__" is reserved for metadata and cannot name a tensor`,
      );
    }
    if (names.has(c.name)) throw new TypeError(`${op}: two tensors are named ${c.name}`);
    names.add(c.name);
  }
  const ordered = [...chunks].sort((a, b) => FILE_DTYPE_BYTES[b.dtype] - FILE_DTYPE_BYTES[a.dtype]);
  const parts: string[] = [];
  if (meta.length > 0) {
    const fields = meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`);
    parts.push(`"__metadata__":{${fields.join(",")}}`);
  }
  let offset = 0;
  for (const c of ordered) {
    const end = offset + c.byteLength;
    parts.push(
      `${JSON.stringify(c.name)}:{"dtype":"${c.dtype}","shape":[${c.shape.join(",")}],` +
        `"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = json.length + (8 - json.length % 8) % 8;
  const head = new Uint8Array(8 + n).fill(0x20);
  new DataView(head.buffer).setBigUint64(0, BigInt(n), true);
  head.set(json, 8);
  return { head, chunks: ordered, byteLength: head.length + offset };
}

/** Writes a layout into one buffer. */
export function assemble(layout: Layout): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(layout.byteLength);
  out.set(layout.head);
  let at = layout.head.length;
  for (const c of layout.chunks) {
    const open = c.open();
    try {
      out.set(open.data, at);
    } finally {
      open.close();
    }
    at += c.byteLength;
  }
  return out;
}

/** The chunks of a record of tensors, checking that it is one. */
export function tensorChunks(op: string, tensors: unknown): Chunk[] {
  if (tensors === null || typeof tensors !== "object" || Array.isArray(tensors)) {
    throw new TypeError(
      `${op}: tensors must be an object of Tensors by name, got ${describe(tensors)}`,
    );
  }
  return Object.entries(tensors).map(([name, t]) => tensorChunk(op, name, t));
}

/**
 * Encodes tensors (and optional string metadata) as a safetensors file. Strided views are
 * written as their contiguous data; the result loads in PyTorch, NumPy and other tools.
 *
 * @param tensors The tensors by name (float32 → F32, float64 → F64, int32 → I32).
 * @param metadata Strings to store in the header's `__metadata__`.
 * @returns The file's bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserialize, serialize, tensor } from "@adamant/core";
 * const bytes = serialize({ w: tensor([[1, 2], [3, 4]]) }, { note: "demo" });
 * const { tensors, metadata } = deserialize(bytes);
 * assert(tensors.w.toArray().join() === "1,2,3,4" && metadata.note === "demo");
 * ```
 */
export function serialize(
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array<ArrayBuffer> {
  checkHost("serialize");
  return assemble(layout("serialize", tensorChunks("serialize", tensors), metadata));
}

// ---- reading ----------------------------------------------------------------------------

/** One tensor of a parsed file: what its header says, checked against the bytes. */
export interface Entry {
  /** The tensor's name. */
  name: string;
  /** The file's dtype name, e.g. `"F32"`. */
  dtype: string;
  /** The shape. */
  shape: number[];
  /** Where its bytes start and end, as indices into the whole input. */
  begin: number;
  end: number;
}

/** A parsed and validated file: its entries in header order, metadata, and the bytes. */
export interface Parsed {
  /** The tensors' entries, in header order. */
  entries: Entry[];
  /** The metadata strings. */
  metadata: Record<string, string>;
  /** The whole input. */
  bytes: Uint8Array;
}

const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;

/**
 * Reads and checks the header of a safetensors file: the length field, the JSON, every
 * entry's dtype, shape and offsets, and that the entries tile the data section exactly.
 */
export function parse(op: string, bytes: Uint8Array, source?: string): Parsed {
  const at = prefix(op, source);
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`${at}expected a Uint8Array of file bytes, got ${describe(bytes)}`);
  }
  if (bytes.length < 8) {
    throw new Error(
      `${at}the data is ${bytes.length} bytes long, too short for the 8-byte header length`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) {
    throw new Error(
      `${at}header length ${n} is above the ${MAX_HEADER_BYTES}-byte limit ` +
        "(not a safetensors file, or a corrupt one)",
    );
  }
  const headerLength = Number(n);
  if (8 + headerLength > bytes.length) {
    throw new Error(
      `${at}header length ${headerLength} runs past the end of the data ` +
        `(${bytes.length - 8} bytes follow the length field; truncated file?)`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + headerLength));
  } catch {
    throw new Error(`${at}the header is not valid UTF-8`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    throw new Error(`${at}the header is not valid JSON (${(e as Error).message})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    throw new Error(`${at}the header must be a JSON object, got ${describe(header)}`);
  }
  const dataStart = 8 + headerLength;
  const dataLength = bytes.length - dataStart;
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") {
      metadata = readMetadata(at, info);
      continue;
    }
    entries.push(readEntry(`${at}tensor ${JSON.stringify(name)}: `, name, info, dataLength));
  }
  checkTiling(at, entries, dataLength);
  for (const e of entries) {
    e.begin += dataStart;
    e.end += dataStart;
  }
  return { entries, metadata, bytes };
}

function readMetadata(at: string, info: unknown): Record<string, string> {
  if (info === null) return {};
  if (typeof info !== "object" || Array.isArray(info)) {
    throw new Error(`${at}__metadata__ must be an object of strings, got ${describe(info)}`);
  }
  for (const [key, value] of Object.entries(info)) {
    if (typeof value !== "string") {
      throw new Error(
        `${at}__metadata__ ${JSON.stringify(key)} is ${describe(value)}, not a string`,
      );
    }
  }
  return Object.fromEntries(Object.entries(info));
}

function readEntry(at: string, name: string, info: unknown, dataLength: number): Entry {
  if (info === null || typeof info !== "object" || Array.isArray(info)) {
    throw new Error(
      `${at}expected { dtype, shape, data_offsets }, got ${describe(info)}`,
    );
  }
  const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
  if (typeof dtype !== "string" || !Object.hasOwn(FILE_DTYPE_BYTES, dtype)) {
    throw new Error(
      `${at}unknown or unsupported dtype ${JSON.stringify(dtype)} (adamant reads ` +
        `${Object.keys(FILE_DTYPE_BYTES).join(", ")})`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isCount)) {
    throw new Error(
      `${at}shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  }
  if (
    !Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) ||
    offsets[0] > offsets[1]
  ) {
    throw new Error(
      `${at}data_offsets must be [begin, end] with 0 <= begin <= end, got ${
        JSON.stringify(offsets)
      }`,
    );
  }
  const [begin, end] = offsets as number[];
  if (end > dataLength) {
    throw new Error(
      `${at}data_offsets [${begin}, ${end}] run past the end of the data (${dataLength} bytes)`,
    );
  }
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  const expected = size * FILE_DTYPE_BYTES[dtype];
  if (expected !== end - begin) {
    throw new Error(
      `${at}shape [${shape.join(", ")}] of ${dtype} needs ${expected} bytes, but data_offsets ` +
        `[${begin}, ${end}] hold ${end - begin}`,
    );
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Checks that the entries cover the data section exactly, with no overlap and no gap. */
function checkTiling(at: string, entries: readonly Entry[], dataLength: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let last: Entry | null = null;
  for (const e of sorted) {
    if (e.begin < covered) {
      throw new Error(
        `${at}tensors ${JSON.stringify(last!.name)} [${last!.begin}, ${last!.end}] and ` +
          `${JSON.stringify(e.name)} [${e.begin}, ${e.end}] overlap`,
      );
    }
    if (e.begin > covered) {
      throw new Error(
        `${at}data bytes [${covered}, ${e.begin}] before tensor ${JSON.stringify(e.name)} ` +
          "belong to no tensor",
      );
    }
    covered = e.end;
    last = e;
  }
  if (covered !== dataLength) {
    throw new Error(
      `${at}data bytes [${covered}, ${dataLength}] at the end belong to no tensor ` +
        "(the header does not describe the whole file)",
    );
  }
}

/** IEEE half-precision bits to a number. */
function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

/**
 * The tensor of one entry. F32, F64 and I32 are copied as they are; F16 and BF16 become
 * float32; the other integer types and BOOL become int32, and a value outside int32's
 * range is an error rather than a silent wrap.
 */
export function decodeEntry(op: string, e: Entry, bytes: Uint8Array, source?: string): Tensor {
  const src = bytes.subarray(e.begin, e.end);
  const view = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const native: Record<string, DType> = { F32: "float32", F64: "float64", I32: "int32" };
  const dtype: DType = native[e.dtype] ??
    (e.dtype === "F16" || e.dtype === "BF16" ? "float32" : "int32");
  const out = Tensor.empty(e.shape, dtype);
  const data = out.data;
  const n = out.size;
  const checked = (i: number, value: number | bigint): number => {
    if (value < -2147483648 || value > 2147483647) {
      out.dispose();
      throw new RangeError(
        `${prefix(op, source)}tensor ${JSON.stringify(e.name)} (${e.dtype}): element ${i} is ` +
          `${value}, outside the int32 range that adamant stores integers in`,
      );
    }
    return Number(value);
  };
  switch (e.dtype) {
    case "F32":
    case "F64":
    case "I32":
      new Uint8Array(data.buffer, data.byteOffset, src.length).set(src);
      break;
    case "F16":
      for (let i = 0; i < n; i++) data[i] = halfToNumber(view.getUint16(2 * i, true));
      break;
    case "BF16": {
      const bits = new Uint32Array(data.buffer, data.byteOffset, n);
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(2 * i, true) << 16;
      break;
    }
    case "I64":
      for (let i = 0; i < n; i++) data[i] = checked(i, view.getBigInt64(8 * i, true));
      break;
    case "U64":
      for (let i = 0; i < n; i++) data[i] = checked(i, view.getBigUint64(8 * i, true));
      break;
    case "U32":
      for (let i = 0; i < n; i++) data[i] = checked(i, view.getUint32(4 * i, true));
      break;
    case "I16":
      for (let i = 0; i < n; i++) data[i] = view.getInt16(2 * i, true);
      break;
    case "U16":
      for (let i = 0; i < n; i++) data[i] = view.getUint16(2 * i, true);
      break;
    case "I8":
      for (let i = 0; i < n; i++) data[i] = view.getInt8(i);
      break;
    case "U8":
      for (let i = 0; i < n; i++) data[i] = view.getUint8(i);
      break;
    case "BOOL":
      for (let i = 0; i < n; i++) data[i] = view.getUint8(i) === 0 ? 0 : 1;
      break;
  }
  return out;
}

/**
 * Decodes a safetensors file. Every claim of the header is checked against the bytes
 * first: a corrupt or truncated file is an Error that names the source, the tensor and
 * the problem. F32, F64 and I32 load as float32, float64 and int32; PyTorch's other
 * types convert: F16 and BF16 to float32, I64, U64, U32, I16, U16, I8, U8 and BOOL to
 * int32 (a value outside int32 is a RangeError).
 *
 * @param bytes The file's bytes.
 * @param options `source`, the name that error messages give the bytes.
 * @returns The tensors (fresh copies, in header order) and the metadata.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserialize, serialize, tensor } from "@adamant/core";
 * const bytes = serialize({ step: tensor(new Int32Array([41])) });
 * assert(deserialize(bytes).tensors.step.item() === 41);
 * ```
 */
export function deserialize(bytes: Uint8Array, options: DeserializeOptions = {}): SafetensorsFile {
  checkHost("deserialize");
  const parsed = parse("deserialize", bytes, options.source);
  return decodeAll("deserialize", parsed, options.source);
}

/** The tensors of a parsed file; on an error, those already made are disposed. */
export function decodeAll(op: string, parsed: Parsed, source?: string): SafetensorsFile {
  const made: [string, Tensor][] = [];
  try {
    for (const e of parsed.entries) made.push([e.name, decodeEntry(op, e, parsed.bytes, source)]);
  } catch (err) {
    for (const [, t] of made) t.dispose();
    throw err;
  }
  return { tensors: Object.fromEntries(made), metadata: parsed.metadata };
}
