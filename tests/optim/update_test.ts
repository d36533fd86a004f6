/**
 * The pure update functions: a range split into shards gives the very same numbers as one
 * call over all of it (as workers updating their own shards will rely on), elements outside
 * the range are never touched, and a missing state buffer is named.
 */
import assert from "node:assert/strict";
import {
  adagradUpdate,
  adamUpdate,
  adamwUpdate,
  type FloatArray,
  rmspropUpdate,
  sgdUpdate,
} from "../../mod.ts";
import { throwsWith } from "./assert.ts";

const N = 37;

function seq(n: number, seed: number, type: typeof Float32Array | typeof Float64Array) {
  const out = new type(n);
  for (let i = 0; i < n; i++) out[i] = Math.sin(seed * 12.9898 + i * 78.233) * 2;
  return out;
}

/** An update of one flat parameter and its state, from a fresh start. */
interface Rule {
  name: string;
  state: (type: typeof Float32Array | typeof Float64Array) => Record<string, FloatArray>;
  run: (
    p: FloatArray,
    g: FloatArray,
    s: Record<string, FloatArray>,
    step: number,
    from: number,
    to: number,
  ) => void;
}

const adamHyper = (step: number) => ({
  lr: 0.01,
  beta1: 0.9,
  beta2: 0.99,
  eps: 1e-8,
  weightDecay: 0.1,
  amsgrad: true,
  maximize: false,
  step,
});

const RULES: Rule[] = [
  {
    name: "adamUpdate",
    state: (T) => ({ m: new T(N), v: new T(N), vMax: new T(N) }),
    run: (p, g, s, step, from, to) =>
      adamUpdate(p, g, { m: s.m, v: s.v, vMax: s.vMax }, adamHyper(step), from, to),
  },
  {
    name: "adamwUpdate",
    state: (T) => ({ m: new T(N), v: new T(N) }),
    run: (p, g, s, step, from, to) =>
      adamwUpdate(p, g, { m: s.m, v: s.v }, { ...adamHyper(step), amsgrad: false }, from, to),
  },
  {
    name: "sgdUpdate",
    state: (T) => ({ momentumBuffer: new T(N) }),
    run: (p, g, s, step, from, to) =>
      sgdUpdate(
        p,
        g,
        { momentumBuffer: s.momentumBuffer },
        {
          lr: 0.05,
          momentum: 0.9,
          dampening: 0.1,
          nesterov: false,
          weightDecay: 0.01,
          maximize: true,
          initMomentum: step === 1,
        },
        from,
        to,
      ),
  },
  {
    name: "rmspropUpdate",
    state: (T) => ({ squareAvg: new T(N), gradAvg: new T(N), momentumBuffer: new T(N) }),
    run: (p, g, s, _step, from, to) =>
      rmspropUpdate(
        p,
        g,
        {
          squareAvg: s.squareAvg,
          gradAvg: s.gradAvg,
          momentumBuffer: s.momentumBuffer,
        },
        {
          lr: 0.01,
          alpha: 0.9,
          eps: 1e-8,
          weightDecay: 0.01,
          momentum: 0.5,
          centered: true,
          maximize: false,
        },
        from,
        to,
      ),
  },
  {
    name: "adagradUpdate",
    state: (T) => ({ sum: new T(N).fill(0.1) }),
    run: (p, g, s, step, from, to) =>
      adagradUpdate(
        p,
        g,
        { sum: s.sum },
        {
          lr: 0.1,
          lrDecay: 0.01,
          weightDecay: 0.01,
          eps: 1e-10,
          maximize: false,
          step,
        },
        from,
        to,
      ),
  },
];

