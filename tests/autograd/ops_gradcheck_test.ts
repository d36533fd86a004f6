/**
 * Every differentiable op against central finite differences, first order (`gradcheck`)
 * and second order (`gradgradcheck`), on seeded float64 inputs: plain, broadcast, with
 * scalar operands and with strided (non-contiguous) views made inside the checked function.
 */
import assert from "node:assert/strict";
import {
  concat,
  gradcheck,
  type GradcheckOptions,
  gradgradcheck,
  manualSeed,
  maximum,
  minimum,
  randn,
  stack,
  type Tensor,
  tensor,
  where,
} from "../../mod.ts";

type Fn = (...xs: Tensor[]) => Tensor;

/** One checked function with its inputs. */
interface Case {
  name: string;
  fn: Fn;
  inputs: Tensor[];
  options?: GradcheckOptions;
}

const F64 = { dtype: "float64" } as const;

/** Seeded standard normal float64 tensors, one per shape. */
function rn(seed: number, ...shapes: number[][]): Tensor[] {
  manualSeed(seed);
  return shapes.map((s) => randn(s, F64));
}

/** `t` with every value closer than `margin` to one of `points` pushed `margin` away from it. */
function awayFrom(t: Tensor, points: readonly number[], margin = 0.1): Tensor {
  const values = Array.from(t.toArray(), (v) => {
    for (const p of points) if (Math.abs(v - p) < margin) v = v >= p ? p + margin : p - margin;
    return v;
  });
  return tensor(new Float64Array(values), { shape: t.shape });
}

/** Values in [0.5, ∞): a safe domain for log, sqrt, rsqrt and pow bases. */
function positive(t: Tensor): Tensor {
  return t.abs().add(0.5);
}

/** `b` shifted until no broadcast pair of `a` and `b` is closer than 0.05 (no max/min ties). */
function untied(a: Tensor, b: Tensor): Tensor {
  while (a.sub(b).abs().min().item() <= 0.05) b = b.add(0.03);
  return b;
}

function check(c: Case): void {
  assert.ok(gradcheck(c.fn, c.inputs, c.options), `gradcheck ${c.name}`);
  assert.ok(gradgradcheck(c.fn, c.inputs, c.options), `gradgradcheck ${c.name}`);
  // squaring makes the first derivative depend on the input, so the second-order check
  // also exercises how linear ops record their own backward
  const squared: Fn = (...xs) => c.fn(...xs).square();
  assert.ok(gradgradcheck(squared, c.inputs, c.options), `gradgradcheck of the square ${c.name}`);
}

/** One Deno test per op, one step per case. */
function opTest(title: string, cases: Case[]): void {
  Deno.test(title, async (t) => {
    for (const c of cases) await t.step(c.name, () => check(c));
  });
}

// ---- binary ---------------------------------------------------------------------------------

type BinaryName = "add" | "sub" | "mul" | "div";
const binaryOps: Record<BinaryName, (a: Tensor, b: Tensor | number) => Tensor> = {
  add: (a, b) => a.add(b),
  sub: (a, b) => a.sub(b),
  mul: (a, b) => a.mul(b),
  div: (a, b) => a.div(b),
};

/** The divisor of div stays away from 0; other ops take their inputs as drawn. */
function rhs(name: BinaryName, t: Tensor): Tensor {
  return name === "div" ? awayFrom(t, [0], 0.5) : t;
}

for (const [i, name] of (Object.keys(binaryOps) as BinaryName[]).entries()) {
  const op = binaryOps[name];
  const s = 100 * (i + 1);
  const pair = (seed: number, sa: number[], sb: number[]) => {
    const [a, b] = rn(seed, sa, sb);
    return [a, rhs(name, b)];
  };
  opTest(
    `${name}() passes gradcheck and gradgradcheck with same shapes, broadcasting, scalars and strided inputs`,
    [
      { name: "same shape [2, 3]", fn: op, inputs: pair(s + 1, [2, 3], [2, 3]) },
      { name: "broadcast [3, 1] with [1, 4]", fn: op, inputs: pair(s + 2, [3, 1], [1, 4]) },
      { name: "broadcast [2, 3, 4] with [4]", fn: op, inputs: pair(s + 3, [2, 3, 4], [4]) },
      { name: "broadcast [4] with [2, 3, 4]", fn: op, inputs: pair(s + 4, [4], [2, 3, 4]) },
      { name: "number on the right", fn: (a) => op(a, 1.7), inputs: rn(s + 5, [2, 3]) },
      { name: "0-d tensor on the right", fn: op, inputs: pair(s + 6, [2, 3], []) },
      { name: "0-d tensor on the left", fn: op, inputs: pair(s + 7, [], [2, 3]) },
      { name: "two 0-d tensors", fn: op, inputs: pair(s + 8, [], []) },
      { name: "transposed left", fn: (a, b) => op(a.T, b), inputs: pair(s + 9, [3, 2], [2, 3]) },
      {
        name: "stepped slice on the right",
        fn: (a, b) => op(a, b.slice(1, 0, 4, 2)),
        inputs: pair(s + 10, [2, 2], [2, 4]),
      },
      {
        name: "expanded left with a transposed right",
        fn: (a, b) => op(a.expand([3, 4]), b.T),
        inputs: pair(s + 11, [1, 4], [4, 3]),
      },
      {
        name: "the same tensor on both sides",
        fn: (a) => op(a, a),
        inputs: [rhs(name, rn(s + 12, [2, 3])[0])],
      },
    ],
  );
}

