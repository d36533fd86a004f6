/**
 * `Module`: the base class of layers and models. A module owns parameters (leaf tensors
 * that require grad), buffers (state that is saved but not trained, such as running
 * statistics) and sub-modules, each registered by name in its constructor.
 * @module
 */

import { noGrad } from "../autograd/grad_mode.ts";
import { type Device, isDevice } from "../tensor/device.ts";
import { fmt } from "../tensor/shape.ts";
import { keep } from "../tensor/scope.ts";
import { Tensor } from "../tensor/tensor.ts";

/**
 * Parameters and buffers by dotted name (`"0.weight"`, `"fc1.bias"`), as `stateDict()`
 * returns them and `loadStateDict()` takes them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, type StateDict } from "@adamant/core";
 * const dict: StateDict = new Linear(2, 3).stateDict();
 * assert.equal(Object.keys(dict).join(), "weight,bias");
 * ```
 */
export type StateDict = Record<string, Tensor>;

/**
 * Options of `Module.loadStateDict`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear } from "@adamant/core";
 * const model = new Linear(2, 3);
 * const { missingKeys } = model.loadStateDict({}, { strict: false });
 * assert.equal(missingKeys.join(), "weight,bias");
 * ```
 */
export interface LoadStateDictOptions {
  /**
   * Throw when the dictionary lacks a key of the module or has a key the module lacks
   * (default true). A shape mismatch throws either way.
   */
  strict?: boolean;
}

/**
 * What `Module.loadStateDict` found: the module's keys absent from the dictionary and the
 * dictionary's keys that the module does not have.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, type LoadStateDictResult } from "@adamant/core";
 * const model = new Linear(2, 3);
 * const result: LoadStateDictResult = model.loadStateDict(model.stateDict());
 * assert(result.missingKeys.length === 0 && result.unexpectedKeys.length === 0);
 * ```
 */
export interface LoadStateDictResult {
  /** Keys of the module that the dictionary lacks (left unchanged). */
  missingKeys: string[];
  /** Keys of the dictionary that the module lacks (ignored). */
  unexpectedKeys: string[];
}

/**
 * Options of `Module.zeroGrad`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear } from "@adamant/core";
 * const model = new Linear(2, 1);
 * model.zeroGrad({ setToNone: true });
 * assert.equal(model.weight.grad, null);
 * ```
 */
export interface ZeroGradOptions {
  /**
   * Drop the gradients (`grad = null`) instead of zeroing them in place. The default is
   * false, as in PyTorch 1.13: zeroing in place keeps each gradient's buffer for reuse.
   */
  setToNone?: boolean;
}

/**
 * The base class of every layer and model. A subclass registers its parameters, buffers
 * and sub-modules by name in its constructor (`registerParameter`, `registerBuffer`,
 * `registerModule`; each returns what it registered, so it can be kept in a field), and
 * implements `forward`. Registration is explicit, not discovered from fields: names and
 * their order are exactly what the constructor says, which fixes the order of
 * `parameters()` and the keys of `stateDict()`.
 *
 * TypeScript classes are not callable, so a module is applied with `module.forward(x)`
 * (PyTorch's `module(x)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, Module, tensor, type Tensor } from "@adamant/core";
 *
 * class Mlp extends Module {
 *   readonly fc1: Linear;
 *   readonly fc2: Linear;
 *   constructor() {
 *     super();
 *     this.fc1 = this.registerModule("fc1", new Linear(2, 8));
 *     this.fc2 = this.registerModule("fc2", new Linear(8, 1));
 *   }
 *   override forward(x: Tensor): Tensor {
 *     return this.fc2.forward(this.fc1.forward(x).relu());
 *   }
 * }
 *
 * const model = new Mlp();
 * const names = model.namedParameters().map(([name]) => name);
 * assert.equal(names.join(), "fc1.weight,fc1.bias,fc2.weight,fc2.bias");
 * assert.equal(model.forward(tensor([[1, 2]])).shape.join(), "1,1");
 * ```
 */
export abstract class Module {
  /** Whether the module is in training mode (see `train` and `eval`); true when created. */
  training = true;
  readonly #parameters = new Map<string, Tensor>();
  readonly #buffers = new Map<string, Tensor>();
  readonly #modules = new Map<string, Module>();

