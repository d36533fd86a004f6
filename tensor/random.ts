/**
 * The one seeded generator behind every random op: xoshiro128** over 32-bit integer
 * arithmetic only, so a seed gives the same numbers on every platform and run.
 * @module
 */

/**
 * A xoshiro128** generator. Its state can be read and restored, so a resumed run draws
 * the same numbers as an uninterrupted one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Generator } from "@adamant/core";
 * const a = new Generator(7), b = new Generator(7);
 * assert(a.uniform() === b.uniform());
 * ```
 */
export class Generator {
  #s = new Uint32Array(4);
  #spare: number | null = null;

  /** Creates a generator seeded with `seed` (any integer). */
  constructor(seed = 0) {
    this.seed(seed);
  }

  /** Re-seeds the generator; splitmix32 spreads the seed over the state. */
  seed(seed: number): void {
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 0x100000000)) >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.#s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
    this.#spare = null;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5), 7), 9) >>> 0;
    const t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5, lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** A standard normal draw (Box–Muller; the second value of each pair is kept). */
  normal(): number {
    if (this.#spare !== null) {
      const v = this.#spare;
      this.#spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u)), theta = 2 * Math.PI * this.uniform();
    this.#spare = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /** A uniform integer in [low, high). */
  integer(low: number, high: number): number {
    return low + Math.floor(this.uniform() * (high - low));
  }

  /** The generator's state, for checkpoints. */
  getState(): number[] {
    return [...this.#s, this.#spare ?? NaN];
  }

  /** Restores a state taken with `getState`. */
  setState(state: readonly number[]): void {
    if (state.length !== 5) {
      throw new TypeError(`Generator.setState: expected 5 numbers, got ${state.length}`);
    }
    for (let i = 0; i < 4; i++) this.#s[i] = state[i] >>> 0;
    // JSON turns the NaN that marks "no spare" into null
    this.#spare = state[4] === null || Number.isNaN(state[4]) ? null : state[4];
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The default generator used by `rand`, `randn`, `randint`, `bernoulli`, initialisers,
 * dropout and shuffling.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { defaultGenerator, manualSeed } from "@adamant/core";
 * manualSeed(1);
 * const x = defaultGenerator.uniform();
 * manualSeed(1);
 * assert(defaultGenerator.uniform() === x);
 * ```
 */
export const defaultGenerator: Generator = new Generator(0);

/**
 * Seeds the default generator: the same seed gives the same random tensors on every
 * platform and every run.
 *
 * @param seed Any integer.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { manualSeed, randn } from "@adamant/core";
 * manualSeed(42);
 * const a = randn([3]).toArray();
 * manualSeed(42);
 * assert(JSON.stringify(randn([3]).toArray()) === JSON.stringify(a));
 * ```
 */
export function manualSeed(seed: number): void {
  defaultGenerator.seed(seed);
}