{
  const base = (seed: number, shape: number[]) => positive(rn(seed, shape)[0]);
  const pow = (a: Tensor, b: Tensor) => a.pow(b);
  opTest(
    "pow() passes gradcheck and gradgradcheck with a tensor exponent over a positive base",
    [
      { name: "same shape [2, 3]", fn: pow, inputs: [base(501, [2, 3]), rn(502, [2, 3])[0]] },
      {
        name: "broadcast [3, 1] with [1, 4]",
        fn: pow,
        inputs: [base(503, [3, 1]), rn(504, [1, 4])[0]],
      },
      {
        name: "broadcast [2, 3, 4] with [4]",
        fn: pow,
        inputs: [base(505, [2, 3, 4]), rn(506, [4])[0]],
      },
      { name: "0-d exponent", fn: pow, inputs: [base(507, [2, 3]), rn(508, [])[0]] },
      { name: "0-d base", fn: pow, inputs: [base(509, []), rn(510, [2, 3])[0]] },
      {
        name: "transposed base, stepped exponent",
        fn: (a, b) => a.T.pow(b.slice(1, 1, 6, 2)),
        inputs: [base(511, [3, 2]), rn(512, [2, 6])[0]],
      },
      {
        name: "exponent that does not require grad",
        fn: (a) => a.pow(tensor([0.5, -1.5, 2.5], F64)),
        inputs: [base(513, [2, 3])],
      },
    ],
  );
  opTest(
    "pow() passes gradcheck and gradgradcheck with a scalar exponent",
    [
      { name: "square of any sign", fn: (a) => a.pow(2), inputs: rn(521, [2, 3]) },
      { name: "cube of any sign", fn: (a) => a.pow(3), inputs: rn(522, [2, 3]) },
      { name: "exponent 0.5", fn: (a) => a.pow(0.5), inputs: [base(523, [2, 3])] },
      { name: "exponent -1.5", fn: (a) => a.pow(-1.5), inputs: [base(524, [2, 3])] },
      { name: "exponent 1", fn: (a) => a.pow(1), inputs: rn(525, [4]) },
      { name: "transposed", fn: (a) => a.T.pow(2.5), inputs: [base(526, [3, 2])] },
      { name: "stepped slice", fn: (a) => a.slice(0, 0, 4, 3).pow(3), inputs: rn(527, [4, 2]) },
      { name: "expanded", fn: (a) => a.expand([2, 3]).pow(-1), inputs: [base(528, [3])] },
    ],
  );
}

