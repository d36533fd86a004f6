/**
 * Bad inputs get the right error class and a message that names the op and the values
 * involved, so a user can fix the call from the message alone.
 */
import assert from "node:assert/strict";
import { arange, concat, ones, stack, tensor, zeros } from "../../mod.ts";

type ErrorClass = typeof Error | typeof TypeError | typeof RangeError;

/** Asserts `fn` throws exactly `cls` (not a subclass of Error standing in for it) with every fragment. */
function throwsWith(fn: () => unknown, cls: ErrorClass, ...fragments: (string | RegExp)[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal((e as Error).constructor, cls, `expected ${cls.name}, got ${(e as Error).name}`);
    const message = (e as Error).message;
    for (const f of fragments) {
      if (typeof f === "string") assert.ok(message.includes(f), `"${f}" missing from: ${message}`);
      else assert.match(message, f);
    }
    return true;
  });
}

Deno.test("add() rejects shapes that do not broadcast, naming both shapes", () => {
  throwsWith(() => ones([2, 3]).add(ones([4])), TypeError, "add", "[2, 3]", "[4]", "broadcast");
  throwsWith(() => ones([4]).mul(ones([2, 3])), TypeError, "mul", "[4]", "[2, 3]");
  throwsWith(
    () => ones([2, 3, 4]).sub(ones([3, 1, 2])),
    TypeError,
    "sub",
    "[2, 3, 4]",
    "[3, 1, 2]",
  );
  throwsWith(() => ones([3]).maximum(ones([2])), TypeError, "maximum", "[3]", "[2]");
});

Deno.test("where() rejects a mask that does not broadcast, naming both shapes", () => {
  throwsWith(() => ones([2]).where(ones([3]), 0), TypeError, "where", "[2]", "[3]");
});

Deno.test("in-place ops reject an operand that would grow the target", () => {
  throwsWith(() => zeros([3]).addInPlace(ones([2, 3])), TypeError, "addInPlace", "[2, 3]", "[3]");
  throwsWith(() => zeros([3]).copyInPlace(ones([2])), TypeError, "copyInPlace", "[2]", "[3]");
});

Deno.test("matmul() rejects mismatched inner dimensions", () => {
  throwsWith(
    () => ones([2, 3]).matmul(ones([4, 5])),
    TypeError,
    "matmul",
    "[2, 3]",
    "[4, 5]",
    "3",
    "4",
  );
  throwsWith(() => ones([3]).matmul(ones([4])), TypeError, "matmul", "[3]", "[4]");
  throwsWith(() => ones([2, 2, 3]).matmul(ones([2])), TypeError, "matmul", "[2, 2, 3]", "[2]");
});

Deno.test("matmul() rejects batch dimensions that do not broadcast and 0-d operands", () => {
  throwsWith(() => ones([2, 1, 3]).matmul(ones([3, 3, 2])), TypeError, "matmul", "[2]", "[3]");
  throwsWith(() => ones([]).matmul(ones([2])), TypeError, "matmul", "at least 1 dimension");
});

Deno.test("axis arguments out of range throw a RangeError naming the op, axis and range", () => {
  const x = ones([2, 3]);
  throwsWith(() => x.sum(2), RangeError, "sum", "axis 2", "-2 to 1");
  throwsWith(() => x.mean(-3), RangeError, "mean", "axis -3");
  throwsWith(() => x.max(5), RangeError, "max", "axis 5");
  throwsWith(() => x.softmax(2), RangeError, "softmax", "axis 2");
  throwsWith(() => x.transpose(0, 2), RangeError, "transpose", "axis 2");
  throwsWith(() => x.unsqueeze(3), RangeError, "unsqueeze", "axis 3");
  throwsWith(() => x.slice(2, 0), RangeError, "slice", "axis 2");
  throwsWith(() => x.argmax(-3), RangeError, "argmax", "axis -3");
  throwsWith(() => concat([x, x], 2), RangeError, "concat", "axis 2");
  throwsWith(() => x.sum([0, -2]), RangeError, "sum", "same axis");
  throwsWith(() => x.sum(0.5), RangeError, "sum", "axis 0.5");
});

Deno.test("select() and narrow() out of range throw a RangeError naming the sizes", () => {
  const x = ones([2, 3]);
  throwsWith(() => x.select(1, 3), RangeError, "select", "index 3", "size 3");
  throwsWith(() => x.narrow(1, 2, 2), RangeError, "narrow", "start 2", "length 2", "size 3");
  throwsWith(() => x.slice(1, 0, 3, 0), RangeError, "slice", "step", "0");
});

