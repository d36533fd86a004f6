import assert from "node:assert/strict";
import { findViolations, type InfoGraph, type InfoModule } from "../../scripts/lint_deps.ts";

const ROOT = "file:///repo/";

/** A module at `path` with run-time imports `code` and type-only imports `types` (root-relative). */
function module(path: string, code: string[] = [], types: string[] = []): InfoModule {
  const url = (p: string) => p.includes(":") ? p : ROOT + p;
  const relative = (p: string) => p.includes(":") ? p : `../${p}`;
  return {
    specifier: url(path),
    dependencies: [
      ...code.map((p) => ({ specifier: relative(p), code: { specifier: url(p) } })),
      ...types.map((p) => ({ specifier: relative(p), type: { specifier: url(p) } })),
    ],
  };
}

function lines(graph: InfoGraph): string[] {
  return findViolations(graph, ROOT).map((v) => `${v.from} -> ${v.to} (${v.rule})`);
}

Deno.test("lint_deps: a graph that follows the layers has no violations", () => {
  const graph = {
    modules: [
      module("mod.ts", ["tensor/tensor.ts", "nn/linear.ts", "optim/adam.ts"]),
      module("tensor/tensor.ts", ["autograd/node.ts", "tensor/cpu/add.ts", "node:os"]),
      module("tensor/cpu/add.ts"),
      module("autograd/node.ts"),
      module("nn/linear.ts", ["tensor/tensor.ts", "autograd/node.ts"]),
      module("optim/adam.ts", ["tensor/tensor.ts"]),
      { specifier: "node:os" },
    ],
  };
  assert.deepEqual(lines(graph), []);
});

Deno.test("lint_deps: autograd/ importing tensor/ at run time is a violation", () => {
  const graph = {
    modules: [
      module("autograd/engine.ts", ["tensor/tensor.ts"]),
      module("tensor/tensor.ts"),
    ],
  };
  assert.deepEqual(lines(graph), [
    "autograd/engine.ts -> tensor/tensor.ts (autograd/ may import only autograd/)",
  ]);
});

Deno.test("lint_deps: a type-only import is allowed anywhere", () => {
  const graph = {
    modules: [
      module("autograd/node.ts", [], ["tensor/tensor.ts"]),
      module("tensor/tensor.ts", ["autograd/node.ts"]),
    ],
  };
  assert.deepEqual(lines(graph), []);
});

Deno.test("lint_deps: a cycle between folders is reported", () => {
  const graph = {
    modules: [
      module("tensor/tensor.ts", ["autograd/node.ts"]),
      module("autograd/node.ts", ["tensor/tensor.ts"]),
    ],
  };
  assert.deepEqual(lines(graph), [
    "autograd/node.ts -> tensor/tensor.ts (autograd/ may import only autograd/)",
    "tensor/tensor.ts -> autograd/node.ts (folder cycle: autograd/ -> tensor/ -> autograd/)",
  ]);
});

Deno.test("lint_deps: remote, npm: and jsr: imports are violations", () => {
  const graph = {
    modules: [
      module("data/loader.ts", ["https://example.com/x.ts", "npm:left-pad@1", "jsr:@std/assert"]),
    ],
  };
  const rule = "(only relative files and node: built-ins may be imported)";
  assert.deepEqual(lines(graph), [
    `data/loader.ts -> https://example.com/x.ts ${rule}`,
    `data/loader.ts -> jsr:@std/assert ${rule}`,
    `data/loader.ts -> npm:left-pad@1 ${rule}`,
  ]);
});
