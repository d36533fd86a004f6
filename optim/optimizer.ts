/**
 * The `Optimizer` base class: parameter groups, lazily created per-parameter state,
 * `zeroGrad`, `step`, and state dicts that refer to parameters by index, as in PyTorch.
 * Subclasses only say how to validate their options, how to create a parameter's state
 * and how to update one parameter (a call into a pure function of update.ts).
 * @module
 */

import { isFloat } from "../tensor/dtype.ts";
import { acquire } from "../tensor/pool.ts";
import { keep } from "../tensor/scope.ts";
import { fmt } from "../tensor/shape.ts";
import { Tensor } from "../tensor/tensor.ts";
import type { FloatArray } from "./update.ts";

/**
 * The options every parameter group has: a learning rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { BaseOptions } from "@adamant/core";
 * const options: BaseOptions = { lr: 0.1 };
 * assert(options.lr === 0.1);
 * ```
 */
export interface BaseOptions {
  /** Learning rate. */
  lr: number;
}

/**
 * Entries that learning-rate schedulers add to a parameter group (PyTorch keeps them in the
 * group too, so they travel with the optimizer's state dict).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Adam, StepLR, zeros } from "@adamant/core";
 * const opt = new Adam([zeros([1], { requiresGrad: true })], { lr: 0.5 });
 * new StepLR(opt, { stepSize: 2 });
 * assert(opt.paramGroups[0].initialLr === 0.5);
 * ```
 */
export interface SchedulerFields {
  /** The learning rate a scheduler started from. */
  initialLr?: number;
  /** OneCycleLR's peak learning rate. */
  maxLr?: number;
  /** OneCycleLR's final learning rate. */
  minLr?: number;
  /** OneCycleLR's upper momentum. */
  maxMomentum?: number;
  /** OneCycleLR's lower momentum. */
  baseMomentum?: number;
}

/**
 * A parameter group as the optimizer holds it: the tensors and every option resolved.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, zeros } from "@adamant/core";
 * const opt = new SGD([zeros([2], { requiresGrad: true })], { lr: 0.1 });
 * const group = opt.paramGroups[0];
 * assert(group.params.length === 1 && group.momentum === 0);
 * ```
 */
export type ParamGroup<O extends BaseOptions = BaseOptions> = O & SchedulerFields & {
  /** The tensors this group optimizes. */
  params: Tensor[];
};

/**
 * A parameter group as given to a constructor or `addParamGroup`: tensors, and options that
 * override the optimizer's defaults for them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, zeros } from "@adamant/core";
 * const a = zeros([2], { requiresGrad: true }), b = zeros([2], { requiresGrad: true });
 * const opt = new SGD([{ params: [a] }, { params: [b], lr: 0.01 }], { lr: 0.1 });
 * assert(opt.paramGroups[1].lr === 0.01 && opt.paramGroups[0].lr === 0.1);
 * ```
 */
export type ParamGroupInput<O extends BaseOptions = BaseOptions> =
  & Partial<O>
  & SchedulerFields
  & {
    /** The tensors of this group. */
    params: readonly Tensor[];
  };

/**
 * A value of a parameter's optimizer state in a state dict: step counts are numbers, state
 * arrays are typed-array copies (a loaded dict may hold plain number arrays instead), and a
 * buffer that does not exist is null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import type { StateValue } from "@adamant/core";
 * const values: StateValue[] = [3, new Float32Array(2), [0.5, 1], null];
 * assert(values.length === 4);
 * ```
 */
export type StateValue = number | boolean | null | FloatArray | number[];

/**
 * An optimizer's state in PyTorch's layout: `state` maps each parameter's index (counted
 * across the groups in order) to its state, and each entry of `paramGroups` holds a group's
 * options with `params` as indices. Typed arrays do not survive `JSON.stringify` as
 * arrays; convert them first (see `Optimizer.stateDict`), `loadStateDict` accepts both.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, tensor } from "@adamant/core";
 * const w = tensor([1, 2], { requiresGrad: true });
 * const opt = new SGD([w], { lr: 0.1, momentum: 0.9 });
 * w.sum().backward();
 * opt.step();
 * const sd = opt.stateDict();
 * assert(sd.paramGroups[0].params[0] === 0);
 * assert(Array.from(sd.state[0].momentumBuffer as Float32Array).join() === "1,1");
 * ```
 */
export interface OptimizerStateDict {
  /** Per-parameter state, keyed by parameter index. */
  state: Record<number, Record<string, StateValue>>;
  /** The groups' options, each with `params` as parameter indices. */
  paramGroups: ({ params: number[] } & Record<string, unknown>)[];
}