for (const [i, name] of (["maximum", "minimum"] as const).entries()) {
  const op = (a: Tensor, b: Tensor | number) => (name === "maximum" ? a.maximum(b) : a.minimum(b));
  const free = name === "maximum" ? maximum : minimum;
  const s = 600 + 100 * i;
  const pair = (seed: number, sa: number[], sb: number[]) => {
    const [a, b] = rn(seed, sa, sb);
    return [a, untied(a, b)];
  };
  const pairT = (seed: number) => {
    const [a, b] = rn(seed, [3, 2], [2, 3]);
    return [a, untied(a.T, b)];
  };
  opTest(
    `${name}() passes gradcheck and gradgradcheck without ties, broadcast, scalar and strided`,
    [
      { name: "same shape [2, 3]", fn: op, inputs: pair(s + 1, [2, 3], [2, 3]) },
      { name: "broadcast [3, 1] with [1, 4]", fn: op, inputs: pair(s + 2, [3, 1], [1, 4]) },
      { name: "broadcast [2, 3, 2] with [2]", fn: op, inputs: pair(s + 3, [2, 3, 2], [2]) },
      { name: "0-d tensor on the right", fn: op, inputs: pair(s + 4, [2, 3], []) },
      {
        name: "number on the right",
        fn: (a) => op(a, 0.3),
        inputs: [awayFrom(rn(s + 5, [2, 3])[0], [0.3])],
      },
      {
        name: "number on the left (free function)",
        fn: (a) => free(0.3, a),
        inputs: [awayFrom(rn(s + 6, [2, 3])[0], [0.3])],
      },
      { name: "transposed left", fn: (a, b) => op(a.T, b), inputs: pairT(s + 7) },
      {
        name: "stepped slice and expand",
        fn: (a, b) => op(a.slice(1, 0, 4, 2), b.expand([2, 2])),
        inputs: [awayFrom(rn(s + 8, [2, 4])[0], [-0.2, 0.4], 0.15), tensor([-0.2, 0.4], F64)],
      },
    ],
  );
}

// ---- unary ----------------------------------------------------------------------------------

interface UnaryCase {
  name: string;
  fn: (x: Tensor) => Tensor;
  /** Moves drawn values into the op's smooth domain. */
  domain?: (t: Tensor) => Tensor;
}

const awayFrom0 = (t: Tensor) => awayFrom(t, [0]);

const unaryOps: UnaryCase[] = [
  { name: "neg", fn: (x) => x.neg() },
  { name: "abs", fn: (x) => x.abs(), domain: awayFrom0 },
  { name: "exp", fn: (x) => x.exp() },
  { name: "log", fn: (x) => x.log(), domain: positive },
  { name: "sqrt", fn: (x) => x.sqrt(), domain: positive },
  { name: "rsqrt", fn: (x) => x.rsqrt(), domain: positive },
  { name: "square", fn: (x) => x.square() },
  { name: "tanh", fn: (x) => x.tanh() },
  { name: "sigmoid", fn: (x) => x.sigmoid() },
  { name: "erf", fn: (x) => x.erf() },
  { name: "relu", fn: (x) => x.relu(), domain: awayFrom0 },
  { name: "leakyRelu", fn: (x) => x.leakyRelu(), domain: awayFrom0 },
  { name: "leakyRelu with slope 0.2", fn: (x) => x.leakyRelu(0.2), domain: awayFrom0 },
  { name: "gelu", fn: (x) => x.gelu() },
  { name: "gelu with the tanh approximation", fn: (x) => x.gelu("tanh") },
  { name: "softplus", fn: (x) => x.softplus() },
  { name: "softplus with beta 2", fn: (x) => x.softplus(2) },
  {
    name: "softplus past its threshold",
    fn: (x) => x.softplus(2, 1),
    domain: (t) => awayFrom(t, [0.5]),
  },
  { name: "clamp", fn: (x) => x.clamp(-0.5, 0.5), domain: (t) => awayFrom(t, [-0.5, 0.5]) },
  { name: "clamp below only", fn: (x) => x.clamp(-0.3), domain: (t) => awayFrom(t, [-0.3]) },
  {
    name: "clamp above only",
    fn: (x) => x.clamp(undefined, 0.2),
    domain: (t) => awayFrom(t, [0.2]),
  },
];

for (const [i, u] of unaryOps.entries()) {
  const d = u.domain ?? ((t: Tensor) => t);
  const s = 1000 + 10 * i;
  opTest(`${u.name}() passes gradcheck and gradgradcheck on contiguous and strided inputs`, [
    { name: "contiguous [2, 3]", fn: u.fn, inputs: [d(rn(s + 1, [2, 3])[0])] },
    { name: "0-d", fn: u.fn, inputs: [d(rn(s + 2, [])[0])] },
    { name: "transposed", fn: (x) => u.fn(x.T), inputs: [d(rn(s + 3, [3, 2])[0])] },
    {
      name: "stepped slice",
      fn: (x) => u.fn(x.slice(1, 1, 5, 2)),
      inputs: [d(rn(s + 4, [3, 5])[0])],
    },
    { name: "expanded", fn: (x) => u.fn(x.expand([2, 3])), inputs: [d(rn(s + 5, [3])[0])] },
  ]);
}

// ---- where ----------------------------------------------------------------------------------

