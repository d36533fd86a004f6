/** The two classifiers the trainer offers, sized from the input shape [channels, h, w]. */
import { Conv2d, Flatten, Linear, MaxPool2d, type Module, ReLU, Sequential } from "../../mod.ts";

/** `mlp`: 784-256-128-10 on Fashion-MNIST (64-256-128-10 on digits); `cnn`: two conv blocks. */
export function buildModel(name: string, shape: readonly number[], classes: number): Module {
  const [c, h, w] = shape;
  if (name === "cnn") {
    return new Sequential(
      new Conv2d(c, 32, 3, { padding: 1 }),
      new ReLU(),
      new MaxPool2d(2),
      new Conv2d(32, 64, 3, { padding: 1 }),
      new ReLU(),
      new MaxPool2d(2),
      new Flatten(),
      new Linear(64 * Math.floor(h / 4) * Math.floor(w / 4), 128),
      new ReLU(),
      new Linear(128, classes),
    );
  }
  return new Sequential(
    new Flatten(),
    new Linear(c * h * w, 256),
    new ReLU(),
    new Linear(256, 128),
    new ReLU(),
    new Linear(128, classes),
  );
}
