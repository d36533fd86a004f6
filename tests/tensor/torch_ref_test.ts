/**
 * Every op against PyTorch 1.13: tests/fixtures/gen.py records, for seeded inputs, each
 * op's output and the gradients of `(out * w).sum()` for a fixed weight `w`; this file
 * replays each case through the public API and compares both.
 */

import { AssertionError } from "node:assert/strict";
import { assertMatchesOn, build, type Encoded } from "../torch_fixture.ts";
import { concat, type Device, maximum, minimum, stack, type Tensor, where } from "../../mod.ts";
import { hasGpu, synced } from "../device.ts";

/** A tensor as gen.py writes it: row-major data. */
/** One op application: an entry of OPS and its non-tensor arguments. */
interface Step {
  op: string;
  args?: Args;
}

interface Input extends Encoded {
  /** View steps applied to the leaf before the op (to feed non-contiguous tensors). */
  pre?: Step[];
}

interface Case {
  name: string;
  op: string;
  args: Args;
  inputs: Input[];
  /** Steps applied to the op's result before comparing. */
  post?: Step[];
  /** The weight of `(out * w).sum()`; null for outputs-only cases. */
  w: Encoded | null;
  out: Encoded;
  /** Expected gradient per input (null for integer inputs); null for outputs-only cases. */
  grads: (Encoded | null)[] | null;
}

interface Fixture {
  torch: string;
  seed: number;
  cases: Case[];
}

// deno-lint-ignore no-explicit-any
type Args = Record<string, any>;
type Op = (xs: Tensor[], args: Args) => Tensor;

/** The second operand of a binary op: the second input, or `args.scalar`. */
const rhs = (xs: Tensor[], a: Args): Tensor | number => xs.length > 1 ? xs[1] : a.scalar;

/** The ops by the names gen.py uses; a name missing here fails its case. */
const OPS: Record<string, Op> = {
  add: (xs, a) => xs[0].add(rhs(xs, a)),
  sub: (xs, a) => xs[0].sub(rhs(xs, a)),
  mul: (xs, a) => xs[0].mul(rhs(xs, a)),
  div: (xs, a) => xs[0].div(rhs(xs, a)),
  pow: (xs, a) => xs[0].pow(rhs(xs, a)),
  maximum: (xs, a) => a.scalarFirst ? maximum(a.scalar, xs[0]) : xs[0].maximum(rhs(xs, a)),
  minimum: (xs, a) => a.scalarFirst ? minimum(a.scalar, xs[0]) : minimum(xs[0], rhs(xs, a)),
  eq: (xs, a) => xs[0].eq(rhs(xs, a)),
  ne: (xs, a) => xs[0].ne(rhs(xs, a)),
  lt: (xs, a) => xs[0].lt(rhs(xs, a)),
  le: (xs, a) => xs[0].le(rhs(xs, a)),
  gt: (xs, a) => xs[0].gt(rhs(xs, a)),
  ge: (xs, a) => xs[0].ge(rhs(xs, a)),

  neg: ([x]) => x.neg(),
  abs: ([x]) => x.abs(),
  sign: ([x]) => x.sign(),
  exp: ([x]) => x.exp(),
  log: ([x]) => x.log(),
  sqrt: ([x]) => x.sqrt(),
  rsqrt: ([x]) => x.rsqrt(),
  square: ([x]) => x.square(),
  tanh: ([x]) => x.tanh(),
  sigmoid: ([x]) => x.sigmoid(),
  erf: ([x]) => x.erf(),
  relu: ([x]) => x.relu(),
  leakyRelu: ([x], a) =>
    a.negativeSlope === undefined ? x.leakyRelu() : x.leakyRelu(a.negativeSlope),
  gelu: ([x], a) => x.gelu(a.approximate),
  softplus: ([x], a) => x.softplus(a.beta, a.threshold),
  clamp: ([x], a) => x.clamp(a.min, a.max),
  where: ([cond, x, y]) => where(cond, x, y),
  wherePositive: ([x, y]) => x.gt(0).where(x, y),

  sum: ([x], a) => x.sum(a.axes, a.keepDim),
  mean: ([x], a) => x.mean(a.axes, a.keepDim),
  max: ([x], a) => x.max(a.axes, a.keepDim),
  min: ([x], a) => x.min(a.axes, a.keepDim),
  argmax: ([x], a) => x.argmax(a.axis, a.keepDim),
  argmin: ([x], a) => x.argmin(a.axis, a.keepDim),
  var: ([x], a) => x.var(a.axes, { unbiased: a.unbiased, keepDim: a.keepDim }),
  std: ([x], a) => x.std(a.axes, { unbiased: a.unbiased, keepDim: a.keepDim }),
  logsumexp: ([x], a) => x.logsumexp(a.axes, a.keepDim),
  softmax: ([x], a) => x.softmax(a.axis),
  logSoftmax: ([x], a) => x.logSoftmax(a.axis),

  matmul: ([x, y]) => x.matmul(y),
  concat: (xs, a) => concat(xs, a.axis),
  stack: (xs, a) => stack(xs, a.axis),
  gather: ([x, index], a) => x.gather(a.axis, index),
  indexSelect: ([x, index], a) => x.indexSelect(a.axis, index),
  oneHot: ([index], a) => index.oneHot(a.numClasses),

  reshape: ([x], a) => x.reshape(a.shape),
  permute: ([x], a) => x.permute(a.axes),
  transpose: ([x], a) => x.transpose(a.axis0, a.axis1),
  T: ([x]) => x.T,
  expand: ([x], a) => x.expand(a.shape),
  slice: ([x], a) => x.slice(a.axis, a.start, a.end, a.step),
  narrow: ([x], a) => x.narrow(a.axis, a.start, a.length),
  select: ([x], a) => x.select(a.axis, a.index),
  flatten: ([x], a) => x.flatten(a.startDim, a.endDim),
  squeeze: ([x], a) => x.squeeze(a.axis),
  unsqueeze: ([x], a) => x.unsqueeze(a.axis),
  contiguous: ([x]) => x.contiguous(),
  clone: ([x]) => x.clone(),
};