{
  const mask23 = tensor([[1, 0, 1], [0, 0, 1]], F64);
  const mask31 = tensor([[1], [0], [1]], F64);
  opTest("where() passes gradcheck and gradgradcheck for both branches, broadcast and scalars", [
    { name: "same shapes", fn: (a, b) => mask23.where(a, b), inputs: rn(1301, [2, 3], [2, 3]) },
    {
      name: "mask [3, 1], a [1, 4], b [4]",
      fn: (a, b) => mask31.where(a, b),
      inputs: rn(1302, [1, 4], [4]),
    },
    { name: "number for b", fn: (a) => mask23.where(a, 0.5), inputs: rn(1303, [2, 3]) },
    {
      name: "number for a (free function)",
      fn: (b) => where(mask23, -2, b),
      inputs: rn(1304, [2, 3]),
    },
    { name: "transposed a", fn: (a, b) => mask23.where(a.T, b), inputs: rn(1305, [3, 2], [2, 3]) },
    {
      name: "a mask that depends on the input",
      fn: (a) => a.gt(0).where(a.exp(), a.neg()),
      inputs: [awayFrom0(rn(1306, [2, 3])[0])],
    },
  ]);
}

// ---- reductions -----------------------------------------------------------------------------

opTest("sum() passes gradcheck and gradgradcheck over all, one and several axes", [
  { name: "all", fn: (x) => x.sum(), inputs: rn(1401, [2, 3]) },
  { name: "axis 1", fn: (x) => x.sum(1), inputs: rn(1402, [2, 3]) },
  { name: "axes [0, 2] keepDim", fn: (x) => x.sum([0, 2], true), inputs: rn(1403, [2, 3, 2]) },
  { name: "negative axis", fn: (x) => x.sum(-1), inputs: rn(1404, [2, 3, 2]) },
  { name: "0-d", fn: (x) => x.sum(), inputs: rn(1405, []) },
  { name: "transposed", fn: (x) => x.T.sum(1), inputs: rn(1406, [3, 2]) },
  { name: "stepped slice", fn: (x) => x.slice(1, 0, 5, 2).sum(0), inputs: rn(1407, [2, 5]) },
  { name: "expanded", fn: (x) => x.expand([3, 2]).sum(1), inputs: rn(1408, [2]) },
]);

opTest("mean() passes gradcheck and gradgradcheck over all, one and several axes", [
  { name: "all", fn: (x) => x.mean(), inputs: rn(1501, [2, 3]) },
  { name: "axis 0", fn: (x) => x.mean(0), inputs: rn(1502, [2, 3]) },
  { name: "axes [1, 2] keepDim", fn: (x) => x.mean([1, 2], true), inputs: rn(1503, [2, 3, 2]) },
  { name: "transposed", fn: (x) => x.T.mean(1), inputs: rn(1504, [3, 2]) },
  { name: "expanded", fn: (x) => x.expand([3, 2]).mean(0), inputs: rn(1505, [2]) },
]);

for (const [i, name] of (["max", "min"] as const).entries()) {
  const s = 1600 + 100 * i;
  const red = (x: Tensor, axes?: number | number[], keepDim = false) =>
    name === "max" ? x.max(axes, keepDim) : x.min(axes, keepDim);
  opTest(`${name}() passes gradcheck and gradgradcheck without ties`, [
    { name: "all", fn: (x) => red(x), inputs: rn(s + 1, [2, 3]) },
    { name: "axis 1", fn: (x) => red(x, 1), inputs: rn(s + 2, [2, 3]) },
    { name: "axis 0 keepDim", fn: (x) => red(x, 0, true), inputs: rn(s + 3, [2, 3]) },
    { name: "axes [0, 2]", fn: (x) => red(x, [0, 2]), inputs: rn(s + 4, [2, 3, 2]) },
    { name: "transposed", fn: (x) => red(x.T, 1), inputs: rn(s + 5, [3, 2]) },
    { name: "stepped slice", fn: (x) => red(x.slice(1, 0, 5, 2), 1), inputs: rn(s + 6, [2, 5]) },
  ]);
}

for (const [i, name] of (["var", "std"] as const).entries()) {
  const s = 1800 + 100 * i;
  const red = (x: Tensor, axes?: number | number[], options = {}) =>
    name === "var" ? x.var(axes, options) : x.std(axes, options);
  opTest(`${name}() passes gradcheck and gradgradcheck, biased and unbiased`, [
    { name: "all", fn: (x) => red(x), inputs: rn(s + 1, [2, 3]) },
    { name: "axis 1", fn: (x) => red(x, 1), inputs: rn(s + 2, [2, 3]) },
    {
      name: "axis 0, biased, keepDim",
      fn: (x) => red(x, 0, { unbiased: false, keepDim: true }),
      inputs: rn(s + 3, [3, 2]),
    },
    { name: "axes [0, 2]", fn: (x) => red(x, [0, 2]), inputs: rn(s + 4, [2, 2, 2]) },
    { name: "transposed", fn: (x) => red(x.T, 1), inputs: rn(s + 5, [3, 2]) },
    { name: "stepped slice", fn: (x) => red(x.slice(1, 0, 5, 2), 1), inputs: rn(s + 6, [2, 5]) },
  ]);
}

