/**
 * Safetensors against PyTorch 1.13, both ways (tests/fixtures/gen_safetensors.py):
 * adamant reads the file PyTorch wrote, and still writes, byte for byte, the files whose
 * contents PyTorch checked.
 */

import assert from "node:assert/strict";
import {
  deserialize,
  deserializeCheckpoint,
  load,
  serialize,
  serializeCheckpoint,
} from "../../mod.ts";
import { adamantCheckpoint, adamantTensors, FIXTURE_METADATA } from "./adamant_fixture.ts";

const fixture = (name: string) => new URL(`../fixtures/${name}`, import.meta.url);

interface Expected {
  file_dtype: string;
  dtype: string;
  shape: number[];
  data: (number | string)[];
}

interface Fixture {
  torch: string;
  torch_file: {
    sha256: string;
    metadata: Record<string, string>;
    tensors: Record<string, Expected>;
  };
  adamant_files: Record<string, { sha256: string; checks: Record<string, boolean> }> & {
    verified_with: string;
  };
}

const FIXTURE: Fixture = JSON.parse(await Deno.readTextFile(fixture("safetensors.json")));

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("load() reads PyTorch's file: every dtype, shape and value, and the metadata", async () => {
  const bytes = await Deno.readFile(fixture("torch.safetensors"));
  assert.equal(await sha256(bytes), FIXTURE.torch_file.sha256, "torch.safetensors changed");
  const { tensors, metadata } = await load(fixture("torch.safetensors"));
  assert.deepEqual(metadata, FIXTURE.torch_file.metadata);
  assert.deepEqual(Object.keys(tensors).sort(), Object.keys(FIXTURE.torch_file.tensors).sort());
  const dtypes = new Set<string>();
  for (const [name, want] of Object.entries(FIXTURE.torch_file.tensors)) {
    const t = tensors[name];
    dtypes.add(want.file_dtype);
    assert.equal(t.dtype, want.dtype, name);
    assert.deepEqual(t.shape, want.shape, name);
    assert.deepEqual([...t.toArray()], want.data.map(Number), name);
  }
  assert.deepEqual([...dtypes].sort(), [
    "BF16",
    "BOOL",
    "F16",
    "F32",
    "F64",
    "I16",
    "I32",
    "I64",
    "I8",
    "U8",
  ]);
});

Deno.test("PyTorch verified every check of the files adamant wrote", () => {
  assert.match(FIXTURE.adamant_files.verified_with, /^torch /);
  for (const file of ["adamant.safetensors", "adamant_checkpoint.safetensors"]) {
    const checks = FIXTURE.adamant_files[file].checks;
    assert.ok(Object.keys(checks).length >= 10, file);
    for (const [check, ok] of Object.entries(checks)) assert.equal(ok, true, `${file}: ${check}`);
  }
});

Deno.test("serialize() still writes exactly the bytes PyTorch verified", async () => {
  const committed = await Deno.readFile(fixture("adamant.safetensors"));
  assert.equal(await sha256(committed), FIXTURE.adamant_files["adamant.safetensors"].sha256);
  const bytes = serialize(adamantTensors(), FIXTURE_METADATA);
  assert.deepEqual(bytes, committed);
  const back = deserialize(committed);
  assert.deepEqual(back.metadata, FIXTURE_METADATA);
  assert.deepEqual(back.tensors.weight_t.toNested(), adamantTensors().weight_t.toNested());
});

Deno.test("serializeCheckpoint() still writes exactly the checkpoint PyTorch verified", async () => {
  const committed = await Deno.readFile(fixture("adamant_checkpoint.safetensors"));
  assert.equal(
    await sha256(committed),
    FIXTURE.adamant_files["adamant_checkpoint.safetensors"].sha256,
  );
  assert.deepEqual(serializeCheckpoint(adamantCheckpoint()), committed);
  const state = deserializeCheckpoint(committed);
  assert.equal(state.epoch, 3);
  assert.equal(state.best, Infinity);
  assert.deepEqual(state.counts, new Uint32Array([0, 4294967295]));
});
