/**
 * The files adamant writes for PyTorch to check. tests/fixtures/gen_safetensors.py runs
 * this module to write tests/fixtures/adamant.safetensors and
 * tests/fixtures/adamant_checkpoint.safetensors, rebuilds the same values in PyTorch from
 * the same formulas, checks the files against them, and records the result;
 * safetensors_torch_test.ts checks that adamant still writes exactly those bytes.
 *
 * Every value is exact in both languages (quarters, thirds correctly rounded, int32
 * bounds, float32 specials), so equality is bit for bit.
 *
 * Usage: deno run --allow-read=tests/fixtures --allow-write=tests/fixtures \
 *    tests/io/adamant_fixture.ts tests/fixtures
 * @module
 */

import { save, saveCheckpoint, type Tensor, tensor } from "../../mod.ts";

/** The metadata of adamant.safetensors (non-ASCII and quotes on purpose). */
export const FIXTURE_METADATA: Record<string, string> = {
  format: "pt",
  source: "adamant",
  note: 'héllo ✓ "quoted"',
};

/** The tensors of adamant.safetensors; gen_safetensors.py builds the same in PyTorch. */
export function adamantTensors(): Record<string, Tensor> {
  const weight = tensor(Float32Array.from({ length: 12 }, (_, i) => (i - 5.5) / 4), {
    shape: [3, 4],
  });
  const thirds = tensor(Float64Array.from({ length: 10 }, (_, i) => i / 3));
  return {
    weight,
    weight_t: weight.T,
    every_other: thirds.slice(0, 0, undefined, 2),
    ids: tensor(new Int32Array([-2147483648, -1, 0, 1, 2147483647])),
    expanded: tensor(new Int32Array([7, 8, 9]), { shape: [1, 3] }).expand([2, 3]),
    scalar: tensor(new Float32Array([0.1]), { shape: [] }),
    empty: tensor(new Float32Array(0), { shape: [0, 3] }),
    specials: tensor(new Float32Array([NaN, Infinity, -Infinity, -0, 1e-45])),
  };
}

/** The training state of adamant_checkpoint.safetensors. */
export function adamantCheckpoint(): Record<string, unknown> {
  const w = tensor(Float32Array.from({ length: 6 }, (_, i) => (i - 2) / 8), { shape: [2, 3] });
  w.requiresGrad = true;
  return {
    model: { "fc1.weight": w, "fc1.bias": tensor(new Float32Array([0.5, -0.5])) },
    optimizer: {
      state: [{
        step: 2,
        m: tensor(new Float32Array([0.5, -0.25, 0.125, 0, 1, -1]), { shape: [2, 3] }),
        v: tensor(new Float64Array([1 / 3, 2 / 3])),
      }],
      paramGroups: [{ lr: 0.001, betas: [0.9, 0.999], eps: 1e-8, params: [0, 1] }],
    },
    scheduler: { lastEpoch: 2, baseLrs: [0.001] },
    generator: [1, 2, 3, 4, NaN],
    counts: new Uint32Array([0, 4294967295]),
    epoch: 3,
    best: Infinity,
    name: "run 1",
    done: false,
    parent: null,
  };
}

if (import.meta.main) {
  const dir = Deno.args[0] ?? "tests/fixtures";
  await save(`${dir}/adamant.safetensors`, adamantTensors(), FIXTURE_METADATA);
  await saveCheckpoint(`${dir}/adamant_checkpoint.safetensors`, adamantCheckpoint());
}