opTest("logsumexp() passes gradcheck and gradgradcheck", [
  { name: "all", fn: (x) => x.logsumexp(), inputs: rn(2001, [2, 3]) },
  { name: "axis 1", fn: (x) => x.logsumexp(1), inputs: rn(2002, [2, 3]) },
  { name: "axes [0, 1] keepDim", fn: (x) => x.logsumexp([0, 1], true), inputs: rn(2003, [2, 3]) },
  { name: "transposed", fn: (x) => x.T.logsumexp(0), inputs: rn(2004, [3, 2]) },
  { name: "expanded", fn: (x) => x.expand([2, 3]).logsumexp(1), inputs: rn(2005, [3]) },
]);

for (const [i, name] of (["softmax", "logSoftmax"] as const).entries()) {
  const s = 2100 + 100 * i;
  const sm = (x: Tensor, axis?: number) =>
    name === "softmax" ? x.softmax(axis) : x.logSoftmax(axis);
  opTest(`${name}() passes gradcheck and gradgradcheck along every axis`, [
    { name: "last axis", fn: (x) => sm(x), inputs: rn(s + 1, [2, 3]) },
    { name: "axis 0", fn: (x) => sm(x, 0), inputs: rn(s + 2, [2, 3]) },
    { name: "middle axis of 3-D", fn: (x) => sm(x, 1), inputs: rn(s + 3, [2, 3, 2]) },
    { name: "1-D", fn: (x) => sm(x), inputs: rn(s + 4, [4]) },
    { name: "transposed", fn: (x) => sm(x.T), inputs: rn(s + 5, [3, 2]) },
    { name: "stepped slice", fn: (x) => sm(x.slice(1, 1, 5, 2)), inputs: rn(s + 6, [2, 5]) },
  ]);
}

// ---- matmul ---------------------------------------------------------------------------------

{
  const mm = (a: Tensor, b: Tensor) => a.matmul(b);
  opTest("matmul() passes gradcheck and gradgradcheck for vectors, matrices and batches", [
    { name: "[3] @ [3]", fn: mm, inputs: rn(2301, [3], [3]) },
    { name: "[3] @ [3, 2]", fn: mm, inputs: rn(2302, [3], [3, 2]) },
    { name: "[2, 3] @ [3]", fn: mm, inputs: rn(2303, [2, 3], [3]) },
    { name: "[2, 3] @ [3, 4]", fn: mm, inputs: rn(2304, [2, 3], [3, 4]) },
    { name: "[2, 2, 3] @ [3, 2]", fn: mm, inputs: rn(2305, [2, 2, 3], [3, 2]) },
    { name: "[2, 3] @ [2, 3, 2]", fn: mm, inputs: rn(2306, [2, 3], [2, 3, 2]) },
    { name: "[2, 1, 2, 3] @ [3, 3, 2]", fn: mm, inputs: rn(2307, [2, 1, 2, 3], [3, 3, 2]) },
    { name: "[3] @ [2, 3, 2]", fn: mm, inputs: rn(2308, [3], [2, 3, 2]) },
    { name: "[2, 2, 3] @ [3]", fn: mm, inputs: rn(2309, [2, 2, 3], [3]) },
    { name: "transposed left", fn: (a, b) => a.T.matmul(b), inputs: rn(2310, [3, 2], [3, 4]) },
    { name: "transposed right", fn: (a, b) => a.matmul(b.T), inputs: rn(2311, [2, 3], [4, 3]) },
    {
      name: "stepped slice and expanded batch",
      fn: (a, b) => a.slice(1, 0, 6, 2).matmul(b.expand([2, 3, 2])),
      inputs: rn(2312, [2, 6], [3, 2]),
    },
    { name: "constant right", fn: (a) => a.matmul(rn(2313, [3, 2])[0]), inputs: rn(2314, [2, 3]) },
    { name: "constant left", fn: (b) => rn(2315, [2, 3])[0].matmul(b), inputs: rn(2316, [3, 2]) },
  ]);
}

