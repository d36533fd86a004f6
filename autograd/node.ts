/**
 * A node of the autograd graph: the op that made a tensor, its inputs, the tensors it saved
 * and the function that turns the output's gradient into the inputs' gradients.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";

/** Turns the gradient of an op's output into one gradient per input (null: none). */
export type BackwardFn = (grad: Tensor, saved: readonly Tensor[]) => (Tensor | null)[];

/** A hook on a gradient: it may return a replacement. */
export type GradHook = (grad: Tensor) => Tensor | void;

/**
 * One recorded op. Its inputs are the tensors that require grad (null for the others);
 * saved tensors are checked against their version at save time when backward runs.
 */
export class Node {
  /** The op's name, used in error messages. */
  readonly name: string;
  /** One entry per op input: the tensor when it requires grad, otherwise null. */
  readonly inputs: readonly (Tensor | null)[];
  /** Hooks on the gradient of this node's output, in registration order. */
  readonly hooks: GradHook[] = [];
  #backward: BackwardFn | null;
  #saved: readonly Tensor[] | null;
  #versions: number[];

  /** Records an op: its name, its inputs, how to differentiate it and what it saved. */
  constructor(
    name: string,
    inputs: readonly (Tensor | null)[],
    backward: BackwardFn,
    saved: readonly Tensor[],
  ) {
    this.name = name;
    this.inputs = inputs;
    this.#backward = backward;
    this.#saved = saved;
    this.#versions = saved.map((t) => t.version);
  }

  /** Computes the inputs' gradients; throws if the graph was freed or a saved tensor changed. */
  apply(grad: Tensor): (Tensor | null)[] {
    if (this.#backward === null || this.#saved === null) {
      throw new Error(
        `backward: the graph through ${this.name} was already freed by an earlier ` +
          `backward(); call backward({ retainGraph: true }) the first time to run it twice`,
      );
    }
    const saved = this.#saved;
    for (let i = 0; i < saved.length; i++) {
      // disposed first: reading a disposed tensor's version would throw a vaguer error
      if (saved[i].isDisposed) {
        throw new Error(
          `backward: a tensor that ${this.name} saved for backward was disposed ` +
            `(by dispose() or a tidy scope) before backward ran`,
        );
      }
      if (saved[i].version !== this.#versions[i]) {
        throw new Error(
          `backward: a tensor that ${this.name} saved for backward was modified in place ` +
            `(version ${saved[i].version}, expected ${this.#versions[i]}); ` +
            `clone it before the in-place op`,
        );
      }
    }
    return this.#backward(grad, saved);
  }

  /** Frees the saved tensors and the closure, as PyTorch does after backward. */
  release(): void {
    this.#backward = null;
    this.#saved = null;
  }
}