const SCHEDULER_KEYS: readonly string[] = [
  "initialLr",
  "maxLr",
  "minLr",
  "maxMomentum",
  "baseMomentum",
];

/** Throws unless `options[key]` is a number >= 0 (NaN fails). */
export function checkNonNegative(name: string, options: object, key: string): void {
  const value = (options as Record<string, unknown>)[key];
  if (typeof value !== "number") {
    throw new TypeError(`${name}: ${key} must be a number, got ${describe(value)}`);
  }
  if (!(value >= 0)) throw new RangeError(`${name}: ${key} must be >= 0, got ${value}`);
}

/** Throws unless `options[key]` is a boolean. */
export function checkBoolean(name: string, options: object, key: string): void {
  const value = (options as Record<string, unknown>)[key];
  if (typeof value !== "boolean") {
    throw new TypeError(`${name}: ${key} must be true or false, got ${describe(value)}`);
  }
}

function describe(value: unknown): string {
  if (value instanceof Tensor) return `a Tensor of shape ${fmt(value.shape)}`;
  if (Array.isArray(value)) return `an array`;
  return typeof value === "string" ? `"${value}"` : String(value);
}

/**
 * A GPU parameter due for an update: the tensor, its gradient and its state, as
 * `Optimizer.updateGroupOnDevice` receives them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type DeviceUpdate, tensor } from "@adamant/core";
 * const param = tensor([1, 2], { requiresGrad: true });
 * const item: DeviceUpdate<{ step: number }> = { param, grad: tensor([0, 1]), state: { step: 0 } };
 * assert.equal(item.state.step, 0);
 * ```
 */
export interface DeviceUpdate<S> {
  /** The parameter, updated in place. */
  param: Tensor;
  /** Its gradient. */
  grad: Tensor;
  /** Its optimizer state. */
  state: S;
}

/**
 * The base class of the optimizers. It holds the parameter groups and each parameter's
 * state (created on its first update), and `step()` hands every parameter that has a
 * gradient to the subclass's `update` as flat typed arrays: the parameter's own storage,
 * written in place (its version counter is bumped, so autograd notices the change).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SGD, tensor } from "@adamant/core";
 * const w = tensor([1, -1], { requiresGrad: true });
 * const opt = new SGD([w], { lr: 0.5 });
 * w.square().sum().backward(); // grad = 2w
 * opt.step();
 * assert(w.toArray().join() === "0,0");
 * ```
 */
export abstract class Optimizer<
  O extends BaseOptions = BaseOptions,
  S extends object = object,
