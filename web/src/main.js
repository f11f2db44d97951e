// The sysdes playground: a YAML editor over the real engine (WebAssembly).
// Validation and the topology run on this thread (they are fast); runs go
// to a Web Worker so the page stays responsive, and sweeps to one worker
// per core. The state lives in the URL fragment (see share.js).
import { EditorView, basicSetup } from 'codemirror';
import { yaml } from '@codemirror/lang-yaml';
import { linter, lintGutter } from '@codemirror/lint';
import { autocompletion } from '@codemirror/autocomplete';
import init, { validate, schema, topology } from '../pkg/sysdes_wasm.js';
import { parseFragment, makeFragment } from './share.js';
import { timeSeries, latencyCdf, lineChart } from './plots.js';
import { schemaCompletion } from './schema-complete.js';
import library from './generated/library.json';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const embed = params.get('embed') === '1';
if (embed) document.body.classList.add('embed');

const DEFAULT = library.find((s) => s.file === 'mm1.yaml') || library[0];
let lastResult = null;

// ---------------------------------------------------------------- engine
// Compiled once here and handed to every worker (a WebAssembly.Module can be
// posted), so a first visit downloads the engine once.
const wasmUrl = new URL('sysdes_wasm_bg.wasm', location.href);
const engine = await WebAssembly.compileStreaming(fetch(wasmUrl)).catch(async () =>
  // A host that does not send application/wasm: compile from the bytes.
  WebAssembly.compile(await (await fetch(wasmUrl)).arrayBuffer()),
);
await init({ module_or_path: engine });

/** A run worker with the engine loaded (runs posted before it is ready wait for it). */
function engineWorker() {
  const w = new Worker(new URL('worker.js', location.href), { type: 'module' });
  w.postMessage({ module: engine });
  return w;
}
const schemaRoot = JSON.parse(schema());

// ---------------------------------------------------------------- editor
/** Problems of the text as CodeMirror diagnostics (the CLI's messages and positions). */
function diagnostics(view) {
  const doc = view.state.doc;
  const problems = JSON.parse(validate(doc.toString(), ''));
  showProblems(problems);
  // Keep the diagram in step with the text (coloured only by a run of this very text).
  if (!problems.length) drawTopology(lastResult && lastResult.text === doc.toString() ? lastResult.json : '');
  return problems.map((p) => {
    let from = 0, to = 0;
    if (p.line > 0 && p.line <= doc.lines) {
      const line = doc.line(p.line);
      from = Math.min(line.from + Math.max(p.column - 1, 0), line.to);
      const word = /^[^\s,}\]]*/.exec(line.text.slice(from - line.from))[0];
      to = Math.max(from + word.length, Math.min(from + 1, line.to));
    }
    return {
      from, to, severity: 'error', source: 'sysdes',
      message: p.message + (p.help ? ` (help: ${p.help})` : ''),
    };
  });
}

const fragment = safeFragment();
const view = new EditorView({
  parent: $('editor'),
  doc: fragment.text ?? DEFAULT.text,
  extensions: [
    basicSetup,
    yaml(),
    lintGutter(),
    linter(diagnostics, { delay: 300 }),
    autocompletion({ override: [schemaCompletion(schemaRoot)] }),
    EditorView.updateListener.of((u) => {
      if (u.docChanged) scheduleHash();
      if (u.selectionSet || u.docChanged) updateSlider();
    }),
  ],
});
if (fragment.seed != null) $('seed').value = fragment.seed;
// A handle for the browser tests (web/tests/browser.mjs) and the console.
window.playground = { view };

function safeFragment() {
  try {
    return parseFragment(location.hash);
  } catch (e) {
    console.warn('ignoring a malformed share link', e);
    return { text: null, seed: null, run: false };
  }
}

const text = () => view.state.doc.toString();
const seed = () => $('seed').value.trim();

/** The problem list under the editor: `line N, column C: message (help)`, each a link to its place. */
function showProblems(problems) {
  const list = $('problems');
  list.replaceChildren();
  for (const p of problems) {
    const li = document.createElement('li');
    li.className = 'problem';
    li.dataset.line = p.line;
    li.dataset.column = p.column;
    li.textContent = (p.line > 0 ? `line ${p.line}, column ${p.column}: ` : '') + p.message + (p.help ? ` (help: ${p.help})` : '');
    li.onclick = () => {
      if (p.line > 0) {
        const line = view.state.doc.line(Math.min(p.line, view.state.doc.lines));
        view.dispatch({ selection: { anchor: Math.min(line.from + p.column - 1, line.to) }, scrollIntoView: true });
        view.focus();
      }
    };
    list.append(li);
  }
  list.hidden = problems.length === 0;
}

