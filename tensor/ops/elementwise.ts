/**
 * Elementwise ops: one table row per op with its JavaScript expression (the CPU kernel is
 * generated from it) and its gradient written with other ops, so gradients of gradients
 * work.
 * @module
 */

import { isGradEnabled, noGrad } from "../../autograd/grad_mode.ts";
import { type DType, isFloat } from "../dtype.ts";
import { checkGpuDType, checkSameDevice, type Device } from "../device.ts";
import { upload } from "../webgpu/commands.ts";
import { elementwise, type GpuInput, type GpuOperand } from "../webgpu/elementwise.ts";
import {
  binaryKernel,
  HELPERS,
  type Strided,
  unaryKernel,
  whereKernel,
} from "../cpu/elementwise.ts";
import {
  broadcastShapes,
  broadcastStrides,
  checkShape,
  fmt,
  sameShape,
  type Shape,
} from "../shape.ts";
import { Tensor, type TensorLike } from "../tensor.ts";
import {
  evaluate,
  type Expr,
  fusible,
  leavesOf,
  MAX_LEAVES,
  MAX_NODES,
  nodeCount,
  Pending,
} from "../lazy.ts";
import { record } from "./record.ts";

function strided(t: Tensor): Strided {
  return { data: t.data, offset: t.offset, strides: t.strides };
}

function stridedAs(t: Tensor, shape: Shape): Strided {
  return { data: t.data, offset: t.offset, strides: broadcastStrides(t.shape, t.strides, shape) };
}

/** A GPU tensor as a kernel operand indexed over `shape` (broadcast through its strides). */
export function gpuOperand(t: Tensor, shape: Shape = t.shape): GpuOperand {
  const strides = sameShape(t.shape, shape)
    ? t.strides
    : broadcastStrides(t.shape, t.strides, shape);
  return { buffer: t.buffer, dtype: t.dtype, offset: t.offset, strides };
}

/** A contiguous tensor of `dtype` holding `data` (copied), on `device` (errors name `op`). */
export function fromData(
  data: ArrayLike<number>,
  shape: Shape,
  dtype: DType,
  device: Device = "cpu",
  op = "tensor",
): Tensor {
  if (device === "gpu") {
    checkGpuDType(op, dtype);
    const host = fromData(data, shape, dtype);
    const out = Tensor.empty(shape, dtype, "gpu", op);
    upload(out.buffer, host.data.subarray(0, host.size));
    host.dispose();
    return out;
  }
  const out = Tensor.empty(shape, dtype);
  if (data.length !== out.size) {
    throw new TypeError(`tensor: ${data.length} values cannot fill shape ${fmt(shape)}`);
  }
  out.data.set(data);
  return out;
}

/** A tensor shaped and typed like `t`, on its device, filled with `value`. */
export function fullLike(t: Tensor, value: number): Tensor {
  return full(t.shape, value, t.dtype, t.device);
}

/** A new contiguous tensor filled with `value`, on `device`. */
export function full(shape: Shape, value: number, dtype: DType, device: Device = "cpu"): Tensor {
  const out = Tensor.empty(checkShape("full", shape), dtype, device, "full");
  if (device === "gpu") elementwise("fill", "x", shape, dtype, gpuOperand(out), [value]);
  else out.data.fill(value);
  return out;
}

/**
 * A copy of `t` on `device` (or `t` itself when it is there already): a new leaf that
 * requires grad when `t` is a leaf that does. Reading a GPU tensor back is asynchronous,
 * so leaving the GPU goes through `await t.read()` instead.
 */
export function toDevice(t: Tensor, device: Device, op = "to"): Tensor {
  if (t.device === device) return t;
  if (device === "cpu") {
    throw new TypeError(
      `to: reading the gpu tensor ${fmt(t.shape)} back is asynchronous; use ` +
        "`await t.cpu()` (or `await t.read()` for the values)",
    );
  }
  const c = t.contiguous();
  const out = fromData(c.data.subarray(c.offset, c.offset + c.size), t.shape, t.dtype, "gpu", op);
  if (c !== t) c.dispose();
  if (t.requiresGrad && t.gradFn === null) out.requiresGrad = true;
  return out;
}