function apply(op: string, xs: Tensor[], args: Args | undefined, context: string): Tensor {
  const fn = OPS[op];
  if (fn === undefined) {
    throw new AssertionError({
      message: `${context}: op "${op}" is missing from the dispatch table`,
    });
  }
  return fn(xs, args ?? {});
}

function applySteps(x: Tensor, steps: Step[] | undefined, context: string): Tensor {
  for (const s of steps ?? []) x = apply(s.op, [x], s.args, context);
  return x;
}

async function runCase(c: Case, device: Device): Promise<void> {
  const differentiable = c.grads !== null;
  const leaves = c.inputs.map((e) => build(e, differentiable && e.dtype !== "int32", device));
  const xs = leaves.map((x, i) => applySteps(x, c.inputs[i].pre, `${c.name}: input ${i} pre`));
  const out = applySteps(apply(c.op, xs, c.args, c.name), c.post, `${c.name}: post`);
  await assertMatchesOn(out, c.out, `${c.name}: output`);
  if (c.grads === null) return;
  if (c.w === null) {
    throw new AssertionError({ message: `${c.name}: the fixture has grads but no w` });
  }
  out.mul(build(c.w, false, device)).sum().backward();
  for (const [i, expected] of c.grads.entries()) {
    const what = `${c.name}: gradient of input ${i}`;
    if (expected === null) {
      if (leaves[i].requiresGrad && leaves[i].grad !== null) {
        await assertMatchesOn(
          leaves[i].grad!,
          { ...c.inputs[i], data: c.inputs[i].data.map(() => 0) },
          what,
        );
      }
      continue;
    }
    const g = leaves[i].grad;
    if (g === null) throw new AssertionError({ message: `${what}: no gradient reached it` });
    await assertMatchesOn(g, expected, what);
  }
}

const fixture: Fixture = JSON.parse(
  await Deno.readTextFile(new URL("../fixtures/ops.json", import.meta.url)),
);

const version = fixture.torch.replace(/^(\d+\.\d+).*$/, "$1");
for (const c of fixture.cases) {
  Deno.test(`torch: ${c.name} matches PyTorch ${version}`, () => runCase(c, "cpu"));
}

// the same cases on the GPU, which stores no float64, in one test: each case pays a
// kernel compile on llvmpipe, so they share a test's set-up
const gpuCases = fixture.cases.filter((c) => c.inputs.every((e) => e.dtype !== "float64"));
if (hasGpu) {
  Deno.test({
    name: `torch: ${gpuCases.length} cases on the GPU match PyTorch ${version}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: synced(async (t) => {
      for (const c of gpuCases) await t.step(c.name, () => runCase(c, "gpu"));
    }),
  });
} else console.log("skip torch cases on the GPU: navigator.gpu has no adapter");