// ---- views ----------------------------------------------------------------------------------

opTest("reshape() passes gradcheck and gradgradcheck as a view and as a copy", [
  { name: "[2, 3] to [3, 2]", fn: (x) => x.reshape([3, 2]), inputs: rn(2401, [2, 3]) },
  { name: "to [-1]", fn: (x) => x.reshape([-1]), inputs: rn(2402, [2, 3]) },
  { name: "to 0-d", fn: (x) => x.reshape([]), inputs: rn(2403, [1, 1]) },
  { name: "transposed (copies)", fn: (x) => x.T.reshape([6]), inputs: rn(2404, [3, 2]) },
  {
    name: "stepped slice (a view)",
    fn: (x) => x.slice(0, 0, 4, 2).reshape([2, 3, 1]),
    inputs: rn(2405, [4, 3]),
  },
  { name: "expanded (copies)", fn: (x) => x.expand([2, 3]).reshape([3, 2]), inputs: rn(2406, [3]) },
]);

opTest("view() passes gradcheck and gradgradcheck", [
  { name: "[2, 3] to [3, 2]", fn: (x) => x.view([3, 2]), inputs: rn(2501, [2, 3]) },
  {
    name: "stepped slice",
    fn: (x) => x.slice(0, 0, 4, 2).view([2, 1, 3]),
    inputs: rn(2502, [4, 3]),
  },
  { name: "transposed, split", fn: (x) => x.T.view([3, 2, 1]), inputs: rn(2503, [2, 3]) },
]);

opTest("flatten() passes gradcheck and gradgradcheck", [
  { name: "all", fn: (x) => x.flatten(), inputs: rn(2601, [2, 3, 2]) },
  { name: "from 1", fn: (x) => x.flatten(1), inputs: rn(2602, [2, 3, 2]) },
  { name: "0 to 1", fn: (x) => x.flatten(0, 1), inputs: rn(2603, [2, 3, 2]) },
  { name: "transposed", fn: (x) => x.T.flatten(), inputs: rn(2604, [3, 2]) },
]);

opTest("squeeze() and unsqueeze() pass gradcheck and gradgradcheck", [
  { name: "squeeze all", fn: (x) => x.squeeze(), inputs: rn(2701, [2, 1, 3]) },
  { name: "squeeze axis 1", fn: (x) => x.squeeze(1), inputs: rn(2702, [2, 1, 3]) },
  { name: "squeeze transposed", fn: (x) => x.T.squeeze(), inputs: rn(2703, [3, 1, 2]) },
  { name: "unsqueeze 0", fn: (x) => x.unsqueeze(0), inputs: rn(2704, [2, 3]) },
  { name: "unsqueeze -1", fn: (x) => x.unsqueeze(-1), inputs: rn(2705, [2, 3]) },
  { name: "unsqueeze transposed", fn: (x) => x.T.unsqueeze(1), inputs: rn(2706, [2, 3]) },
]);

opTest("permute(), transpose() and T pass gradcheck and gradgradcheck", [
  { name: "permute [2, 0, 1]", fn: (x) => x.permute([2, 0, 1]), inputs: rn(2801, [2, 3, 2]) },
  {
    name: "permute with negative axes",
    fn: (x) => x.permute([-1, 0, 1]),
    inputs: rn(2802, [2, 3, 2]),
  },
  { name: "transpose 0 and 2", fn: (x) => x.transpose(0, 2), inputs: rn(2803, [2, 3, 2]) },
  { name: "transpose default", fn: (x) => x.transpose(), inputs: rn(2804, [2, 3, 2]) },
  { name: "T of a matrix", fn: (x) => x.T, inputs: rn(2805, [2, 3]) },
  { name: "T of 3-D", fn: (x) => x.T, inputs: rn(2806, [2, 3, 2]) },
  {
    name: "permute of a stepped slice",
    fn: (x) => x.slice(2, 0, 4, 2).permute([1, 2, 0]),
    inputs: rn(2807, [2, 3, 4]),
  },
]);

