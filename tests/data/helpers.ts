/** Builders for the data tests: IDX bytes, gzip, and scratch directories under .tmp/. */

/** IDX type codes by name, as the format defines them. */
export const CODES = { ubyte: 0x08, byte: 0x09, short: 0x0b, int: 0x0c, float: 0x0d, double: 0x0e };

const BYTES = { ubyte: 1, byte: 1, short: 2, int: 4, float: 4, double: 8 };

/** The bytes of an IDX file holding `values` (row-major) of `type` with shape `dims`. */
export function idxBytes(
  type: keyof typeof CODES,
  dims: readonly number[],
  values: ArrayLike<number>,
): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + values.length * BYTES[type]);
  const view = new DataView(out.buffer);
  out[2] = CODES[type];
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d)); // big-endian by default
  for (let i = 0; i < values.length; i++) {
    const at = header + i * BYTES[type], v = values[i];
    if (type === "ubyte") view.setUint8(at, v);
    else if (type === "byte") view.setInt8(at, v);
    else if (type === "short") view.setInt16(at, v);
    else if (type === "int") view.setInt32(at, v);
    else if (type === "float") view.setFloat32(at, v);
    else view.setFloat64(at, v);
  }
  return out;
}

/** `bytes` gzipped through the runtime's CompressionStream. */
export async function gzip(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Runs `fn` with a fresh directory under .tmp/ (the only place tests may write). */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  await Deno.mkdir(".tmp", { recursive: true });
  const dir = await Deno.makeTempDir({ dir: ".tmp" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
