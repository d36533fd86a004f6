/**
 * Error assertions that check the class and the message. (`assert.throws(fn, Class, text)`
 * does not: node's third argument is only the failure message, so it checked the class alone.)
 * @module
 */
import assert from "node:assert/strict";

// deno-lint-ignore no-explicit-any
type ErrorClass = new (...args: any[]) => Error;

function check(e: unknown, cls: ErrorClass, fragment: string): true {
  assert(e instanceof cls, `expected a ${cls.name}, got ${e}`);
  assert(e.message.includes(fragment), `"${e.message}" does not contain "${fragment}"`);
  return true;
}

/** Asserts that `fn` throws an instance of `cls` whose message contains `fragment`. */
export function throwsWith(fn: () => unknown, cls: ErrorClass, fragment: string): void {
  assert.throws(fn, (e) => check(e, cls, fragment));
}

/** Asserts that `fn` rejects with an instance of `cls` whose message contains `fragment`. */
export async function rejectsWith(
  fn: () => Promise<unknown>,
  cls: ErrorClass,
  fragment: string,
): Promise<void> {
  await assert.rejects(fn, (e) => check(e, cls, fragment));
}
