/**
 * Files: `save`/`load` of tensors as safetensors, and `saveCheckpoint`/`loadCheckpoint` of a
 * whole training state (model, optimizer, scheduler, generator, epoch and step).
 *
 * Saving is atomic: the file is encoded in memory when the call is made (so the state
 * saved is the state at that moment, even if training goes on before the promise
 * settles), written under a temporary name beside the target, synced to disk, then
 * renamed over the target. A crash or an error mid-write leaves the old file whole, and
 * the temporary one is removed on error.
 *
 * A checkpoint is a safetensors file too. Tensors and typed arrays go into its body under
 * dotted keys (`model.fc1.weight`, `optimizer.state.0.m`); the rest of the state goes into
 * `__metadata__` as one JSON skeleton (key `adamant.state`) in which each tensor or typed
 * array is a marker naming its key. Numbers JSON cannot hold (NaN, ±Infinity, -0) get a
 * marker too, so every number comes back bit for bit and a resumed run continues exactly.
 * @module
 */

import { Tensor } from "../tensor/tensor.ts";
import {
  arrayChunk,
  assemble,
  type Chunk,
  decodeAll,
  decodeEntry,
  describe,
  type Layout,
  layout,
  parse,
  type Parsed,
  type SafetensorsFile,
  tensorChunk,
  tensorChunks,
} from "./safetensors.ts";

/**
 * The typed arrays a checkpoint stores (each under the safetensors dtype of its elements,
 * and restored as the same class).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { CheckpointArray } from "@adamant/core";
 * const counts: CheckpointArray = new Uint32Array([1, 2]);
 * assert(counts.length === 2);
 * ```
 */
export type CheckpointArray =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | BigInt64Array
  | BigUint64Array;

/**
 * A value a checkpoint can hold: tensors and typed arrays (stored as data), numbers,
 * strings, booleans and null (stored as JSON), and arrays and plain objects of these.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CheckpointValue, zeros } from "@adamant/core";
 * const v: CheckpointValue = { weights: [zeros([2])], lr: 1e-3, name: "run1", done: false };
 * assert(typeof v === "object");
 * ```
 */
export type CheckpointValue =
  | Tensor
  | CheckpointArray
  | number
  | string
  | boolean
  | null
  | CheckpointValue[]
  | { [key: string]: CheckpointValue };

/**
 * A checkpoint's top level: a plain object of checkpoint values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type CheckpointState, tensor } from "@adamant/core";
 * const state: CheckpointState = { model: { w: tensor([1]) }, epoch: 3 };
 * assert(state.epoch === 3);
 * ```
 */
export type CheckpointState = { [key: string]: CheckpointValue };

/** Metadata key of the skeleton JSON. */
const STATE_KEY = "adamant.state";
/** Metadata key of the checkpoint format version. */
const VERSION_KEY = "adamant.checkpoint";
const VERSION = "1";

/** Each typed-array class a checkpoint stores, its name, and its safetensors dtype. */
const ARRAY_CLASSES: readonly [string, string, new (buffer: ArrayBuffer) => CheckpointArray][] = [
  ["Float32Array", "F32", Float32Array],
  ["Float64Array", "F64", Float64Array],
  ["Int32Array", "I32", Int32Array],
  ["Uint32Array", "U32", Uint32Array],
  ["Int16Array", "I16", Int16Array],
  ["Uint16Array", "U16", Uint16Array],
  ["Int8Array", "I8", Int8Array],
  ["Uint8Array", "U8", Uint8Array],
  ["Uint8ClampedArray", "U8", Uint8ClampedArray],
  ["BigInt64Array", "I64", BigInt64Array],
  ["BigUint64Array", "U64", BigUint64Array],
];

// ---- atomic files -------------------------------------------------------------------------

async function writeAll(file: Deno.FsFile, data: Uint8Array): Promise<void> {
  for (let at = 0; at < data.length;) at += await file.write(data.subarray(at));
}