opTest("expand() passes gradcheck and gradgradcheck", [
  { name: "[3, 1] to [3, 4]", fn: (x) => x.expand([3, 4]), inputs: rn(2901, [3, 1]) },
  { name: "[3] to [2, 3]", fn: (x) => x.expand([2, 3]), inputs: rn(2902, [3]) },
  {
    name: "[1, 3] to [-1 kept] [2, 2, -1]",
    fn: (x) => x.expand([2, 2, -1]),
    inputs: rn(2903, [1, 3]),
  },
  { name: "0-d to [2, 2]", fn: (x) => x.expand([2, 2]), inputs: rn(2904, []) },
  {
    name: "stepped slice",
    fn: (x) => x.slice(1, 0, 2, 2).expand([3, 4]),
    inputs: rn(2905, [3, 2]),
  },
  {
    name: "twice",
    fn: (x) => x.expand([2, 3]).unsqueeze(0).expand([2, 2, 3]),
    inputs: rn(2906, [3]),
  },
]);

opTest("slice() passes gradcheck and gradgradcheck with steps and negative bounds", [
  { name: "step 1", fn: (x) => x.slice(1, 1, 3), inputs: rn(3001, [3, 5]) },
  { name: "step 2", fn: (x) => x.slice(1, 1, 4, 2), inputs: rn(3002, [3, 5]) },
  { name: "step 3 to the end", fn: (x) => x.slice(0, 0, undefined, 3), inputs: rn(3003, [7, 2]) },
  { name: "negative start", fn: (x) => x.slice(0, -2), inputs: rn(3004, [4, 2]) },
  { name: "transposed", fn: (x) => x.T.slice(0, 0, 3, 2), inputs: rn(3005, [2, 4]) },
  {
    name: "slice of a slice",
    fn: (x) => x.slice(1, 1, 6, 2).slice(1, 1),
    inputs: rn(3006, [2, 6]),
  },
  {
    name: "overlapping slices",
    fn: (x) => x.slice(0, 0, 3).mul(x.slice(0, 1)),
    inputs: rn(3007, [4]),
  },
]);

opTest("narrow() and select() pass gradcheck and gradgradcheck", [
  { name: "narrow axis 1", fn: (x) => x.narrow(1, 1, 2), inputs: rn(3101, [2, 4]) },
  { name: "narrow negative start", fn: (x) => x.narrow(0, -2, 2), inputs: rn(3102, [3, 2]) },
  { name: "narrow transposed", fn: (x) => x.T.narrow(1, 0, 2), inputs: rn(3103, [3, 3]) },
  { name: "select 0", fn: (x) => x.select(0, 1), inputs: rn(3104, [2, 3]) },
  { name: "select -1 on axis 1", fn: (x) => x.select(1, -1), inputs: rn(3105, [2, 3]) },
  {
    name: "select stepped slice",
    fn: (x) => x.slice(1, 0, 4, 2).select(1, 1),
    inputs: rn(3106, [3, 4]),
  },
  {
    name: "select every row",
    fn: (x) => x.select(0, 0).mul(x.select(0, 1)).add(x.select(0, 2)),
    inputs: rn(3107, [3, 2]),
  },
]);

opTest("concat() and stack() pass gradcheck and gradgradcheck", [
  { name: "concat axis 0", fn: (a, b) => concat([a, b]), inputs: rn(3201, [2, 3], [1, 3]) },
  { name: "concat axis 1", fn: (a, b) => concat([a, b], 1), inputs: rn(3202, [2, 3], [2, 2]) },
  {
    name: "concat axis -1 of 3 tensors",
    fn: (a, b, c) => concat([a, b, c], -1),
    inputs: rn(3203, [2], [1], [3]),
  },
  {
    name: "concat with the same tensor twice",
    fn: (a) => concat([a, a.neg()]),
    inputs: rn(3204, [2, 2]),
  },
  {
    name: "concat with a constant",
    fn: (a) => concat([a, rn(3205, [1, 3])[0]]),
    inputs: rn(3206, [2, 3]),
  },
  { name: "concat transposed", fn: (a, b) => concat([a.T, b]), inputs: rn(3207, [3, 2], [1, 3]) },
  { name: "stack axis 0", fn: (a, b) => stack([a, b]), inputs: rn(3208, [2, 3], [2, 3]) },
  { name: "stack axis 1", fn: (a, b) => stack([a, b], 1), inputs: rn(3209, [2, 3], [2, 3]) },
  { name: "stack axis -1", fn: (a, b) => stack([a, b], -1), inputs: rn(3210, [2, 3], [2, 3]) },
  { name: "stack 0-d", fn: (a, b) => stack([a, b]), inputs: rn(3211, [], []) },
  {
    name: "stack stepped slice and expand",
    fn: (a, b) => stack([a.slice(1, 0, 6, 2), b.expand([2, 3])]),
    inputs: rn(3212, [2, 6], [3]),
  },
]);

