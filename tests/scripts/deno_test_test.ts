import assert from "node:assert/strict";
import { passedSummary, teardownCrash } from "../../scripts/deno_test.ts";

Deno.test("deno_test accepts only a last summary line that passed with 0 failed", () => {
  assert.equal(passedSummary("x\nok | 12 passed (3 steps) | 0 failed | 1 ignored (2s)\n"), true);
  assert.equal(passedSummary("\x1b[32mok\x1b[0m | 5 passed | 0 failed (1s)\nabort\n"), true);
  assert.equal(passedSummary("FAILED | 11 passed | 1 failed (2s)\n"), false);
  assert.equal(passedSummary("ok | 3 passed | 0 failed\nFAILED | 2 passed | 1 failed\n"), false);
  assert.equal(passedSummary("running 4 tests\ndouble free or corruption\n"), false);
});

Deno.test("deno_test treats only an abort or a segfault as the teardown crash", () => {
  assert.equal(teardownCrash({ code: 134, signal: null }), true);
  assert.equal(teardownCrash({ code: 139, signal: null }), true);
  assert.equal(teardownCrash({ code: 0, signal: "SIGSEGV" }), true);
  assert.equal(teardownCrash({ code: 1, signal: null }), false);
  assert.equal(teardownCrash({ code: 137, signal: "SIGKILL" }), false);
});