Deno.test("reshape() to a different element count names both shapes and counts", () => {
  throwsWith(
    () => ones([2, 3]).reshape([4]),
    TypeError,
    "reshape",
    "[2, 3]",
    "6 elements",
    "[4]",
    "4 elements",
  );
  throwsWith(() => ones([2, 3]).reshape([-1, 4]), TypeError, "reshape", "[2, 3]", "[-1, 4]");
  throwsWith(() => ones([2, 3]).reshape([-1, -1]), TypeError, "reshape", "-1");
  throwsWith(() => ones([2, 3]).view([5]), TypeError, "view", "[2, 3]", "[5]");
  throwsWith(() => ones([2, 3]).T.view([6]), TypeError, "view", "[3, 2]", "reshape()");
});

Deno.test("expand() and permute() reject impossible layouts", () => {
  throwsWith(() => ones([2, 3]).expand([2, 4]), TypeError, "expand", "[2, 3]", "[2, 4]");
  throwsWith(() => ones([2, 3]).expand([3]), TypeError, "expand", "[2, 3]", "[3]");
  throwsWith(() => ones([2, 3]).permute([0]), TypeError, "permute", "1 axes", "2 dimensions");
  throwsWith(() => ones([2, 3]).permute([0, 0]), TypeError, "permute", "[0, 0]");
});

Deno.test("binary ops reject mixed dtypes, naming both dtypes and shapes", () => {
  const f32 = ones([2]), f64 = ones([2], { dtype: "float64" }), i32 = ones([2], { dtype: "int32" });
  throwsWith(() => f32.add(f64), TypeError, "add", "dtype mismatch", "float32", "float64", "[2]");
  throwsWith(() => i32.mul(f32), TypeError, "mul", "int32", "float32");
  throwsWith(() => f32.matmul(f64), TypeError, "matmul", "float32", "float64");
  throwsWith(() => concat([f32, f64]), TypeError, "concat", "float32", "float64");
  throwsWith(() => f32.where(f32, f64), TypeError, "where", "float32", "float64");
});

Deno.test("float-only ops on int32 name the op and the dtype", () => {
  const i = ones([2], { dtype: "int32" });
  throwsWith(() => i.exp(), TypeError, "exp", "int32");
  throwsWith(() => i.log(), TypeError, "log", "int32");
  throwsWith(() => i.div(2), TypeError, "div", "int32");
  throwsWith(() => i.mean(), TypeError, "mean", "int32");
  throwsWith(() => i.softmax(), TypeError, "softmax", "int32");
  throwsWith(() => i.matmul(i), TypeError, "matmul", "int32");
  throwsWith(() => (i.requiresGrad = true), TypeError, "requiresGrad", "int32");
  throwsWith(() => ones([2], { dtype: "int32", requiresGrad: true }), TypeError, "int32");
});

Deno.test("backward() on a non-scalar names the shape", () => {
  const y = ones([2, 3], { requiresGrad: true }).mul(2);
  throwsWith(() => y.backward(), Error, "backward", "[2, 3]");
});

Deno.test("backward() twice names retainGraph", () => {
  const y = ones([2], { requiresGrad: true }).exp().sum();
  y.backward();
  throwsWith(() => y.backward(), Error, "backward", "sum", "already freed", "retainGraph");
});

Deno.test("tensor() with checkFinite rejects NaN and Infinity, naming the value and position", () => {
  throwsWith(
    () => tensor([1, NaN, 3], { checkFinite: true }),
    RangeError,
    "tensor",
    "NaN",
    "index 1",
  );
  throwsWith(
    () => tensor([[1, 2], [Infinity, 4]], { checkFinite: true }),
    RangeError,
    "Infinity",
    "index 2",
  );
  throwsWith(
    () => tensor(new Float64Array([-Infinity]), { checkFinite: true }),
    RangeError,
    "-Infinity",
    "index 0",
  );
  // without the option the values are kept as given
  assert.ok(Number.isNaN(tensor([NaN]).item()));
});

Deno.test("tensor() rejects ragged nested arrays, naming the path and both shapes", () => {
  throwsWith(() => tensor([[1, 2], [3]]), TypeError, "tensor", "ragged", "data[1]", "[1]", "[2]");
  throwsWith(() => tensor([[[1], [2]], [[3], [4, 5]]]), TypeError, "ragged", "data[1][1]");
  throwsWith(() => tensor([1, [2]] as never), TypeError, "tensor", "data[1]");
  throwsWith(() => tensor([1, "a"] as never), TypeError, "tensor", "data[1]", "a");
});