> {
  /** The options a group gets when it does not set its own. */
  readonly defaults: Readonly<O>;
  /** The parameter groups, each with its tensors and resolved options (change `lr` freely). */
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on the parameter's first update. */
  readonly state: Map<Tensor, S> = new Map();

  /**
   * Validates the defaults and adds the parameters as one group or several.
   *
   * @param params The tensors to optimize, or parameter groups with their own options.
   * @param defaults Every option's value for groups that do not set it.
   */
  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupInput<O>>,
    defaults: O,
  ) {
    const name = this.constructor.name;
    if (params instanceof Tensor || params === null || typeof params !== "object") {
      throw new TypeError(
        `${name}: params must be an array of tensors or of parameter groups, got ${
          describe(params)
        }`,
      );
    }
    this.validate(defaults);
    this.defaults = Object.freeze({ ...defaults });
    const list = Array.from(params as Iterable<Tensor | ParamGroupInput<O>>);
    if (list.length === 0) throw new TypeError(`${name}: got an empty parameter list`);
    if (list[0] instanceof Tensor) {
      this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<O>);
    } else {
      for (const group of list) {
        if (group instanceof Tensor) {
          throw new TypeError(`${name}: params mixes tensors and parameter groups`);
        }
        this.addParamGroup(group);
      }
    }
  }

  /**
   * Adds a group of parameters with its own options (say, a layer to unfreeze).
   *
   * @param group The tensors and any options that differ from the defaults.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Adam, zeros } from "@adamant/core";
   * const opt = new Adam([zeros([2], { requiresGrad: true })]);
   * opt.addParamGroup({ params: [zeros([3], { requiresGrad: true })], lr: 1e-4 });
   * assert(opt.paramGroups.length === 2 && opt.paramGroups[1].lr === 1e-4);
   * ```
   */
  addParamGroup(group: ParamGroupInput<O>): void {
    const name = this.constructor.name;
    if (group === null || typeof group !== "object" || !("params" in group)) {
      throw new TypeError(`${name}: a parameter group must be an object with params`);
    }
    const raw = group.params as unknown;
    const params = raw instanceof Tensor ? [raw] : Array.isArray(raw) ? [...raw] : null;
    if (params === null) {
      throw new TypeError(`${name}: a group's params must be an array of tensors`);
    }
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p: unknown, i: number) => {
      const where = `${name}: parameter ${i} of group ${this.paramGroups.length}`;
      if (!(p instanceof Tensor)) throw new TypeError(`${where} is not a Tensor (${describe(p)})`);
      if (!isFloat(p.dtype)) {
        throw new TypeError(
          `${where} has dtype ${p.dtype}; only floating tensors can be optimized`,
        );
      }
      if (!p.isLeaf) {
        throw new TypeError(
          `${where} is not a leaf (an op computed it); optimize the tensors that require grad`,
        );
      }
      if (p.isDisposed) throw new TypeError(`${where} was disposed`);
      if (seen.has(p)) {
        throw new TypeError(`${where} appears more than once among the parameter groups`);
      }
      seen.add(p);
    });
    const options: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(this.defaults)) {
      options[key] = Array.isArray(value) ? [...value] : value; // groups share no arrays
    }
    for (const [key, value] of Object.entries(group)) {
      if (key === "params" || value === undefined) continue;
      if (!(key in this.defaults) && !SCHEDULER_KEYS.includes(key)) {
        throw new TypeError(
          `${name}: unknown option ${key} (valid: ${Object.keys(this.defaults).join(", ")})`,
        );
      }
      options[key] = Array.isArray(value) ? [...value] : value;
    }
    this.validate(options as unknown as O);
    this.paramGroups.push({ ...options, params } as ParamGroup<O>);
  }

  /**
   * Clears the gradients of every parameter: zeroes them in place (PyTorch 1.13's
   * default), or with `setToNone` drops them, so that `step()` skips a parameter that no
   * backward reaches before it.
   *
   * @param options `setToNone`: drop the gradients instead of zeroing them (default false).
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { SGD, ones } from "@adamant/core";
   * const w = ones([2], { requiresGrad: true });
   * const opt = new SGD([w], { lr: 0.1 });
   * w.sum().backward();
   * opt.zeroGrad();
   * assert(w.grad!.toArray().join() === "0,0");
   * opt.zeroGrad({ setToNone: true });
   * assert(w.grad === null);
   * ```
   */
  zeroGrad(options: { setToNone?: boolean } = {}): void {
    const setToNone = options.setToNone ?? false;
    for (const group of this.paramGroups) {
      for (const p of group.params) {
        if (p.grad === null) continue;
        if (setToNone) {
          p.grad = null;
          continue;
        }
        // a gradient built with createGraph is an op result: cut it from its graph first
        if (p.grad.requiresGrad) p.grad = keep(p.grad.detach());
        p.grad.zeroInPlace();
      }
    }
  }

  /**
   * Updates every parameter that has a gradient (others are skipped), in group order.
   *
   * @param closure Optional: re-evaluates the model and returns the loss (called first).
   * @returns What `closure` returned, or undefined.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Adam, tensor } from "@adamant/core";
   * const w = tensor([1, 2], { requiresGrad: true });
   * const opt = new Adam([w], { lr: 0.1 });
   * const loss = opt.step(() => {
   *   const l = w.square().sum();
   *   l.backward();
   *   return l.item();
   * });
   * assert(loss === 5 && Math.abs(w.toArray()[0] - 0.9) < 1e-6);
   * ```
   */
  step<T>(closure?: () => T): T | undefined {
    const loss = closure?.();
    for (const group of this.paramGroups) {
      const onDevice: DeviceUpdate<S>[] = [];
      for (const param of group.params) {
        const grad = param.grad;
        if (grad === null) continue;
        if (
          grad.shape.length !== param.shape.length ||
          grad.shape.some((d, i) => d !== param.shape[i])
        ) {
          throw new TypeError(
            `${this.constructor.name}: a gradient of shape ${fmt(grad.shape)} belongs to a ` +
              `parameter of shape ${fmt(param.shape)}`,
          );
        }
        let state = this.state.get(param);
        if (state === undefined) {
          state = this.initState(param, group);
          this.state.set(param, state);
        }
        if (param.device === "cpu") this.#updateTensor(param, grad, state, group);
        else onDevice.push({ param, grad, state });
      }
      if (onDevice.length > 0) this.updateGroupOnDevice(onDevice, group);
    }
    return loss;
  }

  /** Runs `update` over the flat elements of a CPU `param` and its gradient. */
  #updateTensor(param: Tensor, grad: Tensor, state: S, group: ParamGroup<O>): void {
    const n = param.size;
    const g = grad.isContiguous ? grad : grad.contiguous();
    const gArray = flat(g);
    if (param.isContiguous) {
      this.update(flat(param), gArray, state, group, n);
      param.storage.version++;
    } else {
      // a strided view (a transposed leaf, say): update a packed copy and write it back
      const view = param.detach();
      const packed = view.clone();
      this.update(flat(packed), gArray, state, group, n);
      view.copyInPlace(packed);
      packed.dispose();
      view.dispose();
    }
    if (g !== grad) g.dispose();
  }

  /**
   * The optimizer's state as a plain object in PyTorch's layout, with copies of every
   * array (typed arrays of the parameter's dtype). For JSON, turn them into arrays:
   * `JSON.stringify(sd, (_, v) => ArrayBuffer.isView(v) ? Array.from(v) : v)`.
   *
   * @returns The state dict.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Adam, tensor } from "@adamant/core";
   * const w = tensor([1, 2], { requiresGrad: true });
   * const opt = new Adam([w], { lr: 0.1 });
   * w.sum().backward();
   * opt.step();
   * const sd = opt.stateDict();
   * assert(sd.state[0].step === 1 && sd.paramGroups[0].lr === 0.1);
   * ```
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const packed: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(group)) {
        if (key !== "params") packed[key] = Array.isArray(value) ? [...value] : value;
      }
      const params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...packed, params };
    });
    const state: Record<number, Record<string, StateValue>> = {};
    for (const [param, s] of this.state) {
      const i = index.get(param);
      if (i === undefined) continue;
      if (param.device !== "cpu") {
        throw new TypeError(
          `${this.constructor.name}: stateDict of parameter ${i} ${fmt(param.shape)}: its ` +
            "state lives on the GPU, which stateDict cannot read synchronously; checkpoint " +
            "optimizer state on the CPU",
        );
      }
      const copy: Record<string, StateValue> = {};
      for (const [key, value] of Object.entries(s)) copy[key] = copyValue(value);
      state[i] = copy;
    }
    return { state, paramGroups };
  }

  /**
   * Loads a state dict from `stateDict()` (of this optimizer or one built the same way over
   * other tensors): the groups' options and each parameter's state, copied.
   *
   * @param stateDict The state to load.
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Adam, tensor } from "@adamant/core";
   * const w = tensor([1, 2], { requiresGrad: true });
   * const opt = new Adam([w], { lr: 0.1 });
   * w.sum().backward();
   * opt.step();
   * const twin = new Adam([tensor([1, 2], { requiresGrad: true })]);
   * twin.loadStateDict(opt.stateDict());
   * assert(twin.paramGroups[0].lr === 0.1);
   * ```
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const saved = stateDict?.paramGroups;
    if (!Array.isArray(saved) || typeof stateDict.state !== "object") {
      throw new TypeError(`${name}: loadStateDict needs an object with state and paramGroups`);
    }
    if (saved.length !== this.paramGroups.length) {
      throw new RangeError(
        `${name}: the state dict has ${saved.length} parameter group(s), the optimizer ` +
          `${this.paramGroups.length}`,
      );
    }
    const byIndex = new Map<number, Tensor>();
    saved.forEach((s, g) => {
      const params = this.paramGroups[g].params;
      if (!Array.isArray(s.params) || s.params.length !== params.length) {
        throw new RangeError(
          `${name}: group ${g} of the state dict has ${s.params?.length} parameter(s), the ` +
            `optimizer's ${params.length}`,
        );
      }
      s.params.forEach((index, k) => byIndex.set(index, params[k]));
    });
    const state = new Map<Tensor, S>();
    for (const [key, entry] of Object.entries(stateDict.state)) {
      const param = byIndex.get(Number(key));
      if (param === undefined) {
        throw new RangeError(
          `${name}: the state dict has state for parameter ${key}, which no group holds`,
        );
      }
      const values: Record<string, StateValue> = {};
      for (const [k, value] of Object.entries(entry)) {
        if (typeof value === "object" && value !== null) {
          if (value.length !== param.size) {
            throw new RangeError(
              `${name}: state ${k} of parameter ${key} has ${value.length} elements, the ` +
                `parameter ${param.size}`,
            );
          }
          values[k] = stateArray(param.dtype as "float32" | "float64", param.size, value);
        } else values[k] = value;
      }
      state.set(param, values as S);
    }
    const groups = saved.map((s, g) => {
      const options: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(s)) {
        if (key !== "params") options[key] = Array.isArray(value) ? [...value] : value;
      }
      this.validate(options as unknown as O);
      return { ...options, params: this.paramGroups[g].params } as ParamGroup<O>;
    });
    this.paramGroups.splice(0, this.paramGroups.length, ...groups);
    this.state.clear();
    for (const [param, s] of state) this.state.set(param, s);
  }

  /**
   * Zeros shaped like `param`'s elements, of its dtype: a fresh state array.
   *
   * @param param The parameter.
   * @returns A new typed array of `param.size` elements.
   */
  protected zerosFor(param: Tensor): FloatArray {
    // a GPU parameter keeps its state on the GPU (see updateOnDevice)
    const size = param.device === "cpu" ? param.size : 0;
    return stateArray(param.dtype as "float32" | "float64", size);
  }

  /**
   * Updates the GPU parameters of `group` that have gradients, in one go where the
   * optimizer can (Adam: one dispatch for the group); by default one `updateOnDevice` each.
   *
   * @param items The parameters, their gradients and states.
   * @param group Their group.
   */
  protected updateGroupOnDevice(items: readonly DeviceUpdate<S>[], group: ParamGroup<O>): void {
    for (const { param, grad, state } of items) this.updateOnDevice(param, grad, state, group);
  }

  /**
   * Updates a parameter that lives on the GPU, keeping its state there. Optimizers
   * without a GPU kernel throw, naming themselves.
   *
   * @param param The parameter, updated in place.
   * @param grad Its gradient.
   * @param _state Its state (the step count and options; arrays stay empty).
   * @param _group Its group.
   */
  protected updateOnDevice(param: Tensor, grad: Tensor, _state: S, _group: ParamGroup<O>): void {
    throw new TypeError(
      `${this.constructor.name}: no GPU update for the ${param.device} parameter ` +
        `${fmt(param.shape)} (${fmt(grad.shape)} gradient); use Adam or AdamW on the GPU, ` +
        "or keep the model on the CPU",
    );
  }

  /**
   * Throws a `RangeError` naming the first invalid option (a `TypeError` for a wrong type).
   *
   * @param options A group's resolved options.
   */
  protected abstract validate(options: O): void;

  /**
   * A parameter's state before its first update.
   *
   * @param param The parameter.
   * @param group Its group.
   * @returns The new state.
   */
  protected abstract initState(param: Tensor, group: ParamGroup<O>): S;

  /**
   * Updates one parameter: elements 0 to `size` of `param`, from `grad`.
   *
   * @param param The parameter's elements, written in place.
   * @param grad The gradient's elements.
   * @param state The parameter's state.
   * @param group The parameter's group (its options).
   * @param size The number of elements.
   */
  protected abstract update(
    param: FloatArray,
    grad: FloatArray,
    state: S,
    group: ParamGroup<O>,
    size: number,
  ): void;
}

