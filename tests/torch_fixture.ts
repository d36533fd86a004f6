/**
 * Shared by the tests that compare against PyTorch fixtures: decoding a fixture tensor and
 * asserting a result matches it (rtol 1e-4, atol 1e-5 for float32 and int32, tighter for
 * float64), naming the worst element.
 */
import { AssertionError } from "node:assert/strict";
import { type Device, type Tensor, tensor } from "../mod.ts";

/** A tensor as the fixture generators write it. */
export interface Encoded {
  shape: number[];
  dtype: "float32" | "float64" | "int32";
  data: number[];
}

/** The fixture tensor as an adamant tensor. */
export function build(e: Encoded, requiresGrad = false, device: Device = "cpu"): Tensor {
  return tensor(e.data, { shape: e.shape, dtype: e.dtype, requiresGrad, device });
}

/** `assertMatches` for a tensor on any device (a GPU tensor is read back first). */
export async function assertMatchesOn(
  actual: Tensor | null,
  expected: Encoded,
  what: string,
): Promise<void> {
  const host = actual === null ? null : await actual.cpu();
  assertMatches(host, expected, what);
  if (host !== actual) host?.dispose();
}

function unravel(i: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    idx[d] = i % shape[d];
    i = Math.floor(i / shape[d]);
  }
  return `[${idx.join(", ")}]`;
}

function tolerances(dtype: string): { rtol: number; atol: number } {
  return dtype === "float64" ? { rtol: 1e-6, atol: 1e-8 } : { rtol: 1e-4, atol: 1e-5 };
}

/** Fails naming `what` and the worst element unless `actual` matches PyTorch's `expected`. */
export function assertMatches(actual: Tensor | null, expected: Encoded, what: string): void {
  if (actual === null) throw new AssertionError({ message: `${what}: missing (null)` });
  if (actual.shape.join() !== expected.shape.join()) {
    throw new AssertionError({
      message: `${what}: shape [${actual.shape.join(", ")}], PyTorch gives [${
        expected.shape.join(", ")
      }]`,
    });
  }
  const got = actual.toArray();
  const { rtol, atol } = tolerances(expected.dtype);
  let worst = -1, worstRatio = 1;
  for (let i = 0; i < got.length; i++) {
    const a = got[i], e = expected.data[i];
    if (a === e || (Number.isNaN(a) && Number.isNaN(e))) continue;
    const ratio = Math.abs(a - e) / (atol + rtol * Math.abs(e));
    if (!(ratio <= worstRatio)) {
      worst = i;
      worstRatio = Number.isNaN(ratio) ? Infinity : ratio;
    }
  }
  if (worst >= 0) {
    const a = got[worst], e = expected.data[worst];
    throw new AssertionError({
      message:
        `${what}: worst element ${unravel(worst, expected.shape)} is ${a}, PyTorch gives ${e} ` +
        `(|diff| ${Math.abs(a - e).toExponential(3)} > atol ${atol} + rtol ${rtol} * |expected|)`,
    });
  }
}