let hashTimer = 0;
function scheduleHash() {
  clearTimeout(hashTimer);
  hashTimer = setTimeout(() => history.replaceState(null, '', location.pathname + location.search + makeFragment(text(), seed(), false)), 400);
}

// ---------------------------------------------------------------- runs
let worker = null;
let runId = 0;
function newWorker() {
  const w = engineWorker();
  w.onmessage = onWorkerMessage;
  return w;
}

function run() {
  const problems = JSON.parse(validate(text(), ''));
  showProblems(problems);
  if (problems.length) {
    setStatus(`${problems.length} problem${problems.length > 1 ? 's' : ''} in the scenario: see the marks in the editor`, 'error');
    return;
  }
  if (!worker) worker = newWorker();
  runId += 1;
  document.body.classList.add('running');
  $('progress').value = 0;
  setStatus('running…');
  worker.postMessage({ id: runId, text: text(), seed: seed(), overrides: '' });
}

function stop() {
  if (!worker) return;
  worker.terminate();
  worker = null;
  document.body.classList.remove('running');
  setStatus('stopped');
}

function onWorkerMessage(event) {
  const m = event.data;
  if (m.id !== undefined && m.id !== runId) return;
  if (m.type === 'progress') {
    $('progress').value = Math.min(1, m.now / m.duration);
    setStatus(`running… ${(100 * m.now / m.duration).toFixed(0)} % of simulated time, ${m.events.toLocaleString()} events`);
  } else if (m.type === 'done') {
    document.body.classList.remove('running');
    $('progress').value = 1;
    showOutcome({ ...m.out, text: m.text });
  }
}

// The loader's warnings (settings that change nothing in this run), as
// `sysdes run` prints them on stderr, above the results.
function showWarnings(warnings) {
  const list = $('warnings');
  list.replaceChildren(...warnings.map((w) => {
    const li = document.createElement('li');
    li.textContent = w;
    return li;
  }));
  list.hidden = warnings.length === 0;
}

function setStatus(message, kind = '') {
  const s = $('status');
  s.textContent = message;
  s.className = kind;
}

function showOutcome(out) {
  if (!out.ok) {
    showWarnings([]);
    if (out.problems) showProblems(out.problems);
    setStatus(out.error || 'the scenario has problems', 'error');
    $('result-json').textContent = '';
    return;
  }
  lastResult = out;
  const doc = JSON.parse(out.json);
  $('result-json').textContent = out.json;
  $('result-text').textContent = out.table;
  setStatus(`done: ${doc.events.toLocaleString()} events in ${out.wall_time_s.toFixed(2)} s (${(doc.events / Math.max(out.wall_time_s, 1e-9) / 1e6).toFixed(1)} M events/s)` + (out.stop !== 'drained' ? `; stopped early (${out.stop}), results are partial` : ''), out.stop === 'drained' ? 'ok' : 'error');
  showWarnings(out.warnings || []);
  $('verdict').textContent = doc.verdict ? `verdict: ${doc.verdict}` : '';
  renderTable(doc);
  drawPlots(out, doc);
  drawTopology(out.json);
  document.body.classList.add('has-result');
}

// ---------------------------------------------------------------- plots
// The run's Vega-Lite specs (from the worker) drawn by Vega, which is a
// separate chunk fetched on the first run; the hand-drawn charts stand in
// only if the chunk cannot load or the specs are missing.
let vega = null;
let plotGeneration = 0;

async function drawPlots(out, doc) {
  const plots = $('plots');
  const generation = ++plotGeneration;
  plots.dataset.rendered = 'pending';
  if (Array.isArray(out.plots)) {
    try {
      vega ??= import(new URL('./vega.js', import.meta.url).href);
      const { renderSpecs } = await vega;
      if (generation !== plotGeneration) return;
      await renderSpecs(plots, out.plots);
      if (generation === plotGeneration) plots.dataset.rendered = 'vega';
      return;
    } catch (e) {
      vega = null;
      console.error('Vega plots failed, drawing the simple charts:', e);
    }
  }
  if (generation !== plotGeneration) return;
  plots.replaceChildren(timeSeries(out.series_csv, doc.faults), latencyCdf(out.latency_cdf_csv));
  plots.dataset.rendered = 'fallback';
}