Deno.test("tensor() rejects data that does not fill the shape option", () => {
  throwsWith(() => tensor([1, 2, 3], { shape: [2, 2] }), TypeError, "tensor", "3 values", "[2, 2]");
  throwsWith(() => tensor(new Uint8Array(2) as never), TypeError, "tensor", "Uint8Array");
});

Deno.test("an invalid dtype option names the option dtype and the value", () => {
  throwsWith(
    () => tensor([1], { dtype: "float16" as never }),
    TypeError,
    "tensor",
    "dtype",
    "float16",
  );
  throwsWith(() => zeros([2], { dtype: "int64" as never }), TypeError, "full", "dtype", "int64");
  throwsWith(
    () => arange(3, undefined, 1, { dtype: "bool" as never }),
    TypeError,
    "arange",
    "dtype",
    "bool",
  );
});

Deno.test("invalid shapes name the op and the offending size", () => {
  throwsWith(() => zeros([2, -1]), TypeError, "full", "[2, -1]", "-1");
  throwsWith(() => ones([1.5]), TypeError, "full", "1.5");
});

Deno.test("item() on a multi-element tensor names the count and shape", () => {
  throwsWith(() => ones([2, 2]).item(), TypeError, "item", "4 elements", "[2, 2]");
  throwsWith(() => zeros([0]).item(), TypeError, "item", "0 elements");
});

Deno.test("gather() and indexSelect() reject indices out of range, naming index and size", () => {
  const x = ones([2, 3]);
  throwsWith(
    () => x.gather(1, tensor([[0, 3]], { dtype: "int32" })),
    RangeError,
    "gather",
    "index 3",
    "dimension 1",
    "size 3",
  );
  throwsWith(
    () => x.gather(1, tensor([[-1]], { dtype: "int32" })),
    RangeError,
    "gather",
    "index -1",
  );
  throwsWith(
    () => x.indexSelect(0, tensor([0, 2], { dtype: "int32" })),
    RangeError,
    "index 2",
    "size 2",
  );
  throwsWith(() => x.gather(1, tensor([[0]])), TypeError, "gather", "int32", "float32");
  throwsWith(
    () => x.gather(1, tensor([0], { dtype: "int32" })),
    TypeError,
    "gather",
    "[1]",
    "[2, 3]",
  );
});

Deno.test("oneHot() rejects class indices out of range, naming the index and class count", () => {
  const labels = tensor([0, 3, 1], { dtype: "int32" });
  throwsWith(() => labels.oneHot(3), RangeError, "oneHot", "index 3", "3 classes");
  throwsWith(() => tensor([-1], { dtype: "int32" }).oneHot(2), RangeError, "oneHot", "-1");
  throwsWith(() => labels.oneHot(0), RangeError, "oneHot", "numClasses", "0");
  throwsWith(() => tensor([1]).oneHot(2), TypeError, "oneHot", "int32", "float32");
});

Deno.test("clamp() with min greater than max names both bounds", () => {
  throwsWith(() => ones([2]).clamp(2, 1), RangeError, "clamp", "min 2", "max 1");
  throwsWith(() => ones([2]).clamp(), TypeError, "clamp", "min", "max");
});

Deno.test("arange() with step 0 throws a RangeError naming the step", () => {
  throwsWith(() => arange(0, 5, 0), RangeError, "arange", "step", "0");
  throwsWith(() => arange(0, 5, NaN), RangeError, "arange", "NaN");
});

Deno.test("exp() on int32 names the op and the dtype and suggests a conversion", () => {
  throwsWith(
    () => arange(3, undefined, 1, { dtype: "int32" }).exp(),
    TypeError,
    "exp",
    "int32",
    ".float()",
  );
});

Deno.test("gelu() rejects an unknown approximation by name", () => {
  throwsWith(() => ones([2]).gelu("erf" as never), RangeError, "gelu", "erf");
});

Deno.test("reductions over an empty dimension name the shape", () => {
  throwsWith(() => zeros([2, 0]).max(1), RangeError, "max", "[2, 0]");
  throwsWith(() => zeros([0]).argmin(), RangeError, "argmin", "empty");
});

Deno.test("concat() and stack() name the mismatched shapes", () => {
  throwsWith(
    () => concat([ones([2, 3]), ones([2, 4])]),
    TypeError,
    "concat",
    "[2, 3]",
    "[2, 4]",
    "axis 0",
  );
  throwsWith(() => concat([]), TypeError, "concat", "at least one");
  throwsWith(() => stack([ones([2]), ones([3])]), TypeError, "stack", "[2]", "[3]");
});
