/**
 * Checks the layer rules of DESIGN.md ("Layers") over the module graph that
 * `deno info --json` reports.
 *
 * Only run-time (`code`) dependencies count; `import type` is allowed anywhere.
 * Library code may import only relative files and `node:` built-ins, and the
 * folder-level import graph must have no cycle.
 *
 * Usage: deno run --allow-run=deno --allow-read=. scripts/lint_deps.ts
 *
 * @module
 */

/** Which folders each folder (or top-level file) may import at run time. */
export const RULES: Readonly<Record<string, readonly string[]>> = {
  tensor: ["tensor", "autograd"],
  autograd: ["autograd"],
  nn: ["tensor", "autograd", "nn"],
  optim: ["tensor", "optim"],
  data: ["tensor", "data"],
  io: ["tensor", "io"],
  parallel: ["tensor", "autograd", "nn", "optim", "data", "io", "parallel"],
  "mod.ts": ["tensor", "autograd", "nn", "optim", "data", "io", "parallel"],
};

/** Folders whose every .ts file is an entry point, besides mod.ts. */
export const FOLDERS: readonly string[] = Object.keys(RULES).filter((k) => !k.endsWith(".ts"));

/** One resolved import as `deno info --json` reports it. */
export interface InfoDependency {
  specifier: string;
  code?: { specifier?: string };
  type?: { specifier?: string };
}

/** One module as `deno info --json` reports it. */
export interface InfoModule {
  specifier: string;
  dependencies?: InfoDependency[];
}

/** The part of `deno info --json` output that the checker reads. */
export interface InfoGraph {
  modules: InfoModule[];
}

/** One broken rule: `from` imports `to` (paths relative to the root). */
export interface Violation {
  from: string;
  to: string;
  rule: string;
}

/** A run-time import between two modules, as paths relative to the root when local. */
interface Edge {
  from: string;
  to: string;
  raw: string;
}

/** The path of `specifier` relative to `root` (a directory URL ending in /), or undefined. */
function relativePath(specifier: string, root: string): string | undefined {
  return specifier.startsWith(root) ? decodeURIComponent(specifier.slice(root.length)) : undefined;
}

/** The folder a root-relative path belongs to; a top-level file is its own folder. */
export function folderOf(path: string): string {
  const slash = path.indexOf("/");
  return slash === -1 ? path : path.slice(0, slash);
}

/** Run-time imports made by the checked modules (those in a folder that RULES names). */
function runtimeEdges(graph: InfoGraph, root: string): Edge[] {
  const edges: Edge[] = [];
  for (const module of graph.modules) {
    const from = relativePath(module.specifier, root);
    if (from === undefined || !Object.hasOwn(RULES, folderOf(from))) continue;
    for (const dep of module.dependencies ?? []) {
      const target = dep.code?.specifier;
      if (target === undefined) continue; // type-only import
      edges.push({ from, to: relativePath(target, root) ?? target, raw: dep.specifier });
    }
  }
  return edges;
}

/** Whether an import is a relative file inside the root or a `node:` built-in. */
function isLocalOrNode(edge: Edge): boolean {
  if (edge.raw.startsWith("node:")) return true;
  const relative = edge.raw.startsWith("./") || edge.raw.startsWith("../");
  return relative && !edge.to.includes(":"); // outside the root, `to` stays a URL
}

/** Imports of remote, npm:, jsr:, bare or out-of-tree modules. */
function externalViolations(edges: Edge[]): Violation[] {
  return edges
    .filter((edge) => !isLocalOrNode(edge))
    .map((edge) => ({
      from: edge.from,
      to: edge.to,
      rule: "only relative files and node: built-ins may be imported",
    }));
}

/** Local imports that cross into a folder the importer's row does not name. */
function layerViolations(edges: Edge[]): Violation[] {
  const violations: Violation[] = [];
  for (const edge of edges) {
    if (edge.to.includes(":")) continue; // node: or external, judged elsewhere
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (RULES[from].includes(to)) continue;
    const allowed = RULES[from].map((f) => `${f}/`).join(", ");
    violations.push({ ...edge, rule: `${from}/ may import only ${allowed}` });
  }
  return violations;
}