// ---------------------------------------------------------------- table
const METRICS = [
  ['type', 'type', (r) => r.type ?? ''],
  ['utilization', 'util', (r) => (r.utilization == null ? '' : `${(100 * r.utilization).toFixed(1)} %`)],
  ['throughput_rps', 'req/s', (r) => num(r.throughput_rps)],
  ['latency_ms.mean', 'mean ms', (r) => num(r.latency_ms?.mean)],
  ['latency_ms.p50', 'p50 ms', (r) => num(r.latency_ms?.p50)],
  ['latency_ms.p99', 'p99 ms', (r) => num(r.latency_ms?.p99)],
  ['latency_ms.p999', 'p99.9 ms', (r) => num(r.latency_ms?.p999)],
  // A row whose formulas' assumptions fail says why, as the CLI's table does.
  ['theory.method', 'theory', (r) => (!r.theory ? ''
    : r.theory.not_predicted ? `not predicted: ${r.theory.not_predicted}`
    : `${r.theory.exact ? '=' : '~'} ${r.theory.method}`)],
  ['theory.mean_ms', 'theory mean ms', (r) => num(r.theory?.mean_ms)],
  ['theory.mean_diff', 'diff', (r) => (r.theory?.mean_diff == null ? '' : `${r.theory.mean_diff >= 0 ? '+' : ''}${(100 * r.theory.mean_diff).toFixed(1)} %`)],
];

function num(v) {
  if (v == null || !Number.isFinite(v)) return '';
  const a = Math.abs(v);
  return a >= 100 ? v.toLocaleString(undefined, { maximumFractionDigits: 1 }) : v.toPrecision(4);
}

function renderTable(doc) {
  const table = $('result-table');
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  head.insertCell().textContent = '';
  for (const [, label] of METRICS) {
    const th = document.createElement('th');
    th.textContent = label;
    head.append(th);
  }
  const body = table.createTBody();
  const rows = [['total', 'end to end', doc]];
  for (const [name, w] of Object.entries(doc.workloads || {})) rows.push([`workloads.${name}`, `workload ${name}`, w]);
  for (const [name, c] of Object.entries(doc.components || {})) rows.push([`components.${name}`, name, c]);
  for (const [key, label, r] of rows) {
    const tr = body.insertRow();
    tr.dataset.row = key;
    const th = document.createElement('th');
    th.textContent = label;
    tr.append(th);
    for (const [metric, , get] of METRICS) {
      const td = tr.insertCell();
      td.dataset.row = key;
      td.dataset.metric = metric;
      td.textContent = get(r);
    }
  }
}

// ---------------------------------------------------------------- topology
function drawTopology(resultJson = '') {
  const svg = topology(text(), '', resultJson);
  const box = $('topology');
  if (!svg) return;
  box.innerHTML = svg;
  for (const g of box.querySelectorAll('[data-component]')) {
    g.addEventListener('click', () => showFigures(g.dataset.component));
  }
}

function showFigures(name) {
  const panel = $('figures');
  if (!lastResult) {
    panel.textContent = `${name}: run the scenario to see its figures`;
    return;
  }
  const doc = JSON.parse(lastResult.json);
  const c = doc.components?.[name] ?? doc.workloads?.[name];
  panel.textContent = c ? `${name}\n${JSON.stringify(c, null, 2)}` : `${name}: no figures`;
}

// ---------------------------------------------------------------- slider
// A slider on the number under the cursor: drag, and the number in the
// text changes and the scenario reruns (debounced) — the hockey stick by hand.
let sliderTarget = null;
function numberAtCursor() {
  const pos = view.state.selection.main.head;
  const line = view.state.doc.lineAt(pos);
  const re = /(-?\d+(?:\.\d+)?(?:e-?\d+)?)([A-Za-z%/]*)/g;
  for (let m; (m = re.exec(line.text)); ) {
    const from = line.from + m.index, to = from + m[1].length;
    if (pos >= from && pos <= to + m[2].length && !/[\w.]$/.test(line.text.slice(0, m.index))) {
      return { from, to, value: +m[1], unit: m[2], line: line.number };
    }
  }
  return null;
}

function updateSlider() {
  const n = numberAtCursor();
  const box = $('slider-box');
  if (!n) {
    if (!sliderTarget || !box.contains(document.activeElement)) box.hidden = true;
    return;
  }
  sliderTarget = n;
  box.hidden = false;
  const s = $('slider');
  const max = n.value === 0 ? 10 : Math.abs(n.value) * 2;
  s.min = 0;
  s.max = max;
  s.step = max / 200;
  s.value = n.value;
  $('slider-label').textContent = `line ${n.line}: ${n.value}${n.unit}`;
}

let sliderTimer = 0;
function onSlide() {
  if (!sliderTarget) return;
  const v = +(+$('slider').value).toPrecision(3);
  const str = String(v);
  view.dispatch({ changes: { from: sliderTarget.from, to: sliderTarget.to, insert: str } });
  sliderTarget = { ...sliderTarget, to: sliderTarget.from + str.length, value: v };
  $('slider-label').textContent = `line ${sliderTarget.line}: ${v}${sliderTarget.unit}`;
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(() => {
    stop();
    run();
  }, 250);
}

