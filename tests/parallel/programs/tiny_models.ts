/** Small models for the data-parallel tests, built from their arguments alone. */
import { isMainThread } from "node:worker_threads";
import {
  BatchNorm1d,
  Linear,
  type Module,
  mseLoss,
  ReLU,
  Sequential,
  type Tensor,
} from "../../../mod.ts";

export function mlp(inputs: number, hidden: number, classes: number): Module {
  return new Sequential(new Linear(inputs, hidden), new ReLU(), new Linear(hidden, classes));
}

/** An MLP whose forward throws on its `at`-th call (in every thread that trains it). */
export function throwingMlp(inputs: number, hidden: number, classes: number, at: number): Module {
  const model = mlp(inputs, hidden, classes);
  const forward = model.forward.bind(model);
  let calls = 0;
  model.forward = (x: Tensor) => {
    if (++calls === at) throw new Error(`the model throws at step ${at}`);
    return forward(x);
  };
  return model;
}

/** An MLP whose forward blocks `ms` milliseconds for each sample it is given. */
export function slowMlp(inputs: number, hidden: number, classes: number, ms: number): Module {
  const model = mlp(inputs, hidden, classes);
  const forward = model.forward.bind(model);
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  model.forward = (x: Tensor) => {
    Atomics.wait(sleeper, 0, 0, ms * x.shape[0]);
    return forward(x);
  };
  return model;
}

/** Different shapes in a worker than on the main thread. */
export function inconsistent(inputs: number, classes: number): Module {
  return mlp(inputs, isMainThread ? 4 : 5, classes);
}

export function withBatchNorm(inputs: number, classes: number): Module {
  return new Sequential(new Linear(inputs, 4), new BatchNorm1d(4), new Linear(4, classes));
}

/** A loss given by module: mean squared error against float targets. */
export function mse(output: Tensor, target: Tensor): Tensor {
  return mseLoss(output, target);
}