/**
 * `defaults` overridden by the entries of `options` that are not undefined; a key that
 * `defaults` lacks (a typo, or PyTorch's snake_case) is a TypeError.
 */
export function withDefaults<O extends object>(name: string, defaults: O, options: Partial<O>): O {
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options ?? {})) {
    if (!(key in defaults)) {
      throw new TypeError(
        `${name}: unknown option ${key} (valid: ${Object.keys(defaults).join(", ")})`,
      );
    }
    if (value !== undefined) out[key] = value;
  }
  return out as O;
}

/** Zeros of `array`'s type: a state buffer created after the parameter's first update. */
export function zerosLikeArray(array: FloatArray, size: number): FloatArray {
  return stateArray(array instanceof Float64Array ? "float64" : "float32", size);
}

/**
 * A state array of `size` elements, zeros or a copy of `values`. It comes from the buffer
 * pool, so a large one lies in the WebAssembly heap where SIMD update loops reach it; the
 * optimizer never releases it, and it goes back to the pool when the optimizer is collected.
 */
function stateArray(
  dtype: "float32" | "float64",
  size: number,
  values?: ArrayLike<number>,
): FloatArray {
  const array = acquire(dtype, size) as FloatArray;
  if (values === undefined) array.fill(0);
  else array.set(values);
  return array;
}

/** The elements of a contiguous tensor as a typed array starting at element 0. */
function flat(t: Tensor): FloatArray {
  const data = t.data as FloatArray;
  return t.offset === 0 ? data : data.subarray(t.offset, t.offset + t.size);
}

function copyValue(value: unknown): StateValue {
  if (value instanceof Float32Array || value instanceof Float64Array) return value.slice();
  if (Array.isArray(value)) return [...value];
  return value as StateValue;
}
