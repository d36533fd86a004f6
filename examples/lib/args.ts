/**
 * A small command-line parser for the examples: `--name value` and `--name=value` pairs
 * checked against a table of options, each with a type, a default and a help line.
 */

/** One option of a command. */
export interface OptionSpec {
  /** `string`, `number`, `integer` or `boolean` (a flag without a value). */
  type: "string" | "number" | "integer" | "boolean";
  /** The value when the option is not given. */
  default: string | number | boolean | undefined;
  /** One line for `--help`. */
  help: string;
  /** The allowed values of a string option. */
  choices?: readonly string[];
}

/** A parse failure: the message says which option and why; the caller exits with code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Parses `argv` against `specs`; `--help` returns `{ help: true }`. */
export function parseArgs(
  argv: readonly string[],
  specs: Record<string, OptionSpec>,
): Record<string, string | number | boolean | undefined> {
  const out: Record<string, string | number | boolean | undefined> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.default;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return { ...out, help: true };
    if (!arg.startsWith("--")) {
      throw new UsageError(`unexpected argument '${arg}' (options start with --)`);
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) {
      throw new UsageError(`unknown option --${name} (see --help for the list)`);
    }
    if (spec.type === "boolean") {
      if (eq >= 0) throw new UsageError(`--${name} is a flag and takes no value`);
      out[name] = true;
      continue;
    }
    const raw = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (raw === undefined) throw new UsageError(`--${name} needs a value`);
    out[name] = convert(name, spec, raw);
  }
  return out;
}

function convert(name: string, spec: OptionSpec, raw: string): string | number {
  if (spec.type === "string") {
    if (spec.choices && !spec.choices.includes(raw)) {
      throw new UsageError(`--${name} must be one of ${spec.choices.join(", ")}; got '${raw}'`);
    }
    return raw;
  }
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(value)) {
    throw new UsageError(`--${name} needs a number, got '${raw}'`);
  }
  if (spec.type === "integer" && !Number.isInteger(value)) {
    throw new UsageError(`--${name} needs an integer, got '${raw}'`);
  }
  return value;
}

/** The `--help` text: a usage line, then one line per option with its default. */
export function helpText(usage: string, specs: Record<string, OptionSpec>): string {
  const lines = [usage, "", "Options:"];
  for (const [name, spec] of Object.entries(specs)) {
    const value = spec.type === "boolean" ? "" : ` <${spec.choices?.join("|") ?? spec.type}>`;
    const def = spec.default === undefined || spec.type === "boolean"
      ? ""
      : ` (default: ${spec.default})`;
    const head = `  --${name}${value}`;
    lines.push(
      head.length < 34
        ? head.padEnd(34) + spec.help + def
        : `${head}\n${" ".repeat(34)}${spec.help}${def}`,
    );
  }
  lines.push("  --help".padEnd(34) + "show this help");
  return lines.join("\n");
}
