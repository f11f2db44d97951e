// Small SVG charts for the playground: the run's time series (with fault
// windows shaded), its latency CDF, and the sweep's latency-vs-value plot.
// Hand-drawn rather than a charting library to keep the first load small.

const NS = 'http://www.w3.org/2000/svg';
const COLOURS = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442'];

/** Parses CSV without quoted commas (what sysdes writes) into {header, rows}. */
export function parseCsv(text) {
  const lines = text.trim().split('\n');
  const header = lines.shift().split(',');
  return { header, rows: lines.map((l) => l.split(',')) };
}

function el(name, attrs, text) {
  const e = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

function niceTicks(lo, hi, n = 5) {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * step; t += step) ticks.push(+t.toPrecision(12));
  return ticks;
}

function fmt(v) {
  const a = Math.abs(v);
  if (a >= 1e4 || (a > 0 && a < 1e-2)) return v.toExponential(1);
  return String(+v.toPrecision(4));
}

/**
 * A line chart: `series` is [{name, points: [[x, y], ...]}]; `shade` is
 * [{from, to, label}] x-ranges drawn as grey bands (fault windows).
 */
export function lineChart({ title, xLabel, yLabel, series, shade = [], logY = false, width = 560, height = 260, dots = false }) {
  const m = { l: 58, r: 12, t: 26, b: 38 };
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
  if (!all.length) {
    svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle', class: 'muted' }, `${title}: no data`));
    return svg;
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => (logY ? Math.log10(p[1]) : p[1]));
  const x0 = Math.min(...xs), x1 = Math.max(...xs);
  const y0 = logY ? Math.floor(Math.min(...ys)) : Math.min(0, Math.min(...ys));
  const y1 = logY ? Math.ceil(Math.max(...ys)) : Math.max(...ys) * 1.05 || 1;
  const sx = (x) => m.l + ((x - x0) / (x1 - x0 || 1)) * (width - m.l - m.r);
  const sy = (y) => height - m.b - (((logY ? Math.log10(y) : y) - y0) / (y1 - y0 || 1)) * (height - m.t - m.b);
  svg.append(el('text', { x: m.l, y: 16, class: 'chart-title' }, title));
  for (const s of shade) {
    const a = sx(Math.max(s.from, x0)), b = sx(Math.min(s.to, x1));
    if (b > a) {
      svg.append(el('rect', { x: a, y: m.t, width: b - a, height: height - m.t - m.b, class: 'fault' }));
      svg.append(el('text', { x: a + 2, y: m.t + 10, class: 'fault-label' }, s.label));
    }
  }
  for (const t of niceTicks(x0, x1)) {
    svg.append(el('line', { x1: sx(t), x2: sx(t), y1: height - m.b, y2: height - m.b + 4, class: 'axis' }));
    svg.append(el('text', { x: sx(t), y: height - m.b + 15, 'text-anchor': 'middle', class: 'tick' }, fmt(t)));
  }
  const yt = logY ? Array.from({ length: y1 - y0 + 1 }, (_, i) => 10 ** (y0 + i)) : niceTicks(y0, y1);
  for (const t of yt) {
    svg.append(el('line', { x1: m.l, x2: width - m.r, y1: sy(t), y2: sy(t), class: 'grid' }));
    svg.append(el('text', { x: m.l - 4, y: sy(t) + 3, 'text-anchor': 'end', class: 'tick' }, fmt(t)));
  }
  svg.append(el('text', { x: (m.l + width - m.r) / 2, y: height - 4, 'text-anchor': 'middle', class: 'label' }, xLabel));
  svg.append(el('text', { x: 12, y: (m.t + height - m.b) / 2, transform: `rotate(-90 12 ${(m.t + height - m.b) / 2})`, 'text-anchor': 'middle', class: 'label' }, yLabel));
  series.forEach((s, i) => {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!logY || y > 0));
    if (!pts.length) return;
    const colour = COLOURS[i % COLOURS.length];
    svg.append(el('polyline', { points: pts.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' '), fill: 'none', stroke: colour, 'stroke-width': 1.6 }));
    if (dots) for (const [x, y] of pts) svg.append(el('circle', { cx: sx(x), cy: sy(y), r: 3, fill: colour }));
    svg.append(el('text', { x: width - m.r - 4, y: m.t + 12 + 13 * i, 'text-anchor': 'end', fill: colour, class: 'legend' }, s.name));
  });
  return svg;
}

/** The time-series chart of a run: throughput and p99 per interval, faults shaded. */
export function timeSeries(seriesCsv, faults) {
  const { header, rows } = parseCsv(seriesCsv);
  const col = (n) => header.indexOf(n);
  const x = col('start_s');
  const pick = (name) => rows.map((r) => [+r[x], +r[col(name)]]);
  const shade = (faults || []).map((f) => ({ from: f.start_s, to: f.end_s ?? Infinity, label: `${f.kind} ${f.target ?? ''}` }));
  const frag = document.createDocumentFragment();
  frag.append(lineChart({ title: 'p99 latency per interval (ms)', xLabel: 'simulated time (s)', yLabel: 'ms', series: [{ name: 'p99', points: pick('latency_p99_ms') }, { name: 'mean', points: pick('latency_mean_ms') }], shade }));
  frag.append(lineChart({ title: 'throughput per interval (req/s)', xLabel: 'simulated time (s)', yLabel: 'req/s', series: [{ name: 'completed', points: pick('throughput_rps') }, { name: 'in flight', points: pick('in_flight') }], shade }));
  return frag;
}

/** The latency CDF of a run (log-scale latency). */
export function latencyCdf(cdfCsv) {
  const { rows } = parseCsv(cdfCsv);
  return lineChart({ title: 'latency CDF', xLabel: 'fraction of requests', yLabel: 'latency (ms, log)', logY: true, series: [{ name: 'end to end', points: rows.map((r) => [+r[1], +r[0]]) }] });
}