for (const rule of RULES) {
  for (const T of [Float32Array, Float64Array]) {
    Deno.test(`${rule.name} over shards equals one call over the whole range (${T.name})`, () => {
      const whole = seq(N, 1, T), sharded = seq(N, 1, T);
      const sWhole = rule.state(T), sSharded = rule.state(T);
      const cuts = [0, 5, 6, 20, N]; // uneven shards, one of them a single element
      for (let step = 1; step <= 5; step++) {
        const g = seq(N, step + 1, T);
        rule.run(whole, g, sWhole, step, 0, N);
        for (let k = 0; k + 1 < cuts.length; k++) {
          rule.run(sharded, g, sSharded, step, cuts[k], cuts[k + 1]);
        }
      }
      assert.deepEqual(sharded, whole);
      for (const key of Object.keys(sWhole)) assert.deepEqual(sSharded[key], sWhole[key], key);
    });
  }

  Deno.test(`${rule.name} touches only elements in [from, to)`, () => {
    const p = seq(N, 1, Float32Array), before = p.slice();
    const s = rule.state(Float32Array);
    const states = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, v.slice()]));
    rule.run(p, seq(N, 2, Float32Array), s, 1, 10, 20);
    for (let i = 0; i < N; i++) {
      if (i >= 10 && i < 20) continue;
      assert.equal(p[i], before[i], `param[${i}]`);
      for (const k of Object.keys(s)) assert.equal(s[k][i], states[k][i], `${k}[${i}]`);
    }
    assert.notDeepEqual(p.subarray(10, 20), before.subarray(10, 20));
  });
}

Deno.test("sgdUpdate sets the momentum buffer to the gradient on its first step, whatever it held", () => {
  const p = new Float32Array([1, 1]), g = new Float32Array([2, -4]);
  const buf = new Float32Array([NaN, 7]); // say, a reused buffer
  sgdUpdate(
    p,
    g,
    { momentumBuffer: buf },
    {
      lr: 0.5,
      momentum: 0.9,
      dampening: 0.5,
      nesterov: false,
      weightDecay: 0,
      maximize: false,
      initMomentum: true,
    },
    0,
    2,
  );
  assert.deepEqual([...buf], [2, -4]); // no dampening on the first step, as PyTorch
  assert.deepEqual([...p], [0, 3]);
});

Deno.test("the update functions name a state buffer that their options need", () => {
  const a = () => new Float32Array(2);
  throwsWith(
    () => adamUpdate(a(), a(), { m: a(), v: a() }, adamHyper(1), 0, 2),
    TypeError,
    "adamUpdate: amsgrad needs state.vMax",
  );
  throwsWith(
    () => adamwUpdate(a(), a(), { m: a(), v: a() }, adamHyper(1), 0, 2),
    TypeError,
    "adamwUpdate: amsgrad needs state.vMax",
  );
  const sgd = {
    lr: 1,
    momentum: 0.9,
    dampening: 0,
    nesterov: false,
    weightDecay: 0,
    maximize: false,
    initMomentum: false,
  };
  throwsWith(
    () => sgdUpdate(a(), a(), { momentumBuffer: null }, sgd, 0, 2),
    TypeError,
    "sgdUpdate: momentum needs state.momentumBuffer",
  );
  const rms = {
    lr: 1,
    alpha: 0.9,
    eps: 0,
    weightDecay: 0,
    momentum: 0,
    centered: true,
    maximize: false,
  };
  throwsWith(
    () => rmspropUpdate(a(), a(), { squareAvg: a() }, rms, 0, 2),
    TypeError,
    "rmspropUpdate: centered needs state.gradAvg",
  );
  throwsWith(
    () =>
      rmspropUpdate(a(), a(), { squareAvg: a() }, { ...rms, centered: false, momentum: 1 }, 0, 2),
    TypeError,
    "rmspropUpdate: momentum needs state.momentumBuffer",
  );
});

Deno.test("the Adam class gives the same numbers as adamUpdate on its flat arrays", async () => {
  const { Adam, tensor } = await import("../../mod.ts");
  const w = tensor(seq(N, 1, Float32Array), { requiresGrad: true });
  const opt = new Adam([w], { lr: 0.01, betas: [0.9, 0.99], weightDecay: 0.1, amsgrad: true });
  const p = seq(N, 1, Float32Array);
  const s = { m: new Float32Array(N), v: new Float32Array(N), vMax: new Float32Array(N) };
  for (let step = 1; step <= 4; step++) {
    const g = seq(N, step + 1, Float32Array);
    w.grad = tensor(g);
    opt.step();
    adamUpdate(p, g, s, adamHyper(step), 0, N);
  }
  assert.deepEqual(w.toArray(), p);
});
