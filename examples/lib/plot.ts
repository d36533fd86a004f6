/**
 * Training curves as a self-contained SVG: loss (left axis) and held-out accuracy (right
 * axis) per epoch, drawn without any library.
 */

/** One point per epoch. */
export interface CurvePoint {
  epoch: number;
  loss: number;
  accuracy: number;
}

function escape(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

/** An SVG document plotting loss and accuracy against epoch. */
export function curvesSvg(points: readonly CurvePoint[], title: string): string {
  const w = 640, h = 360, left = 60, right = 60, top = 40, bottom = 50;
  const pw = w - left - right, ph = h - top - bottom;
  const maxEpoch = Math.max(1, ...points.map((p) => p.epoch));
  const maxLoss = Math.max(1e-9, ...points.map((p) => p.loss)) * 1.05;
  const x = (e: number) => left + (e / maxEpoch) * pw;
  const yLoss = (l: number) => top + ph - (l / maxLoss) * ph;
  const yAcc = (a: number) => top + ph - a * ph;
  const path = (f: (p: CurvePoint) => number) =>
    points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.epoch).toFixed(1)},${f(p).toFixed(1)}`).join(
      " ",
    );
  const ticks: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const fy = top + ph - (i / 4) * ph;
    ticks.push(
      `<line x1="${left}" y1="${fy}" x2="${left + pw}" y2="${fy}" stroke="#eee"/>`,
      `<text x="${left - 6}" y="${fy + 4}" text-anchor="end" font-size="11">${
        (maxLoss * i / 4).toFixed(3)
      }</text>`,
      `<text x="${left + pw + 6}" y="${fy + 4}" font-size="11">${(i * 25).toFixed(0)}%</text>`,
    );
  }
  for (const p of points) {
    ticks.push(
      `<text x="${x(p.epoch)}" y="${
        top + ph + 18
      }" text-anchor="middle" font-size="11">${p.epoch}</text>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${w / 2}" y="22" text-anchor="middle" font-size="14">${escape(title)}</text>
${ticks.join("\n")}
<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>
<path d="${path((p) => yLoss(p.loss))}" fill="none" stroke="#d62728" stroke-width="2"/>
<path d="${path((p) => yAcc(p.accuracy))}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<text x="${left}" y="${h - 12}" font-size="12" fill="#d62728">training loss (left)</text>
<text x="${left + pw}" y="${
    h - 12
  }" text-anchor="end" font-size="12" fill="#1f77b4">held-out accuracy (right)</text>
<text x="${left + pw / 2}" y="${h - 12}" text-anchor="middle" font-size="12">epoch</text>
</svg>
`;
}