/** Records `expr` over the GPU inputs into a new GPU tensor of `shape` and `dtype`. */
function gpuMap(
  kernel: string,
  expr: string,
  shape: Shape,
  dtype: DType,
  compute: DType,
  inputs: readonly TensorLike[],
  params: readonly number[] = [],
): Tensor {
  const out = Tensor.empty(shape, dtype, "gpu", kernel);
  const operands: GpuInput[] = inputs.map((
    v,
  ) => (typeof v === "number" ? v : gpuOperand(v, shape)));
  elementwise(kernel, expr, shape, compute, gpuOperand(out), operands, params);
  return out;
}

function checkFloat(op: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new TypeError(`${op}: needs a floating tensor, got ${t.dtype} (convert with .float())`);
  }
}

/** A copy of `t` as `dtype`; float-to-float conversions pass gradients back. */
export function cast(t: Tensor, dtype: DType): Tensor {
  let out: Tensor;
  if (t.device === "gpu") {
    checkGpuDType("to", dtype);
    out = gpuMap("cast", "x", t.shape, dtype, t.dtype, [t]);
  } else {
    out = Tensor.empty(t.shape, dtype);
    unaryKernel(
      dtype === "int32" ? "Math.trunc(x)" : "x",
      t.shape,
      strided(t),
      strided(out),
      t.isContiguous,
    );
  }
  if (!isFloat(dtype) || !isFloat(t.dtype)) return out;
  const from = t.dtype;
  return record(out, "to", [t], [], (g) => [g.to(from)]);
}

// ---- binary ----------------------------------------------------------------------------

type BinaryGrad = (
  g: Tensor,
  a: Tensor,
  b: TensorLike,
  out: Tensor,
) => [Tensor | null, Tensor | null];

interface BinaryOp {
  expr: string;
  /** The same in WGSL, for the GPU kernel (`T` is the operands' type). */
  wgsl: string;
  grad: BinaryGrad;
  /** Whether backward reads the output (then it is saved too). */
  usesOut?: boolean;
  floatOnly?: boolean;
}

/** `g * mask` for tie-splitting max/min: 1 where `pick`, 1/2 where equal, 0 elsewhere. */
function tieMask(pick: Tensor, equal: Tensor): Tensor {
  return pick.add(equal.mul(0.5));
}

const BINARY: Record<string, BinaryOp> = {
  add: { expr: "x + y", wgsl: "x + y", grad: (g) => [g, g] },
  sub: { expr: "x - y", wgsl: "x - y", grad: (g) => [g, g.neg()] },
  mul: { expr: "x * y", wgsl: "x * y", grad: (g, a, b) => [g.mul(b), g.mul(a)] },
  div: {
    expr: "x / y",
    wgsl: "x / y",
    floatOnly: true,
    grad: (g, a, b) => [g.div(b), g.mul(a).neg().div(mulLike(b, b))],
  },
  pow: {
    expr: "Math.pow(x, y)",
    wgsl: "fpow(x, y)",
    floatOnly: true,
    usesOut: true,
    // as PyTorch: zero where the exponent is 0, and zero to the exponent at a zero base
    // (exponent >= 0), instead of the NaN of 0 * inf and 0 * log(0)
    grad: (g, a, b, out) => [
      typeof b === "number"
        ? (b === 0 ? g.zerosLike() : g.mul(powLike(a, subLike(b, 1))).mul(b))
        : b.eq(0).where(0, g.mul(powLike(a, subLike(b, 1))).mul(b)),
      typeof b === "number" ? null : a.eq(0).mul(b.ge(0)).where(0, g.mul(out).mul(a.log())),
    ],
  },
  maximum: {
    expr: "(x > y || x !== x) ? x : y",
    wgsl: "select(y, x, x > y || x != x)",
    grad: (g, a, b) => [
      g.mul(tieMask(a.gt(b), a.eq(b))),
      typeof b === "number" ? null : g.mul(tieMask(b.gt(a), a.eq(b))),
    ],
  },
  minimum: {
    expr: "(x < y || x !== x) ? x : y",
    wgsl: "select(y, x, x < y || x != x)",
    grad: (g, a, b) => [
      g.mul(tieMask(a.lt(b), a.eq(b))),
      typeof b === "number" ? null : g.mul(tieMask(b.lt(a), a.eq(b))),
    ],
  },
};

function mulLike(a: TensorLike, b: TensorLike): TensorLike {
  return typeof a === "number" ? (typeof b === "number" ? a * b : b.mul(a)) : a.mul(b);
}
function subLike(a: TensorLike, b: number): TensorLike {
  return typeof a === "number" ? a - b : a.sub(b);
}
function powLike(a: Tensor, b: TensorLike): Tensor {
  return a.pow(b);
}