  /**
   * Computes the module's output. Call it directly: `module.forward(x)`.
   *
   * @param inputs The inputs.
   * @returns The output.
   */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Throws unless `name` is a valid name that this module does not use yet. */
  #checkName(what: string, name: string): void {
    if (typeof name !== "string" || name === "" || name.includes(".")) {
      throw new RangeError(
        `${what}: name must be a non-empty string without ".", got ${JSON.stringify(name)}`,
      );
    }
    if (this.#parameters.has(name) || this.#buffers.has(name) || this.#modules.has(name)) {
      throw new Error(`${what}: ${this.constructor.name} already has a member named "${name}"`);
    }
  }

  /**
   * Registers a parameter: a floating leaf tensor, which gets `requiresGrad = true`.
   *
   * @param name The name, unique within this module and without ".".
   * @param value The tensor.
   * @returns `value`, so it can be kept in a field.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Module, ones, type Tensor } from "@adamant/core";
   * class Scale extends Module {
   *   readonly scale = this.registerParameter("scale", ones([1]));
   *   override forward(x: Tensor): Tensor {
   *     return x.mul(this.scale);
   *   }
   * }
   * assert(new Scale().parameters()[0].requiresGrad);
   * ```
   */
  registerParameter(name: string, value: Tensor): Tensor {
    this.#checkName("registerParameter", name);
    if (!(value instanceof Tensor)) {
      throw new TypeError(`registerParameter: "${name}" must be a Tensor, got ${typeof value}`);
    }
    if (!value.isLeaf) {
      throw new TypeError(
        `registerParameter: "${name}" is the result of an op, not a leaf; register a ` +
          "detached copy (.detach().clone())",
      );
    }
    value.requiresGrad = true; // throws for an int32 tensor
    this.#parameters.set(name, keep(value));
    return value;
  }

  /**
   * Registers a buffer: a tensor saved in `stateDict()` but not trained (running
   * statistics, for instance). Update it in place so that its identity is kept.
   *
   * @param name The name, unique within this module and without ".".
   * @param value The tensor.
   * @returns `value`, so it can be kept in a field.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Module, type Tensor, zeros } from "@adamant/core";
   * class Counter extends Module {
   *   readonly seen = this.registerBuffer("seen", zeros([1]));
   *   override forward(x: Tensor): Tensor {
   *     this.seen.addInPlace(1);
   *     return x;
   *   }
   * }
   * assert.equal(Object.keys(new Counter().stateDict()).join(), "seen");
   * ```
   */
  registerBuffer(name: string, value: Tensor): Tensor {
    this.#checkName("registerBuffer", name);
    if (!(value instanceof Tensor)) {
      throw new TypeError(`registerBuffer: "${name}" must be a Tensor, got ${typeof value}`);
    }
    this.#buffers.set(name, keep(value));
    return value;
  }

  /**
   * Registers a sub-module; its parameters appear under `name.` in this module's.
   *
   * @param name The name, unique within this module and without ".".
   * @param module The sub-module.
   * @returns `module`, so it can be kept in a field.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, Module, type Tensor } from "@adamant/core";
   * class Wrapper extends Module {
   *   readonly inner = this.registerModule("inner", new Linear(2, 2));
   *   override forward(x: Tensor): Tensor {
   *     return this.inner.forward(x);
   *   }
   * }
   * assert.equal(new Wrapper().namedParameters()[0][0], "inner.weight");
   * ```
   */
  registerModule<M extends Module>(name: string, module: M): M {
    this.#checkName("registerModule", name);
    if (!(module instanceof Module)) {
      throw new TypeError(`registerModule: "${name}" must be a Module, got ${typeof module}`);
    }
    this.#modules.set(name, module);
    return module;
  }

  /**
   * Every parameter of this module and its sub-modules, each once, in registration order
   * (the module's own first, then each sub-module's, depth first).
   *
   * @returns The parameters.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear } from "@adamant/core";
   * assert.equal(new Linear(3, 2).parameters().length, 2);
   * ```
   */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /**
   * Every parameter with its dotted name (`"0.weight"`, `"fc1.bias"`), each tensor once
   * even when shared between sub-modules (under the first name found).
   *
   * @returns `[name, parameter]` pairs in the order of `parameters()`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, ReLU, Sequential } from "@adamant/core";
   * const model = new Sequential(new Linear(2, 4), new ReLU(), new Linear(4, 1));
   * const names = model.namedParameters().map(([name]) => name).join();
   * assert.equal(names, "0.weight,0.bias,2.weight,2.bias");
   * ```
   */
  namedParameters(): [string, Tensor][] {
    return this.#collect((m) => m.#parameters);
  }

  /**
   * Every buffer of this module and its sub-modules, each once.
   *
   * @returns The buffers.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BatchNorm1d } from "@adamant/core";
   * assert.equal(new BatchNorm1d(3).buffers().length, 3);
   * ```
   */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * Every buffer with its dotted name.
   *
   * @returns `[name, buffer]` pairs.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BatchNorm1d } from "@adamant/core";
   * const names = new BatchNorm1d(3).namedBuffers().map(([name]) => name).join();
   * assert.equal(names, "runningMean,runningVar,numBatchesTracked");
   * ```
   */
  namedBuffers(): [string, Tensor][] {
    return this.#collect((m) => m.#buffers);
  }

  /**
   * The direct sub-modules, in registration order.
   *
   * @returns The children.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, ReLU, Sequential } from "@adamant/core";
   * assert.equal(new Sequential(new Linear(2, 2), new ReLU()).children().length, 2);
   * ```
   */
  children(): Module[] {
    return [...this.#modules.values()];
  }

  /**
   * The direct sub-modules with their names.
   *
   * @returns `[name, module]` pairs.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, Sequential } from "@adamant/core";
   * assert.equal(new Sequential(new Linear(2, 2)).namedChildren()[0][0], "0");
   * ```
   */
  namedChildren(): [string, Module][] {
    return [...this.#modules.entries()];
  }

  /**
   * This module and every module below it, each once, depth first (this one first).
   *
   * @returns The modules.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, ReLU, Sequential } from "@adamant/core";
   * assert.equal(new Sequential(new Linear(2, 2), new ReLU()).modules().length, 3);
   * ```
   */
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /**
   * This module (named `""`) and every module below it with its dotted name.
   *
   * @returns `[name, module]` pairs, depth first.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, Sequential } from "@adamant/core";
   * const inner = new Sequential(new Linear(2, 2));
   * const names = new Sequential(inner).namedModules().map(([name]) => name);
   * assert.equal(JSON.stringify(names), '["","0","0.0"]');
   * ```
   */
  namedModules(): [string, Module][] {
    const out: [string, Module][] = [];
    const seen = new Set<Module>();
    const visit = (m: Module, prefix: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([prefix, m]);
      for (const [name, child] of m.#modules) {
        visit(child, prefix === "" ? name : `${prefix}.${name}`);
      }
    };
    visit(this, "");
    return out;
  }

  /** Named tensors of one kind over every module, each tensor once. */
  #collect(pick: (m: Module) => Map<string, Tensor>): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [name, t] of pick(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([prefix === "" ? name : `${prefix}.${name}`, t]);
      }
    }
    return out;
  }

  /**
   * Calls `fn` on every module (children first, then this one), as PyTorch's `apply`;
   * handy for custom initialisation.
   *
   * @param fn Called once per module.
   * @returns This module.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { init, Linear, Sequential } from "@adamant/core";
   * const model = new Sequential(new Linear(2, 2), new Linear(2, 1));
   * model.apply((m) => {
   *   if (m instanceof Linear) init.zeros(m.weight);
   * });
   * assert.equal(model.parameters()[0].abs().sum().item(), 0);
   * ```
   */
  apply(fn: (module: Module) => void): this {
    for (const child of this.#modules.values()) child.apply(fn);
    fn(this);
    return this;
  }

  /**
   * Sets training mode on this module and every module below it: dropout drops and batch
   * norm uses (and updates) batch statistics only in training mode.
   *
   * @param mode True for training (the default), false for evaluation.
   * @returns This module.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Dropout } from "@adamant/core";
   * const drop = new Dropout(0.5).eval();
   * assert(!drop.training && drop.train().training);
   * ```
   */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /**
   * Sets evaluation mode, as `train(false)`.
   *
   * @returns This module.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { BatchNorm1d } from "@adamant/core";
   * assert(!new BatchNorm1d(4).eval().training);
   * ```
   */
  eval(): this {
    return this.train(false);
  }

  /**
   * Zeroes the gradient of every parameter (in place, or drops it with `setToNone`).
   *
   * @param options `setToNone`.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, ones } from "@adamant/core";
   * const model = new Linear(3, 1);
   * model.forward(ones([2, 3])).sum().backward();
   * model.zeroGrad();
   * assert.equal(model.weight.grad!.abs().sum().item(), 0);
   * ```
   */
  zeroGrad(options: ZeroGradOptions = {}): void {
    for (const p of this.parameters()) {
      if (p.grad === null) continue;
      if (options.setToNone) {
        p.grad = null;
        continue;
      }
      // a gradient recorded with createGraph is cut from its graph before it is zeroed
      if (p.grad.requiresGrad) p.grad = keep(p.grad.detach());
      noGrad(() => p.grad!.zeroInPlace());
    }
  }

  /**
   * Moves every parameter and buffer to `device` in place (the tensors keep their
   * identity, so layers' fields and optimizers created afterwards see the moved data);
   * gradients are dropped. Leaving the GPU reads asynchronously: use `await cpu()`.
   * Create the optimizer after moving, as its state follows the parameters' device.
   *
   * @param device `"gpu"` (after `await initGpu()`) or `"cpu"`.
   * @returns This module.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { gpuAvailable, Linear } from "@adamant/core";
   * const device = (await gpuAvailable()) ? "gpu" : "cpu";
   * const layer = new Linear(2, 1).to(device);
   * assert.equal(layer.weight.device, device);
   * ```
   */
  to(device: Device): this {
    if (!isDevice(device)) {
      throw new TypeError(`Module.to: device must be "cpu" or "gpu", got ${String(device)}`);
    }
    for (const t of this.#tensors()) {
      if (t.device === device) continue;
      const moved = t.to(device);
      this.#adopt(t, moved);
    }
    return this;
  }

  /**
   * Moves every parameter and buffer back to the CPU, reading GPU data asynchronously.
   *
   * @returns A promise of this module.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear } from "@adamant/core";
   * const layer = await new Linear(2, 1).cpu();
   * assert.equal(layer.weight.device, "cpu");
   * ```
   */
  async cpu(): Promise<this> {
    for (const t of this.#tensors()) {
      if (t.device === "cpu") continue;
      this.#adopt(t, await t.cpu());
    }
    return this;
  }

  #tensors(): Tensor[] {
    return [...this.parameters(), ...this.buffers()];
  }

  #adopt(t: Tensor, moved: Tensor): void {
    t.adoptStorage(moved);
    moved.dispose();
    t.grad?.dispose();
    t.grad = null;
  }

  /**
   * Parameters and buffers by dotted name, detached (they share storage with the
   * module's tensors). A tensor shared by two sub-modules appears under both names.
   *
   * @returns A new dictionary, in the order of registration.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, Sequential } from "@adamant/core";
   * const dict = new Sequential(new Linear(2, 3)).stateDict();
   * assert.equal(Object.keys(dict).join(), "0.weight,0.bias");
   * assert(!dict["0.weight"].requiresGrad);
   * ```
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [name, t] of this.#stateEntries()) out[name] = t.detach();
    return out;
  }

  /** Every parameter and buffer by dotted name, walking every path (no de-duplication). */
  #stateEntries(prefix = "", out: [string, Tensor][] = []): [string, Tensor][] {
    for (const [name, t] of this.#parameters) out.push([prefix + name, t]);
    for (const [name, t] of this.#buffers) out.push([prefix + name, t]);
    for (const [name, m] of this.#modules) m.#stateEntries(`${prefix}${name}.`, out);
    return out;
  }

  /**
   * Copies a state dictionary into this module's parameters and buffers, in place and
   * without recording the graph (the tensors keep their identity, so optimizers holding
   * them see the new values). Everything is checked before anything is copied: a shape
   * mismatch, and with `strict` (the default) a missing or unexpected key, throws an Error
   * that names every offending key. Values of another dtype are converted.
   *
   * @param dict Tensors by dotted name, as `stateDict()` returns them (or a Map).
   * @param options `strict`.
   * @returns The missing and unexpected keys (both empty after a strict load).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Linear, manualSeed, ones } from "@adamant/core";
   * manualSeed(0);
   * const a = new Linear(3, 2), b = new Linear(3, 2);
   * b.loadStateDict(a.stateDict());
   * const x = ones([1, 3]);
   * assert.equal(a.forward(x).sub(b.forward(x)).abs().max().item(), 0);
   * ```
   */
  loadStateDict(
    dict: StateDict | Map<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const strict = options.strict ?? true;
    const source = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const own = this.#stateEntries();
    const ownNames = new Set(own.map(([name]) => name));
    const missingKeys = own.map(([name]) => name).filter((name) => !source.has(name));
    const unexpectedKeys = [...source.keys()].filter((name) => !ownNames.has(name));
    const problems: string[] = [];
    for (const [name, t] of own) {
      const s = source.get(name);
      if (s === undefined) continue;
      if (!(s instanceof Tensor)) {
        problems.push(`"${name}" is not a Tensor`);
      } else if (s.shape.join() !== t.shape.join()) {
        problems.push(
          `shape mismatch for "${name}": the dictionary has ${fmt(s.shape)}, ` +
            `the module ${fmt(t.shape)}`,
        );
      }
    }
    if (strict && missingKeys.length > 0) {
      problems.push(`missing keys: ${missingKeys.map((k) => `"${k}"`).join(", ")}`);
    }
    if (strict && unexpectedKeys.length > 0) {
      problems.push(`unexpected keys: ${unexpectedKeys.map((k) => `"${k}"`).join(", ")}`);
    }
    if (problems.length > 0) {
      throw new Error(
        `loadStateDict: cannot load into ${this.constructor.name}: ${problems.join("; ")}`,
      );
    }
    noGrad(() => {
      for (const [name, t] of own) {
        const s = source.get(name);
        if (s === undefined) continue;
        // converted on the source's device, then uploaded when the module is on the GPU
        const converted = s.dtype === t.dtype ? s : s.to(t.dtype);
        const placed = converted.device === t.device ? converted : converted.to(t.device);
        t.copyInPlace(placed);
        if (placed !== converted) placed.dispose();
        if (converted !== s) converted.dispose();
      }
    });
    return { missingKeys, unexpectedKeys };
  }
}
