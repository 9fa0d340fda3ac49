// Inline SVG charts (no library, no CDN). Each chart has a <title>, role="img" and an
// aria-label summary; the pages also show the same numbers in a table.
const NS = "http://www.w3.org/2000/svg";

function el(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

/** Daily series as lines: series = [{name, values, dash?}], labels = x labels (dates). */
export function lineChart(labels, series, { title, width = 720, height = 240 } = {}) {
  const pad = { l: 40, r: 12, t: 16, b: 36 };
  const max = Math.max(1, ...series.flatMap((s) => s.values));
  const x = (i) => pad.l + (labels.length <= 1 ? 0 : (i * (width - pad.l - pad.r)) / (labels.length - 1));
  const y = (v) => height - pad.b - (v * (height - pad.t - pad.b)) / max;
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title, "data-testid": "trend-chart" });
  svg.append(el("title", {}, title));
  svg.append(el("line", { class: "axis", x1: pad.l, y1: height - pad.b, x2: width - pad.r, y2: height - pad.b }));
  svg.append(el("line", { class: "axis", x1: pad.l, y1: pad.t, x2: pad.l, y2: height - pad.b }));
  svg.append(el("text", { x: 4, y: pad.t + 4 }, String(max)), el("text", { x: 4, y: height - pad.b }, "0"));
  const step = Math.max(1, Math.ceil(labels.length / 6));
  labels.forEach((label, i) => { if (i % step === 0 || i === labels.length - 1) svg.append(el("text", { x: x(i), y: height - 12, "text-anchor": i === labels.length - 1 ? "end" : i === 0 ? "start" : "middle" }, label.slice(5))); });
  series.forEach((s, n) => {
    svg.append(el("polyline", { class: "line", points: s.values.map((v, i) => `${x(i)},${y(v)}`).join(" "), "stroke-dasharray": n ? "6 4" : "none" }));
    svg.append(el("text", { x: width - pad.r - 140, y: pad.t + 14 * (n + 1) }, `${n ? "- - " : "—— "}${s.name}`));
  });
  return svg;
}

/** Horizontal bars: entries = [[label, value]]. */
export function barChart(entries, { title, width = 720 } = {}) {
  const row = 26;
  const left = 200;
  const height = entries.length * row + 8;
  const max = Math.max(1, ...entries.map((e) => e[1]));
  const svg = el("svg", { viewBox: `0 0 ${width} ${height}`, class: "chart", role: "img", "aria-label": title });
  svg.append(el("title", {}, title));
  entries.forEach(([label, value], i) => {
    const w = ((width - left - 60) * value) / max;
    svg.append(el("text", { x: 4, y: i * row + 18 }, label));
    svg.append(el("rect", { class: "bar", x: left, y: i * row + 5, width: Math.max(w, 1), height: row - 10 }));
    svg.append(el("text", { x: left + w + 6, y: i * row + 18 }, String(value)));
  });
  return svg;
}
