/**
 * The backward pass: topological order from the root, gradients summed where a tensor is
 * used more than once, leaves accumulating into `.grad`.
 * @module
 */

import type { Tensor } from "../tensor/tensor.ts";
import { enableGrad, noGrad } from "./grad_mode.ts";
import type { Node } from "./node.ts";

/**
 * Options of `Tensor.backward`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ones } from "@adamant/core";
 * const x = ones([2], { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward({ retainGraph: true });
 * y.backward();
 * assert(x.grad!.toArray()[0] === 4);
 * ```
 */
export interface BackwardOptions {
  /** Keep the graph so backward can run through it again (default false). */
  retainGraph?: boolean;
  /** Record the backward pass itself, so gradients can be differentiated (default false). */
  createGraph?: boolean;
}

/** Nodes reachable from `root`, each after every node that feeds it gradient. */
function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>();
  const stack: [Node, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, i] = top;
    if (i < node.inputs.length) {
      top[1]++;
      const next = node.inputs[i]?.gradFn;
      if (next && !visited.has(next)) {
        visited.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order.reverse();
}

function runHooks(hooks: readonly ((g: Tensor) => Tensor | void)[], grad: Tensor): Tensor {
  for (const hook of hooks) grad = hook(grad) ?? grad;
  return grad;
}

/**
 * Propagates `grad` (the gradient of `root`) back through the graph. Leaves receive their
 * gradient through `accumulateGrad`; the caller decides what to free afterwards.
 */
export function runBackward(root: Tensor, grad: Tensor, options: BackwardOptions = {}): void {
  const createGraph = options.createGraph ?? false;
  const retainGraph = options.retainGraph ?? createGraph;
  const mode = createGraph ? enableGrad : noGrad;
  mode(() => {
    if (root.gradFn === null) {
      root.accumulateGrad(runHooks(root.hooks, grad), createGraph);
      return;
    }
    const pending = new Map<Node, Tensor>([[root.gradFn, grad]]);
    const order = topologicalOrder(root.gradFn);
    // a leaf's hooks see its whole gradient once: sum every edge into it, then accumulate
    const leafEdges = new Map<Tensor, number>();
    for (const node of order) {
      for (const input of node.inputs) {
        if (input !== null && input.gradFn === null) {
          leafEdges.set(input, (leafEdges.get(input) ?? 0) + 1);
        }
      }
    }
    const leafGrads = new Map<Tensor, Tensor>();
    const flush = (leaf: Tensor) => {
      const g = leafGrads.get(leaf);
      leafGrads.delete(leaf);
      if (g !== undefined) leaf.accumulateGrad(runHooks(leaf.hooks, g), createGraph);
    };
    const arrive = (leaf: Tensor, g: Tensor | null) => {
      if (g !== null) {
        const prev = leafGrads.get(leaf);
        leafGrads.set(leaf, prev === undefined ? g : prev.add(g));
      }
      const left = leafEdges.get(leaf)! - 1;
      leafEdges.set(leaf, left);
      if (left === 0) flush(leaf);
    };
    for (const node of order) {
      const g = pending.get(node);
      pending.delete(node);
      if (g === undefined) {
        for (const input of node.inputs) {
          if (input !== null && input.gradFn === null) arrive(input, null);
        }
        continue;
      }
      const grads = node.apply(runHooks(node.hooks, g));
      if (!retainGraph) node.release();
      node.inputs.forEach((input, i) => {
        const gi = grads[i] ?? null;
        if (input === null) return;
        if (input.gradFn === null) {
          arrive(input, gi);
        } else if (gi !== null) {
          const prev = pending.get(input.gradFn);
          pending.set(input.gradFn, prev === undefined ? gi : prev.add(gi));
        }
      });
    }
    for (const leaf of [...leafGrads.keys()]) flush(leaf);
  });
}