/** Folder-level graph: for each folder edge, the first file-level import that makes it. */
function folderGraph(edges: Edge[]): Map<string, Map<string, Edge>> {
  const graph = new Map<string, Map<string, Edge>>();
  for (const edge of edges) {
    if (edge.to.includes(":")) continue;
    const from = folderOf(edge.from);
    const to = folderOf(edge.to);
    if (from === to) continue;
    const targets = graph.get(from) ?? new Map<string, Edge>();
    if (!targets.has(to)) targets.set(to, edge);
    graph.set(from, targets);
  }
  return graph;
}

/** One violation per back edge of a depth-first walk of the folder graph (each closes a cycle). */
function cycleViolations(edges: Edge[]): Violation[] {
  const graph = folderGraph(edges);
  const done = new Set<string>();
  const stack: string[] = [];
  const violations: Violation[] = [];
  const visit = (folder: string): void => {
    stack.push(folder);
    const targets = [...(graph.get(folder) ?? [])].sort(([a], [b]) => a.localeCompare(b));
    for (const [next, edge] of targets) {
      const at = stack.indexOf(next);
      if (at !== -1) {
        const cycle = [...stack.slice(at), next].map((f) => `${f}/`).join(" -> ");
        violations.push({ from: edge.from, to: edge.to, rule: `folder cycle: ${cycle}` });
      } else if (!done.has(next)) {
        visit(next);
      }
    }
    stack.pop();
    done.add(folder);
  };
  for (const folder of [...graph.keys()].sort()) if (!done.has(folder)) visit(folder);
  return violations;
}

/**
 * Every broken rule in `graph` (merged `deno info --json` output), sorted.
 * `root` is the repository's directory URL, ending in "/".
 */
export function findViolations(graph: InfoGraph, root: string): Violation[] {
  const edges = runtimeEdges(graph, root);
  return [
    ...externalViolations(edges),
    ...layerViolations(edges),
    ...cycleViolations(edges),
  ].sort((a, b) => `${a.from} ${a.to} ${a.rule}`.localeCompare(`${b.from} ${b.to} ${b.rule}`));
}

/** Every .ts file under `dir` (a directory URL ending in "/"); none if it does not exist. */
async function tsFiles(dir: URL): Promise<URL[]> {
  const files: URL[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
      if (entry.isDirectory) files.push(...await tsFiles(url));
      else if (entry.isFile && entry.name.endsWith(".ts")) files.push(url);
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return files;
}

/** Whether `file` exists. */
async function exists(file: URL): Promise<boolean> {
  try {
    await Deno.stat(file);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** mod.ts (first, if present) and every .ts file under the layer folders. */
async function entryPoints(root: URL): Promise<URL[]> {
  const nested = await Promise.all(FOLDERS.map((f) => tsFiles(new URL(`${f}/`, root))));
  const files = nested.flat().sort((a, b) => a.href.localeCompare(b.href));
  const mod = new URL("mod.ts", root);
  return (await exists(mod)) ? [mod, ...files] : files;
}

/** The module graph of one entry point, offline and without touching the lock file. */
async function denoInfo(entry: URL, root: URL): Promise<InfoGraph> {
  const args = ["info", "--json", "--no-lock", "--no-remote", "--no-npm", entry.href];
  const { code, stdout, stderr } = await new Deno.Command("deno", { args, cwd: root }).output();
  if (code !== 0) {
    throw new Error(`deno info ${entry.href} failed:\n${new TextDecoder().decode(stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(stdout));
}

/** One graph holding the modules of every entry point (an entry already seen is skipped). */
async function mergedGraph(entries: URL[], root: URL): Promise<InfoGraph> {
  const modules = new Map<string, InfoModule>();
  for (const entry of entries) {
    if (modules.has(entry.href)) continue;
    for (const module of (await denoInfo(entry, root)).modules) {
      modules.set(module.specifier, module);
    }
  }
  return { modules: [...modules.values()] };
}

async function main(): Promise<number> {
  const root = new URL("../", import.meta.url);
  const graph = await mergedGraph(await entryPoints(root), root);
  const violations = findViolations(graph, root.href);
  for (const v of violations) console.log(`${v.from} -> ${v.to} (${v.rule})`);
  if (violations.length > 0) {
    console.log(`lint:deps: ${violations.length} violation(s)`);
    return 1;
  }
  const local = graph.modules.filter((m) => m.specifier.startsWith(root.href)).length;
  console.log(`lint:deps: ${local} modules, no violations`);
  return 0;
}

if (import.meta.main) Deno.exit(await main());