const COMPARE = {
  eq: { expr: "x === y ? 1 : 0", wgsl: "select(T(0), T(1), x == y)" },
  ne: { expr: "x !== y ? 1 : 0", wgsl: "select(T(0), T(1), x != y)" },
  lt: { expr: "x < y ? 1 : 0", wgsl: "select(T(0), T(1), x < y)" },
  le: { expr: "x <= y ? 1 : 0", wgsl: "select(T(0), T(1), x <= y)" },
  gt: { expr: "x > y ? 1 : 0", wgsl: "select(T(0), T(1), x > y)" },
  ge: { expr: "x >= y ? 1 : 0", wgsl: "select(T(0), T(1), x >= y)" },
} as const;

function checkDTypes(op: string, a: Tensor, b: TensorLike): void {
  if (typeof b === "number") return;
  checkSameDevice(op, a, b);
  if (a.dtype !== b.dtype) {
    throw new TypeError(
      `${op}: dtype mismatch, ${a.dtype} ${fmt(a.shape)} against ${b.dtype} ${fmt(b.shape)} ` +
        "(convert one with .to(dtype))",
    );
  }
}

/** `t` as a fusion operand: its pending expression, or a read of its contiguous storage. */
function operand(t: Tensor): Expr | null {
  return t.pendingExpr ??
    (t.isContiguous ? { kind: "leaf", storage: t.storage, offset: t.offset } : null);
}

/**
 * The op as a pending fused tensor (see lazy.ts), or null when it does not fuse: an int32
 * dtype, a broadcast or strided operand, or an expression grown past its limits.
 */
function fused(
  name: string,
  code: string,
  a: Tensor,
  b: TensorLike | null,
  params: number[],
): Tensor | null {
  if (!fusible(a.dtype) || a.device !== "cpu") return null;
  const args: Expr[] = [];
  const ea = operand(a);
  if (ea === null) return null;
  args.push(ea);
  if (typeof b === "number") args.push({ kind: "scalar", value: b });
  else if (b !== null) {
    const eb = sameShape(a.shape, b.shape)
      ? operand(b)
      : b.size === 1 && b.ndim <= a.ndim
      ? { kind: "scalar" as const, value: b.data[b.offset] }
      : null;
    if (eb === null) return null;
    args.push(eb);
  }
  const expr: Expr = { kind: "op", name, code, args, params };
  if (nodeCount(expr) > MAX_NODES || leavesOf(expr).size > MAX_LEAVES) return null;
  return new Tensor(new Pending(expr, a.dtype), a.shape);
}

/** Runs a binary expression forward only: broadcasting, dtype checks, fast paths. */
function binaryForward(
  op: string,
  expr: string,
  wgsl: string,
  a: Tensor,
  b: TensorLike,
): Tensor {
  checkDTypes(op, a, b);
  if (a.device === "gpu") {
    const shape = typeof b === "number" ? a.shape : broadcastShapes(op, a.shape, b.shape);
    return gpuMap(op, wgsl, shape, a.dtype, a.dtype, [a, b]);
  }
  const lazy = fused(op, expr, a, b, []);
  if (lazy !== null) return lazy;
  if (typeof b === "number") {
    const out = Tensor.empty(a.shape, a.dtype);
    binaryKernel(expr, a.shape, strided(a), b, strided(out), a.isContiguous);
    return out;
  }
  if (sameShape(a.shape, b.shape) && a.isContiguous && b.isContiguous) {
    const out = Tensor.empty(a.shape, a.dtype);
    binaryKernel(expr, a.shape, strided(a), strided(b), strided(out), true);
    return out;
  }
  if (b.size === 1 && b.ndim <= a.ndim) {
    const out = Tensor.empty(a.shape, a.dtype);
    binaryKernel(expr, a.shape, strided(a), b.data[b.offset], strided(out), a.isContiguous);
    return out;
  }
  const shape = broadcastShapes(op, a.shape, b.shape);
  const out = Tensor.empty(shape, a.dtype);
  if (a.size === 1 && a.ndim <= b.ndim && b.isContiguous) {
    binaryKernel(expr, shape, strided(b), a.data[a.offset], strided(out), true, true);
    return out;
  }
  binaryKernel(expr, shape, stridedAs(a, shape), stridedAs(b, shape), strided(out), false);
  return out;
}