function randomSuffix(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes `bytes` to `path` atomically: a temporary file beside it, fsync, close, rename.
 * On any error the temporary file is removed and the error passed on.
 */
async function writeAtomic(op: string, path: string | URL, bytes: Uint8Array): Promise<void> {
  const tmp = path instanceof URL
    ? new URL(`${path.href}.tmp-${randomSuffix()}`)
    : `${path}.tmp-${randomSuffix()}`;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(tmp, { write: true, createNew: true });
  } catch (e) {
    throw new Error(`${op}: could not create ${tmp}: ${(e as Error).message}`, { cause: e });
  }
  let open = true;
  let done = false;
  try {
    await writeAll(file, bytes);
    await file.sync();
    open = false;
    file.close();
    try {
      await Deno.rename(tmp, path);
    } catch (e) {
      const message = `${op}: could not move the written file onto ${path}`;
      throw new Error(`${message}: ${(e as Error).message}`, { cause: e });
    }
    done = true;
  } finally {
    if (open) file.close();
    if (!done) await Deno.remove(tmp).catch(() => {});
  }
}

async function readFile(op: string, path: string | URL): Promise<Uint8Array> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    throw new Error(`${op}: could not read ${path}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Writes tensors (and optional string metadata) to a safetensors file, atomically: the
 * data goes to a temporary file in the same folder, is synced to disk, and only then
 * renamed over `path`. The file holds the values the tensors had when `save` was called,
 * even if they change before the promise settles (the file is encoded in memory first). If anything fails, `path` keeps its old contents and the
 * temporary file is removed. Needs read and write permission for the folder (Deno's
 * rename asks for both).
 *
 * @param path The file to write.
 * @param tensors The tensors by name.
 * @param metadata Strings to store in the header's `__metadata__`.
 * @returns A promise that resolves once the file is in place.
 * @example
 * ```ts ignore
 * import { load, save, tensor } from "@adamant/core";
 * await save("weights.safetensors", { w: tensor([[1, 2], [3, 4]]) }, { epoch: "3" });
 * const { tensors, metadata } = await load("weights.safetensors");
 * console.assert(tensors.w.shape.join() === "2,2" && metadata.epoch === "3");
 * ```
 */
export async function save(
  path: string | URL,
  tensors: Record<string, Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  // encoded before the first await: the file holds the values as they were at the call
  const bytes = assemble(layout("save", tensorChunks("save", tensors), metadata));
  await writeAtomic("save", path, bytes);
}

/**
 * Reads a safetensors file (written by adamant, PyTorch, or any other tool). See
 * `deserialize` for the checks made and the dtypes converted.
 *
 * @param path The file to read.
 * @returns A promise of the tensors by name and the metadata.
 * @example
 * ```ts ignore
 * import { load } from "@adamant/core";
 * const { tensors } = await load("model.safetensors");
 * for (const [name, t] of Object.entries(tensors)) console.log(name, t.shape);
 * ```
 */
export async function load(path: string | URL): Promise<SafetensorsFile> {
  const bytes = await readFile("load", path);
  return decodeAll("load", parse("load", bytes, String(path)), String(path));
}

// ---- checkpoints ----------------------------------------------------------------------------

/** JSON as the skeleton holds it. */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/** The chunks and skeleton of a state: tensors and typed arrays out, markers in. */
function flatten(op: string, state: unknown): { chunks: Chunk[]; skeleton: Json } {
  if (state === null || typeof state !== "object" || !isPlainObject(state)) {
    throw new TypeError(`${op}: the state must be a plain object, got ${describe(state)}`);
  }
  const chunks: Chunk[] = [];
  const keys = new Map<string, string>();
  const tensorKeys = new Map<Tensor, string>();
  const open = new Set<object>();
  const claim = (key: string, where: string): void => {
    const other = keys.get(key);
    if (other !== undefined) {
      throw new TypeError(
        `${op}: ${other} and ${where} would both be stored under the key ${JSON.stringify(key)}; ` +
          "rename one of them",
      );
    }
    keys.set(key, where);
  };
  const walk = (value: unknown, path: string[]): Json => {
    const where = ["state", ...path].join(".");
    const key = path.join(".");
    if (value === null || typeof value === "string" || typeof value === "boolean") return value;
    if (typeof value === "number") {
      if (Object.is(value, -0)) return { $number: "-0" };
      return Number.isFinite(value) ? value : { $number: String(value) };
    }
    if (value instanceof Tensor) {
      const seen = tensorKeys.get(value);
      if (seen !== undefined) return { $tensor: seen };
      claim(key, where);
      tensorKeys.set(value, key);
      chunks.push(tensorChunk(op, key, value));
      return value.requiresGrad ? { $tensor: key, requiresGrad: true } : { $tensor: key };
    }
    if (typeof value === "object" && ArrayBuffer.isView(value)) {
      const cls = ARRAY_CLASSES.find(([, , ctor]) => value instanceof ctor);
      if (cls === undefined) {
        throw new TypeError(
          `${op}: ${where} is ${describe(value)}; checkpoints store ` +
            `${ARRAY_CLASSES.map(([name]) => name).join(", ")}`,
        );
      }
      claim(key, where);
      chunks.push(arrayChunk(key, cls[1], value));
      return { $array: cls[0], key };
    }
    if (typeof value === "object" && (Array.isArray(value) || isPlainObject(value))) {
      if (open.has(value)) throw new TypeError(`${op}: ${where} refers back to itself (a cycle)`);
      open.add(value);
      let out: Json;
      if (Array.isArray(value)) {
        out = [];
        for (let i = 0; i < value.length; i++) out.push(walk(value[i], [...path, String(i)]));
      } else {
        const entries = Object.entries(value).map(([k, v]) => [k, walk(v, [...path, k])]);
        out = Object.fromEntries(entries);
        if (Object.keys(value).some((k) => k.startsWith("$"))) out = { $object: out };
      }
      open.delete(value);
      return out;
    }
    throw new TypeError(
      `${op}: ${where} is ${describe(value)}; a checkpoint holds Tensors, typed arrays, ` +
        "numbers, strings, booleans, null, and arrays and plain objects of these",
    );
  };
  return { chunks, skeleton: walk(state, []) };
}

function checkpointLayout(op: string, state: object): Layout {
  const { chunks, skeleton } = flatten(op, state);
  return layout(op, chunks, { [VERSION_KEY]: VERSION, [STATE_KEY]: JSON.stringify(skeleton) });
}

/** Rebuilds the state of a parsed checkpoint file. */
function unflatten(op: string, parsed: Parsed, source?: string): CheckpointState {
  const at = source === undefined ? `${op}: ` : `${op}: ${source}: `;
  const version = parsed.metadata[VERSION_KEY];
  const text = parsed.metadata[STATE_KEY];
  if (text === undefined) {
    throw new Error(
      `${at}not an adamant checkpoint (its metadata has no ${JSON.stringify(STATE_KEY)}); ` +
        "read plain safetensors files with load() or deserialize()",
    );
  }
  if (version !== VERSION) {
    throw new Error(
      `${at}checkpoint format version ${JSON.stringify(version)} is not supported ` +
        `(this adamant reads version ${VERSION})`,
    );
  }
  let skeleton: Json;
  try {
    skeleton = JSON.parse(text);
  } catch (e) {
    throw new Error(`${at}the ${STATE_KEY} metadata is not valid JSON (${(e as Error).message})`);
  }
  const entries = new Map(parsed.entries.map((e) => [e.name, e]));
  const tensors = new Map<string, Tensor>();
  const made: Tensor[] = [];
  const entry = (key: unknown, where: string) => {
    const e = typeof key === "string" ? entries.get(key) : undefined;
    if (e === undefined) {
      throw new Error(`${at}${where} refers to ${JSON.stringify(key)}, which the file lacks`);
    }
    return e;
  };
  const build = (node: Json, path: string[]): CheckpointValue => {
    const where = ["state", ...path].join(".");
    if (node === null || typeof node !== "object") return node;
    if (Array.isArray(node)) return node.map((v, i) => build(v, [...path, String(i)]));
    if ("$number" in node) {
      const s = node.$number;
      if (s === "NaN" || s === "Infinity" || s === "-Infinity" || s === "-0") return Number(s);
      throw new Error(`${at}${where}: bad number marker ${JSON.stringify(s)}`);
    }
    if ("$tensor" in node) {
      const key = node.$tensor as string;
      let t = tensors.get(key);
      if (t === undefined) {
        t = decodeEntry(op, entry(key, where), parsed.bytes, source);
        made.push(t);
        if (node.requiresGrad === true) t.requiresGrad = true;
        tensors.set(key, t);
      }
      return t;
    }
    if ("$array" in node) {
      const cls = ARRAY_CLASSES.find(([name]) => name === node.$array);
      const e = entry(node.key, where);
      if (cls === undefined || cls[1] !== e.dtype || e.shape.length !== 1) {
        throw new Error(
          `${at}${where}: a ${String(node.$array)} cannot be read from ${
            JSON.stringify(e.name)
          } (${e.dtype}, shape [${e.shape.join(", ")}])`,
        );
      }
      // a copy into a fresh buffer, which is aligned whatever the file's offsets
      return new cls[2](parsed.bytes.slice(e.begin, e.end).buffer);
    }
    const inner = "$object" in node ? node.$object : node;
    if (inner === null || typeof inner !== "object" || Array.isArray(inner)) {
      throw new Error(`${at}${where}: bad object marker`);
    }
    return Object.fromEntries(Object.entries(inner).map(([k, v]) => [k, build(v, [...path, k])]));
  };
  try {
    const state = build(skeleton, []);
    if (state === null || typeof state !== "object" || Array.isArray(state)) {
      throw new Error(`${at}the ${STATE_KEY} metadata is not an object`);
    }
    return state as CheckpointState;
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

/**
 * Encodes a training state as a checkpoint (a safetensors file): the in-memory form of
 * `saveCheckpoint`.
 *
 * @param state A plain object whose leaves are checkpoint values (see `CheckpointValue`).
 * @returns The file's bytes.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializeCheckpoint, serializeCheckpoint, tensor } from "@adamant/core";
 * const bytes = serializeCheckpoint({ model: { w: tensor([1, 2]) }, step: 10 });
 * const state = deserializeCheckpoint(bytes);
 * assert(state.step === 10);
 * ```
 */
export function serializeCheckpoint(state: object): Uint8Array<ArrayBuffer> {
  return assemble(checkpointLayout("serializeCheckpoint", state));
}

/**
 * Decodes a checkpoint made by `serializeCheckpoint` or `saveCheckpoint`, rebuilding the
 * same structure: tensors as tensors (with `requiresGrad` as saved, and one tensor for
 * every place that held the same tensor), typed arrays as the same class, the rest as it
 * was.
 *
 * @param bytes The file's bytes.
 * @param options `source`, the name that error messages give the bytes.
 * @returns The state.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { deserializeCheckpoint, serializeCheckpoint } from "@adamant/core";
 * const state = deserializeCheckpoint(serializeCheckpoint({ seed: new Uint32Array([7]) }));
 * assert(state.seed instanceof Uint32Array);
 * ```
 */
export function deserializeCheckpoint(
  bytes: Uint8Array,
  options: { source?: string } = {},
): CheckpointState {
  const op = "deserializeCheckpoint";
  return unflatten(op, parse(op, bytes, options.source), options.source);
}

/**
 * Saves a training state atomically (see `save`) as a safetensors checkpoint: tensors and
 * typed arrays in the body under dotted keys such as `model.fc1.weight`, everything else
 * in the metadata as JSON. The values are captured when the call is made.
 *
 * @param path The file to write.
 * @param state A plain object whose leaves are checkpoint values (see `CheckpointValue`).
 * @returns A promise that resolves once the file is in place.
 * @example
 * ```ts ignore
 * import { defaultGenerator, loadCheckpoint, saveCheckpoint, tensor } from "@adamant/core";
 * const w = tensor([[0.5, -1]], { requiresGrad: true });
 * await saveCheckpoint("run.ckpt.safetensors", {
 *   model: { "fc.weight": w },
 *   generator: defaultGenerator.getState(),
 *   epoch: 3,
 * });
 * const state = await loadCheckpoint("run.ckpt.safetensors");
 * console.assert(state.epoch === 3);
 * ```
 */
export async function saveCheckpoint(path: string | URL, state: object): Promise<void> {
  const bytes = assemble(checkpointLayout("saveCheckpoint", state));
  await writeAtomic("saveCheckpoint", path, bytes);
}

/**
 * Loads a checkpoint written by `saveCheckpoint`, rebuilding the saved structure (see
 * `deserializeCheckpoint`).
 *
 * @param path The file to read.
 * @returns A promise of the state.
 * @example
 * ```ts ignore
 * import { loadCheckpoint, type Tensor } from "@adamant/core";
 * const state = await loadCheckpoint("run.ckpt.safetensors");
 * const model = state.model as Record<string, Tensor>;
 * console.assert(model["fc.weight"].requiresGrad);
 * ```
 */
export async function loadCheckpoint(path: string | URL): Promise<CheckpointState> {
  const op = "loadCheckpoint";
  const bytes = await readFile(op, path);
  return unflatten(op, parse(op, bytes, String(path)), String(path));
}