{
  const idx = tensor([[0, 2, 2], [1, 0, 0]], { dtype: "int32" });
  opTest("gather() and indexSelect() pass gradcheck and gradgradcheck with repeated indices", [
    { name: "gather axis 1", fn: (x) => x.gather(1, idx), inputs: rn(3301, [2, 3]) },
    {
      name: "gather axis 0",
      fn: (x) => x.gather(0, tensor([[2, 0], [2, 1]], { dtype: "int32" })),
      inputs: rn(3302, [3, 2]),
    },
    { name: "gather transposed", fn: (x) => x.T.gather(1, idx), inputs: rn(3303, [3, 2]) },
    {
      name: "gather stepped slice",
      fn: (x) => x.slice(1, 0, 6, 2).gather(1, idx),
      inputs: rn(3304, [2, 6]),
    },
    {
      name: "indexSelect axis 0",
      fn: (x) => x.indexSelect(0, tensor([2, 0, 2], { dtype: "int32" })),
      inputs: rn(3305, [3, 2]),
    },
    {
      name: "indexSelect axis 1",
      fn: (x) => x.indexSelect(1, tensor([1, 1], { dtype: "int32" })),
      inputs: rn(3306, [2, 3]),
    },
    {
      name: "indexSelect transposed",
      fn: (x) => x.T.indexSelect(0, tensor([0, 2], { dtype: "int32" })),
      inputs: rn(3307, [2, 3]),
    },
  ]);
}

opTest("clone(), to() and sumTo() pass gradcheck and gradgradcheck", [
  { name: "clone", fn: (x) => x.clone(), inputs: rn(3401, [2, 3]) },
  { name: "clone transposed", fn: (x) => x.T.clone(), inputs: rn(3402, [2, 3]) },
  { name: "clone expanded", fn: (x) => x.expand([2, 3]).clone(), inputs: rn(3403, [3]) },
  { name: "to float64", fn: (x) => x.to("float64"), inputs: rn(3404, [2, 3]) },
  { name: "to float64 transposed", fn: (x) => x.T.to("float64"), inputs: rn(3405, [2, 3]) },
  { name: "double", fn: (x) => x.double(), inputs: rn(3406, [2, 3]) },
  {
    // float32 in the middle: a coarse step and tolerance keep rounding out of the comparison
    name: "through float32 and back",
    fn: (x) => x.to("float32").mul(2).to("float64"),
    inputs: rn(3407, [2, 3]),
    options: { eps: 1e-2, atol: 1e-3, rtol: 1e-3 },
  },
  { name: "sumTo [1, 4]", fn: (x) => x.sumTo([1, 4]), inputs: rn(3408, [3, 4]) },
  { name: "sumTo [3, 1]", fn: (x) => x.sumTo([3, 1]), inputs: rn(3409, [3, 4]) },
  { name: "sumTo [4]", fn: (x) => x.sumTo([4]), inputs: rn(3410, [2, 3, 4]) },
  { name: "sumTo []", fn: (x) => x.sumTo([]), inputs: rn(3411, [2, 3]) },
  { name: "sumTo its own shape", fn: (x) => x.sumTo([2, 3]), inputs: rn(3412, [2, 3]) },
  { name: "sumTo transposed", fn: (x) => x.T.sumTo([1, 3]), inputs: rn(3413, [3, 4]) },
]);

// ---- compositions ---------------------------------------------------------------------------

opTest("compositions of ops pass gradcheck and gradgradcheck", [
  {
    name: "a small MLP with a log-softmax loss",
    fn: (x, w1, w2) => x.matmul(w1).tanh().matmul(w2).logSoftmax().select(1, 0).mean().neg(),
    inputs: rn(3501, [2, 3], [3, 3], [3, 2]),
  },
  {
    name: "layer norm",
    fn: (x) => {
      const mu = x.mean(-1, true);
      return x.sub(mu).div(x.var(-1, { unbiased: false, keepDim: true }).add(1e-5).sqrt());
    },
    inputs: rn(3502, [2, 4]),
  },
  {
    name: "attention scores",
    fn: (q, k, v) => q.matmul(k.transpose()).div(Math.sqrt(2)).softmax().matmul(v),
    inputs: rn(3503, [2, 3, 2], [2, 3, 2], [2, 3, 2]),
  },
  {
    name: "a tensor reused through several paths",
    fn: (x) => x.exp().mul(x.sigmoid()).add(x.T.T.square()).sum(0),
    inputs: rn(3504, [2, 3]),
  },
]);