function binary(name: keyof typeof BINARY, a: Tensor, b: TensorLike): Tensor {
  const op = BINARY[name];
  if (op.floatOnly) checkFloat(name, a);
  const out = binaryForward(name, op.expr, op.wgsl, a, b);
  const saved = typeof b === "number" ? [a] : [a, b];
  if (op.usesOut) saved.push(out);
  return record(out, name, [a, b], saved, (g) => {
    const [ga, gb] = op.grad(g, a, b, out);
    return [
      ga === null ? null : reduceTo(ga, a.shape),
      gb === null || typeof b === "number" ? null : reduceTo(gb, b.shape),
    ];
  });
}

function reduceTo(g: Tensor, shape: Shape): Tensor {
  return sameShape(g.shape, shape) ? g : g.sumTo(shape);
}

/** `a + b`. */
export const add = (a: Tensor, b: TensorLike): Tensor => binary("add", a, b);
/** `a - b`. */
export const sub = (a: Tensor, b: TensorLike): Tensor => binary("sub", a, b);
/** `a * b`. */
export const mul = (a: Tensor, b: TensorLike): Tensor => binary("mul", a, b);
/** `a / b`. */
export const div = (a: Tensor, b: TensorLike): Tensor => binary("div", a, b);
/** `a ** b`. */
export const pow = (a: Tensor, b: TensorLike): Tensor => binary("pow", a, b);
/** Elementwise maximum. */
export const maximum = (a: Tensor, b: TensorLike): Tensor => binary("maximum", a, b);
/** Elementwise minimum. */
export const minimum = (a: Tensor, b: TensorLike): Tensor => binary("minimum", a, b);

/** A comparison mask: 1 where it holds, 0 elsewhere, in the inputs' dtype; no gradient. */
export function compare(name: keyof typeof COMPARE, a: Tensor, b: TensorLike): Tensor {
  return binaryForward(name, COMPARE[name].expr, COMPARE[name].wgsl, a, b);
}

// ---- unary -----------------------------------------------------------------------------

