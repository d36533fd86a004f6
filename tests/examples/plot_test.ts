import assert from "node:assert/strict";
import { curvesSvg } from "../../examples/lib/plot.ts";
import { formatDuration } from "../../examples/lib/progress.ts";

Deno.test("curvesSvg draws one loss and one accuracy path with a point per epoch", () => {
  const svg = curvesSvg([
    { epoch: 1, loss: 0.9, accuracy: 0.7 },
    { epoch: 2, loss: 0.5, accuracy: 0.85 },
    { epoch: 3, loss: 0.3, accuracy: 0.9 },
  ], "digits <mlp>");
  assert.match(svg, /^<svg /);
  const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
  assert.equal(paths.length, 2);
  for (const d of paths) assert.equal(d.split(/[ML]/).filter(Boolean).length, 3);
  assert.match(svg, /digits &lt;mlp&gt;/);
});

Deno.test("formatDuration writes minutes and seconds", () => {
  assert.equal(formatDuration(42.4), "42s");
  assert.equal(formatDuration(65), "1m05s");
  assert.equal(formatDuration(Infinity), "?");
});
