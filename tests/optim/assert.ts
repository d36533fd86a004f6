/** Assertions shared by the optim tests. */
import assert from "node:assert/strict";

/** Asserts |actual - expected| <= atol + rtol * |expected| elementwise, naming the first miss. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  what: string,
  rtol = 1e-4,
  atol = 1e-6,
): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i], e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (rtol ${rtol}, atol ${atol})`);
    }
  }
}

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

/** Asserts `fn` throws exactly `cls` with a message containing every fragment. */
export function throwsWith(fn: () => unknown, cls: ErrorClass, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.equal((e as Error).constructor, cls, `expected ${cls.name}, got ${String(e)}`);
    const message = (e as Error).message;
    for (const f of fragments) assert.ok(message.includes(f), `"${f}" missing from: ${message}`);
    return true;
  });
}

/** A state dict through JSON and back (typed arrays become plain arrays). */
export function jsonRoundTrip<T>(value: T): T {
  return JSON.parse(
    JSON.stringify(value, (_, v) => ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v),
  );
}