interface UnaryOp {
  expr: string;
  /** The same in WGSL (`T` is the operand's type; `p0`, `p1` are f32). */
  wgsl: string;
  /** Gradient from the output gradient, the input, the output and the parameters. */
  grad: (g: Tensor, x: Tensor, out: Tensor, p0: number, p1: number) => Tensor;
  floatOnly?: boolean;
  usesOut?: boolean;
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const GELU_C = Math.sqrt(2 / Math.PI);

const UNARY: Record<string, UnaryOp> = {
  neg: { expr: "-x", wgsl: "-x", grad: (g) => g.neg() },
  abs: { expr: "Math.abs(x)", wgsl: "abs(x)", grad: (g, x) => g.mul(x.sign()) },
  sign: {
    expr: "x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : x",
    wgsl: "select(sign(x), x, x != x)",
    grad: (g) => g.zerosLike(),
  },
  exp: {
    expr: "Math.exp(x)",
    wgsl: "exp(x)",
    floatOnly: true,
    usesOut: true,
    grad: (g, _x, out) => g.mul(out),
  },
  log: { expr: "Math.log(x)", wgsl: "log(x)", floatOnly: true, grad: (g, x) => g.div(x) },
  sqrt: {
    expr: "Math.sqrt(x)",
    wgsl: "sqrt(x)",
    floatOnly: true,
    usesOut: true,
    grad: (g, _x, out) => g.div(out.mul(2)),
  },
  rsqrt: {
    expr: "1 / Math.sqrt(x)",
    wgsl: "inverseSqrt(x)",
    floatOnly: true,
    usesOut: true,
    grad: (g, _x, out) => g.mul(out.pow(3)).mul(-0.5),
  },
  tanh: {
    expr: "Math.tanh(x)",
    wgsl: "ftanh(x)",
    floatOnly: true,
    usesOut: true,
    grad: (g, _x, out) => g.mul(out.mul(out).neg().add(1)),
  },
  sigmoid: {
    expr: "x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))",
    wgsl: "fsigmoid(x)",
    floatOnly: true,
    usesOut: true,
    grad: (g, _x, out) => g.mul(out.mul(out.neg().add(1))),
  },
  erf: {
    expr: "H.erf(x)",
    wgsl: "ferf(x)",
    floatOnly: true,
    grad: (g, x) => g.mul(x.mul(x).neg().exp().mul(2 / Math.sqrt(Math.PI))),
  },
  relu: {
    expr: "x > 0 ? x : 0",
    wgsl: "select(T(0), x, x > T(0))",
    grad: (g, x) => g.mul(x.gt(0)),
  },
  leakyRelu: {
    expr: "x > 0 ? x : x * p0",
    wgsl: "select(x * p0, x, x > 0.0)",
    floatOnly: true,
    grad: (g, x, _out, slope) => g.mul(x.gt(0).mul(1 - slope).add(slope)),
  },
  gelu: {
    expr: `0.5 * x * (1 + H.erf(x * ${SQRT1_2}))`,
    wgsl: `0.5 * x * (1.0 + ferf(x * ${SQRT1_2}))`,
    floatOnly: true,
    // d/dx x·Φ(x) = Φ(x) + x·φ(x)
    grad: (g, x) =>
      g.mul(
        x.mul(SQRT1_2).erf().add(1).mul(0.5).add(
          x.mul(x.mul(x).mul(-0.5).exp()).mul(INV_SQRT_2PI),
        ),
      ),
  },
  geluTanh: {
    expr: `0.5 * x * (1 + Math.tanh(${GELU_C} * (x + 0.044715 * x * x * x)))`,
    wgsl: `0.5 * x * (1.0 + ftanh(${GELU_C} * (x + 0.044715 * x * x * x)))`,
    floatOnly: true,
    grad: (g, x) => {
      const t = x.add(x.pow(3).mul(0.044715)).mul(GELU_C).tanh();
      const dInner = x.mul(x).mul(3 * 0.044715).add(1).mul(GELU_C);
      return g.mul(t.add(1).mul(0.5).add(x.mul(0.5).mul(t.mul(t).neg().add(1)).mul(dInner)));
    },
  },
  softplus: {
    // PyTorch: linear once beta * x exceeds the threshold
    expr: "x * p0 > p1 ? x : Math.log1p(Math.exp(x * p0)) / p0",
    wgsl: "select(log(1.0 + exp(x * p0)) / p0, x, x * p0 > p1)",
    floatOnly: true,
    grad: (g, x, _out, beta, threshold) =>
      g.mul(x.mul(beta).sigmoid().mul(x.mul(beta).le(threshold)).add(x.mul(beta).gt(threshold))),
  },
};

/** Applies the table's unary op `name` with up to two scalar parameters. */
export function unary(name: keyof typeof UNARY, x: Tensor, p0 = 0, p1 = 0): Tensor {
  const op = UNARY[name];
  if (op.floatOnly) checkFloat(name, x);
  let out = x.device === "gpu"
    ? gpuMap(name, op.wgsl, x.shape, x.dtype, x.dtype, [x], [p0, p1])
    : fused(name, op.expr, x, null, [p0, p1]);
  if (out === null) {
    out = Tensor.empty(x.shape, x.dtype);
    unaryKernel(op.expr, x.shape, strided(x), strided(out), x.isContiguous, p0, p1);
  }
  const grad = op.grad;
  return record(out, name, [x], op.usesOut ? [x, out] : [x], (g) => [grad(g, x, out, p0, p1)]);
}

/** Limits values to [min, max]; the gradient passes where the value was inside. */
export function clamp(x: Tensor, min?: number, max?: number): Tensor {
  if (min === undefined && max === undefined) {
    throw new TypeError("clamp: give at least one of min and max");
  }
  if (min !== undefined && max !== undefined && min > max) {
    throw new RangeError(`clamp: min ${min} is greater than max ${max}`);
  }
  const lo = min ?? -Infinity, hi = max ?? Infinity;
  const code = "x < p0 ? p0 : x > p1 ? p1 : x";
  let out = x.device === "gpu"
    ? gpuMap(
      "clamp",
      "select(select(x, T(p1), x > T(p1)), T(p0), x < T(p0))",
      x.shape,
      x.dtype,
      x.dtype,
      [x],
      [lo, hi],
    )
    : fused("clamp", code, x, null, [lo, hi]);
  if (out === null) {
    out = Tensor.empty(x.shape, x.dtype);
    unaryKernel(code, x.shape, strided(x), strided(out), x.isContiguous, lo, hi);
  }
  return record(out, "clamp", [x], [x], (g) => [g.mul(x.ge(lo).mul(x.le(hi)))]);
}

/** `a` where `cond` is non-zero, `b` elsewhere, broadcasting all three. */
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const dtype = typeof a !== "number" ? a.dtype : typeof b !== "number" ? b.dtype : "float32";
  const ta = typeof a === "number" ? full([], a, dtype, cond.device) : a;
  const tb = typeof b === "number" ? full([], b, dtype, cond.device) : b;
  checkSameDevice("where", cond, ta);
  checkDTypes("where", ta, tb);
  const shape = broadcastShapes("where", broadcastShapes("where", cond.shape, ta.shape), tb.shape);
  const out = cond.device === "gpu"
    ? gpuMap("where", "select(z, y, x != 0)", shape, dtype, dtype, [cond, ta, tb])
    : Tensor.empty(shape, dtype);
  if (cond.device === "cpu") {
    whereKernel(
      shape,
      stridedAs(cond, shape),
      stridedAs(ta, shape),
      stridedAs(tb, shape),
      strided(out),
    );
  }
  return record(out, "where", [ta, tb], [cond], (g) => {
    const zero = g.zerosLike();
    return [reduceTo(cond.where(g, zero), ta.shape), reduceTo(cond.where(zero, g), tb.shape)];
  });
}

