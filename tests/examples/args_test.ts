import assert from "node:assert/strict";
import { helpText, type OptionSpec, parseArgs, UsageError } from "../../examples/lib/args.ts";

const specs: Record<string, OptionSpec> = {
  epochs: { type: "integer", default: 3, help: "passes over the data" },
  lr: { type: "number", default: 0.001, help: "learning rate" },
  model: { type: "string", default: "mlp", help: "model", choices: ["mlp", "cnn"] },
  quiet: { type: "boolean", default: false, help: "no output" },
};

Deno.test("parseArgs reads both --name value and --name=value", () => {
  const got = parseArgs(["--epochs", "5", "--lr=0.01", "--model", "cnn", "--quiet"], specs);
  assert.deepEqual(got, { epochs: 5, lr: 0.01, model: "cnn", quiet: true });
  assert.deepEqual(parseArgs([], specs), { epochs: 3, lr: 0.001, model: "mlp", quiet: false });
});

Deno.test("parseArgs names the option in every usage error", () => {
  assert.throws(
    () => parseArgs(["--epoch", "5"], specs),
    (e: Error) => e instanceof UsageError && /--epoch/.test(e.message),
  );
  assert.throws(() => parseArgs(["--epochs", "1.5"], specs), /--epochs needs an integer/);
  assert.throws(() => parseArgs(["--lr", "fast"], specs), /--lr needs a number/);
  assert.throws(() => parseArgs(["--model", "rnn"], specs), /--model must be one of mlp, cnn/);
  assert.throws(() => parseArgs(["--epochs"], specs), /--epochs needs a value/);
  assert.throws(() => parseArgs(["train"], specs), /unexpected argument 'train'/);
});

Deno.test("helpText lists every option with its default", () => {
  const text = helpText("usage: train [options]", specs);
  for (const name of Object.keys(specs)) assert.match(text, new RegExp(`--${name}`));
  assert.match(text, /default: 0.001/);
  assert.equal(parseArgs(["--help"], specs).help, true);
});