// ---------------------------------------------------------------- sweeps
// Sweep the number under the cursor across one worker per core; the plot
// of latency against the value grows as runs finish.
let sweepWorkers = [];
function sweep() {
  const n = numberAtCursor() || sliderTarget;
  if (!n) {
    setStatus('put the cursor on a number in the scenario to sweep it', 'error');
    return;
  }
  stopSweep();
  const from = +$('sweep-from').value || n.value * 0.1;
  const to = +$('sweep-to').value || n.value * 1.9;
  const steps = Math.max(2, Math.min(64, +$('sweep-steps').value || 10));
  const values = Array.from({ length: steps }, (_, i) => +(from + ((to - from) * i) / (steps - 1)).toPrecision(4));
  const base = text();
  const jobs = values.map((v, i) => ({ id: 1e6 + i, v, text: base.slice(0, n.from) + v + base.slice(n.to) }));
  const total = jobs.length;
  const points = { p50: [], p99: [], mean: [] };
  // The CAP view, for scenarios with a replicated store: availability and
  // stale reads against the swept value.
  const cap = { availability: [], 'availability in faults': [], 'stale read rate': [] };
  const cores = Math.max(1, Math.min(navigator.hardwareConcurrency || 2, jobs.length));
  let done = 0;
  const draw = () => {
    const series = Object.entries(points).map(([name, pts]) => ({ name, points: [...pts].sort((a, b) => a[0] - b[0]) }));
    const xLabel = `value${n.unit ? ' (' + n.unit + ')' : ''}`;
    const charts = [lineChart({ title: `latency vs line ${n.line} value (${done}/${total} runs)`, xLabel, yLabel: 'latency (ms, log)', series, logY: true, dots: true })];
    if (cap.availability.length) {
      const capSeries = Object.entries(cap).map(([name, pts]) => ({ name, points: [...pts].sort((a, b) => a[0] - b[0]) }));
      charts.push(lineChart({ title: `CAP: availability and stale reads vs line ${n.line} value`, xLabel, yLabel: 'fraction', series: capSeries, dots: true }));
    }
    $('sweep-plot').replaceChildren(...charts);
  };
  draw();
  for (let c = 0; c < cores; c++) {
    const w = engineWorker();
    sweepWorkers.push(w);
    const next = () => {
      const job = jobs.shift();
      if (!job) {
        w.terminate();
        return;
      }
      w.onmessage = (e) => {
        if (e.data.type !== 'done') return;
        done += 1;
        if (e.data.out.ok) {
          const d = JSON.parse(e.data.out.json);
          points.p50.push([job.v, d.latency_ms.p50]);
          points.p99.push([job.v, d.latency_ms.p99]);
          points.mean.push([job.v, d.latency_ms.mean]);
          const c = d.consistency;
          if (c) {
            cap.availability.push([job.v, c.availability?.overall]);
            cap['availability in faults'].push([job.v, c.availability?.during_faults]);
            cap['stale read rate'].push([job.v, c.stale_read_rate]);
          }
        }
        draw();
        next();
      };
      w.postMessage({ id: job.id, text: job.text, seed: seed(), overrides: '' });
    };
    next();
  }
}

function stopSweep() {
  for (const w of sweepWorkers) w.terminate();
  sweepWorkers = [];
}

// ---------------------------------------------------------------- library
function renderLibrary(filter = '') {
  const list = $('library-list');
  list.replaceChildren();
  const q = filter.toLowerCase();
  for (const s of library) {
    if (q && !(s.file + ' ' + s.header).toLowerCase().includes(q)) continue;
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.textContent = s.file;
    b.onclick = () => {
      view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: s.text } });
      $('library').open = false;
      drawTopology();
    };
    const p = document.createElement('pre');
    p.textContent = s.header;
    li.append(b, p);
    list.append(li);
  }
}

// ---------------------------------------------------------------- wiring
$('run').onclick = run;
$('stop').onclick = stop;
$('share').onclick = async () => {
  const url = location.origin + location.pathname + location.search + makeFragment(text(), seed(), true);
  history.replaceState(null, '', url);
  try {
    await navigator.clipboard.writeText(url);
    setStatus('share link (runs on open) copied to the clipboard');
  } catch {
    setStatus('share link (runs on open) is in the address bar');
  }
};
$('slider').oninput = onSlide;
$('sweep-run').onclick = sweep;
$('sweep-stop').onclick = stopSweep;
$('library-search').oninput = (e) => renderLibrary(e.target.value);
$('seed').oninput = scheduleHash;
view.dom.addEventListener('keydown', (e) => {
  if ((e.ctrlKey || e.metaKey) && e.key === 'Enter') {
    e.preventDefault();
    run();
  }
});
renderLibrary();
drawTopology();
setStatus('ready: edit the scenario, then Run (Ctrl+Enter)');
document.body.classList.add('ready');
if (fragment.run) run();