// ---- in place ----------------------------------------------------------------------------

const IN_PLACE = { add: "x + y", sub: "x - y", mul: "x * y", div: "x / y", second: "y" } as const;
const IN_PLACE_WGSL = { add: "x + y", sub: "x - y", mul: "x * y", div: "x / y", second: "y" };

/**
 * Writes `target op= other` into `target`'s storage and bumps its version. Refused while
 * grad mode is on for a tensor that requires grad, as PyTorch refuses it for leaves.
 */
export function inPlace(
  name: string,
  target: Tensor,
  other: TensorLike,
  kind: keyof typeof IN_PLACE,
  alpha = 1,
): void {
  if (isGradEnabled() && target.requiresGrad) {
    throw new Error(
      `${name}: the tensor requires grad, so modifying it in place would corrupt the graph; ` +
        "do the update inside noGrad(() => …)",
    );
  }
  checkDTypes(name, target, other);
  let operand: TensorLike = other;
  if (typeof other !== "number") {
    const shape = broadcastShapes(name, target.shape, other.shape);
    if (!sameShape(shape, target.shape)) {
      throw new TypeError(
        `${name}: a tensor of shape ${fmt(other.shape)} cannot be written into ` +
          `shape ${fmt(target.shape)}`,
      );
    }
    // a view of the same storage read while it is written would see half-updated values
    const aliased = other.storage === target.storage;
    // the GPU kernel scales by alpha itself; the CPU loops take a scaled copy
    const scale = alpha !== 1 && target.device === "cpu";
    if (aliased || scale) operand = noGrad(() => (scale ? other.mul(alpha) : other.clone()));
  } else operand = other * alpha;
  if (target.device === "gpu") {
    const scaled = typeof operand !== "number" && alpha !== 1;
    elementwise(
      name,
      scaled ? "x + y * T(p0)" : IN_PLACE_WGSL[kind],
      target.shape,
      target.dtype,
      gpuOperand(target),
      [0, typeof operand === "number" ? operand : gpuOperand(operand, target.shape)],
      [alpha],
      true,
    );
    if (operand !== other && typeof operand !== "number") operand.dispose();
    target.storage.version++;
    return;
  }
  const b: Strided | number = typeof operand === "number"
    ? operand
    : stridedAs(operand, target.shape);
  const contiguous = target.isContiguous &&
    (typeof operand === "number" ||
      (operand.isContiguous && sameShape(operand.shape, target.shape)));
  if (contiguous && fusible(target.dtype)) {
    // the fused loop, which runs as SIMD where both lie in the heap (zeroGrad and gradient
    // accumulation, every step, over every parameter); its first leaf is the target itself
    const n = target.size, data = target.data;
    const x: Expr = { kind: "leaf", storage: target.storage, offset: target.offset };
    const y: Expr = typeof operand === "number"
      ? { kind: "scalar", value: operand }
      : { kind: "leaf", storage: operand.storage, offset: operand.offset };
    const e: Expr = kind === "second"
      ? y
      : { kind: "op", name: kind, code: IN_PLACE[kind], args: [x, y], params: [] };
    evaluate(e, data.subarray(target.offset, target.offset + n), n, HELPERS);
  } else {binaryKernel(
      IN_PLACE[kind],
      target.shape,
      strided(target),
      b,
      strided(target),
      contiguous,
    );}
  if (operand !== other && typeof operand !== "number") operand.dispose();
  target.storage.version++;
}
