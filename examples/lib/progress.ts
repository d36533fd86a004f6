/**
 * Progress output for training: a live bar with ETA when stdout is a terminal, plain
 * lines otherwise (logs, CI, pipes).
 */

const encoder = new TextEncoder();

/** Formats seconds as `1m05s` or `42s`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** A progress bar over `total` steps that redraws in place on a terminal. */
export class Progress {
  readonly #total: number;
  readonly #label: string;
  readonly #live: boolean;
  readonly #start = performance.now();
  #last = 0;

  constructor(total: number, label: string, live = Deno.stdout.isTerminal()) {
    this.#total = total;
    this.#label = label;
    this.#live = live;
  }

  /** Redraws after `done` steps (at most ten times a second) with an extra note. */
  update(done: number, note = ""): void {
    if (!this.#live) return;
    const now = performance.now();
    if (done < this.#total && now - this.#last < 100) return;
    this.#last = now;
    const frac = this.#total > 0 ? done / this.#total : 1;
    const width = 30, filled = Math.round(frac * width);
    const elapsed = (now - this.#start) / 1000;
    const eta = frac > 0 ? elapsed * (1 - frac) / frac : Infinity;
    const bar = "#".repeat(filled) + "-".repeat(width - filled);
    const line = `\r${this.#label} [${bar}] ${done}/${this.#total} ETA ${
      formatDuration(eta)
    } ${note}`;
    Deno.stdout.writeSync(encoder.encode(line.padEnd(100)));
  }

  /** Clears the bar so the next line starts clean. */
  done(): void {
    if (this.#live) Deno.stdout.writeSync(encoder.encode("\r" + " ".repeat(100) + "\r"));
  }
}
