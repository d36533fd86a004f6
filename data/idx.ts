/**
 * The IDX format of MNIST and Fashion-MNIST: two zero bytes, a type code, a dimension
 * count, one big-endian uint32 per dimension, then the elements, big-endian, row-major.
 * @module
 */

/**
 * The element type of an IDX file, by the name of its type code: `0x08` ubyte, `0x09`
 * byte, `0x0B` short, `0x0C` int, `0x0D` float, `0x0E` double.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { IdxType } from "@adamant/core";
 * const t: IdxType = "ubyte";
 * assert(t === "ubyte");
 * ```
 */
export type IdxType = "ubyte" | "byte" | "short" | "int" | "float" | "double";

/**
 * The contents of an IDX file: its element type, shape and elements (row-major, in the
 * platform's byte order).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readIdx } from "@adamant/core";
 * const idx = readIdx(new Uint8Array([0, 0, 0x08, 1, 0, 0, 0, 2, 7, 9]));
 * assert(idx.type === "ubyte" && idx.shape.join() === "2" && idx.data[1] === 9);
 * ```
 */
export interface IdxArray {
  /** The element type named by the file's type code. */
  type: IdxType;
  /** One size per dimension. */
  shape: number[];
  /** The elements, in a typed array of the element type. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

/**
 * Options of `readIdx`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type ReadIdxOptions } from "@adamant/core";
 * const options: ReadIdxOptions = { name: "labels.idx" };
 * assert(options.name === "labels.idx");
 * ```
 */
export interface ReadIdxOptions {
  /** What to call the data in error messages, such as its file name (default "IDX data"). */
  name?: string;
}

/** Each type code's element type and bytes per element. */
const TYPES: ReadonlyMap<number, readonly [IdxType, number]> = new Map([
  [0x08, ["ubyte", 1]],
  [0x09, ["byte", 1]],
  [0x0b, ["short", 2]],
  [0x0c, ["int", 4]],
  [0x0d, ["float", 4]],
  [0x0e, ["double", 8]],
]);

/** `count` big-endian elements of `type` from `bytes[at]` on, in a fresh typed array. */
function decode(type: IdxType, bytes: Uint8Array, at: number, count: number): IdxArray["data"] {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, bytes.byteLength - at);
  switch (type) {
    case "ubyte":
      return bytes.slice(at);
    case "byte":
      return new Int8Array(bytes.slice(at).buffer);
    case "short": {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(2 * i);
      return out;
    }
    case "int": {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i);
      return out;
    }
    case "float": {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i);
      return out;
    }
    case "double": {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(8 * i);
      return out;
    }
  }
}

const VALID_TYPES = "0x08 ubyte, 0x09 byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double";

function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0").toUpperCase()}`;
}

/**
 * Parses the bytes of an (uncompressed) IDX file. Malformed data throws a `SyntaxError`
 * that names the data (`options.name`) and what is wrong: the magic bytes, an unknown type
 * code, a header cut short, or data of the wrong length ("truncated: expected N bytes of
 * data, got M").
 *
 * @param bytes The whole file.
 * @param options `name` to use in error messages.
 * @returns The element type, shape and elements (a fresh array; `bytes` is not kept).
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readIdx } from "@adamant/core";
 * // type 0x0B (short), 2 dimensions: 1 x 2, then the elements -2 and 258, big-endian
 * const bytes = new Uint8Array([0, 0, 0x0b, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0xff, 0xfe, 1, 2]);
 * const { type, shape, data } = readIdx(bytes);
 * assert(type === "short" && shape.join() === "1,2" && data.join() === "-2,258");
 * ```
 */
export function readIdx(bytes: Uint8Array, options: ReadIdxOptions = {}): IdxArray {
  const name = options.name ?? "IDX data";
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError(`readIdx: ${name} must be a Uint8Array, got ${typeof bytes}`);
  }
  const fail = (what: string) => new SyntaxError(`readIdx: ${name}: ${what}`);
  if (bytes.length < 4) {
    throw fail(`truncated header: an IDX file starts with 4 bytes, got ${bytes.length}`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
    throw fail(
      `bad magic: expected 0x00 0x00, got ${hex(bytes[0])} ${hex(bytes[1])}` +
        (gzip ? " (gzip data: decompress it first, or use readIdxFile)" : " (not an IDX file?)"),
    );
  }
  const code = bytes[2], spec = TYPES.get(code);
  if (spec === undefined) {
    throw fail(`bad type code ${hex(code)}; valid codes are ${VALID_TYPES}`);
  }
  const [type, size] = spec;
  const ndim = bytes[3];
  if (ndim === 0) throw fail("bad dimension count 0; an IDX file has at least 1 dimension");
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    throw fail(
      `truncated header: ${ndim} dimensions need ${header} header bytes, got ${bytes.length}`,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    shape.push(view.getUint32(4 + 4 * d));
    count *= shape[d];
  }
  const expected = count * size, got = bytes.length - header;
  if (got < expected) {
    throw fail(
      `truncated: expected ${expected} bytes of data for shape [${shape.join(", ")}] of ` +
        `${type}, got ${got}`,
    );
  }
  if (got > expected) {
    throw fail(
      `wrong length: expected ${expected} bytes of data for shape [${shape.join(", ")}] of ` +
        `${type}, got ${got} (${got - expected} too many)`,
    );
  }
  return { type, shape, data: decode(type, bytes, header, count) };
}

/**
 * Decompresses gzip data with the runtime's `DecompressionStream`.
 *
 * @param bytes A gzip stream.
 * @returns The decompressed bytes.
 */
export async function gunzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new DecompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * Reads and parses an IDX file; gzip-compressed files (`.gz`, recognised by their first
 * two bytes 0x1F 0x8B) are decompressed with the runtime's `DecompressionStream`. Needs
 * read permission for `path`. Errors name the file.
 *
 * @param path The file.
 * @returns The element type, shape and elements.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { readIdxFile } from "@adamant/core";
 * // usage: const { shape, data } = await readIdxFile("train-labels-idx1-ubyte.gz");
 * const error = await readIdxFile("no-such-file.idx.gz").catch((e: Error) => e);
 * assert(error instanceof Error && error.message.includes("no-such-file.idx.gz"));
 * ```
 */
export async function readIdxFile(path: string | URL): Promise<IdxArray> {
  const name = path instanceof URL ? path.href : path;
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(`readIdxFile: ${name} does not exist`, { cause: e });
    }
    if (e instanceof Deno.errors.NotCapable) {
      throw new Deno.errors.NotCapable(
        `readIdxFile: no read access to ${name} (run with --allow-read=${name})`,
        { cause: e },
      );
    }
    throw e;
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = await gunzip(bytes);
    } catch (e) {
      throw new SyntaxError(
        `readIdxFile: ${name}: corrupt gzip data (${e instanceof Error ? e.message : e})`,
        { cause: e },
      );
    }
  }
  return readIdx(bytes, { name });
}
