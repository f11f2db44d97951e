// Drives the built playground (web/dist) in headless Chromium:
//  1. a share link with `&run=1` runs on load, and `#result-json` holds the
//     JSON `sysdes run --format json` prints for the same scenario and seed
//     (wall-clock keys aside); result cells carry data-row/data-metric;
//  2. a mistake shows inline at the line and column the CLI reports;
//  3. `?embed=1` shows only the editor, Run and the plot;
//  4. the topology is drawn, one box per component.
// With SCREENSHOTS=DIR it also saves the screenshots docs/playground.md uses;
// with SPEED=1 it times an M/M/1 run of 10^6 requests against the CLI.
//
// Usage: node web/tests/browser.mjs [path/to/sysdes]
// Chromium: $CHROMIUM, else /usr/bin/chromium (Debian's `chromium` package).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const root = path.dirname(web);
const dist = path.join(web, 'dist');
const cli = path.resolve(process.argv[2] || path.join(root, 'target', 'release', 'sysdes'));
const shots = process.env.SCREENSHOTS ? path.resolve(process.env.SCREENSHOTS) : null;

// Encoded with node's own zlib, independently of the app's fflate: the
// fragment format is the contract, not the library.
const share = (text, extra = '') => '#s=' + deflateRawSync(Buffer.from(text, 'utf8')).toString('base64url') + extra;
const withoutWall = (json) => json.split('\n').filter((l) => !/"[^"]*wall[^"]*":/.test(l)).join('\n');

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json' };
const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const file = path.join(dist, url.pathname === '/' ? 'index.html' : path.normalize(url.pathname));
  if (!file.startsWith(dist) || !fs.existsSync(file)) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': TYPES[path.extname(file)] || 'application/octet-stream' });
  fs.createReadStream(file).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let failures = 0;
async function check(name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures += 1;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}
async function page(url, viewport = { width: 1400, height: 1000 }) {
  const p = await browser.newPage({ viewport });
  const errors = [];
  p.on('pageerror', (e) => errors.push(e.message));
  p.wasmFetches = 0;
  p.vegaFetches = 0;
  p.on('request', (r) => {
    if (r.url().endsWith('.wasm')) p.wasmFetches += 1;
    if (r.url().endsWith('/vega.js')) p.vegaFetches += 1;
  });
  await p.goto(base + url);
  p.errors = errors;
  return p;
}

const SCENARIO = 'scenarios/fault-crash.yaml';
const SEED = '11';

await check('a share link with &run=1 gives the CLI JSON in #result-json', async () => {
  const text = fs.readFileSync(path.join(root, SCENARIO), 'utf8');
  const p = await page(share(text, `&seed=${SEED}&run=1`));
  await p.waitForFunction(() => document.getElementById('result-json').textContent.length > 0, null, { timeout: 60000 });
  const got = await p.$eval('#result-json', (e) => e.textContent);
  const native = spawnSync(cli, ['run', SCENARIO, '--seed', SEED, '--format', 'json'], { cwd: root, encoding: 'utf8' });
  assert(native.status === 0, `the CLI failed: ${native.stderr}`);
  assert(withoutWall(got) === withoutWall(native.stdout), 'the page JSON differs from the CLI JSON');
  const doc = JSON.parse(native.stdout);
  const p99 = await p.$eval('td[data-row="total"][data-metric="latency_ms.p99"]', (e) => e.textContent);
  assert(p99 !== '' && Math.abs(parseFloat(p99.replace(/,/g, '')) - doc.latency_ms.p99) / doc.latency_ms.p99 < 1e-3, `p99 cell ${p99} vs ${doc.latency_ms.p99}`);
  const util = await p.$eval('td[data-row="components.app-2"][data-metric="utilization"]', (e) => e.textContent);
  assert(util === `${(100 * doc.components['app-2'].utilization).toFixed(1)} %`, `utilization cell ${util}`);
  // A crash breaks the formulas' assumptions: the theory cell says why, as the CLI's table does.
  const theory = await p.$eval('td[data-row="components.app-2"][data-metric="theory.method"]', (e) => e.textContent);
  assert(doc.components['app-2'].theory.not_predicted && theory === `not predicted: ${doc.components['app-2'].theory.not_predicted}`, `theory cell ${theory}`);
  const boxes = await p.$$eval('#topology [data-component]', (gs) => gs.map((g) => g.dataset.component));
  for (const name of [...Object.keys(doc.components), ...Object.keys(doc.workloads)]) assert(boxes.includes(name), `no topology box for ${name}`);
  // The plots are the Vega-Lite specs sysdes-wasm built from the result,
  // drawn by Vega (the lazily fetched chunk), not the fallback charts.
  await p.waitForFunction(() => document.getElementById('plots').dataset.rendered !== 'pending', null, { timeout: 60000 });
  const rendered = await p.$eval('#plots', (e) => e.dataset.rendered);
  assert(rendered === 'vega', `the plots were drawn by ${rendered}, not Vega`);
  assert(p.vegaFetches === 1, `the Vega chunk was fetched ${p.vegaFetches} times`);
  const marks = await p.$$eval('#plots figure[data-plot] svg', (svgs) =>
    svgs.map((svg) => ({
      plot: svg.closest('figure').dataset.plot,
      // Vega draws a line mark as one path with a d attribute per series.
      lines: [...svg.querySelectorAll('g.mark-line path')].filter((e) => (e.getAttribute('d') || '').length > 20).length,
      // The shade layer's rect mark: a path per window (warm-up, faults) per panel.
      shades: svg.querySelectorAll('g.mark-rect path').length,
    })),
  );
  const cdfMarks = marks.find((m) => m.plot === 'latency_cdf');
  const seriesMarks = marks.find((m) => m.plot === 'timeseries');
  assert(cdfMarks && cdfMarks.lines >= 1, `no CDF line drawn: ${JSON.stringify(marks)}`);
  // Two panels: throughput (one line) and p50/p99 (two lines).
  assert(seriesMarks && seriesMarks.lines >= 3, `time-series lines: ${JSON.stringify(marks)}`);
  // The time axis spans the run (a spec that added CSV strings read 0..90,000).
  const timeTicks = await p.$$eval('#plots figure[data-plot="timeseries"] g.role-axis', (axes) =>
    axes
      .filter((a) => a.querySelector('.role-axis-title')?.textContent === 'simulated time (s)')
      .flatMap((a) => [...a.querySelectorAll('.role-axis-label text')].map((t) => parseFloat(t.textContent.replace(/,/g, '')))),
  );
  const lastEnd = Math.max(...doc.faults.map((f) => f.end_s));
  assert(timeTicks.length > 0 && Math.max(...timeTicks) >= lastEnd && Math.max(...timeTicks) <= 2 * lastEnd + 60, `time axis ticks ${timeTicks.join(' ')} for faults ending at ${lastEnd} s`);
  const windows = doc.faults.length + (doc.warmup_s > 0 ? 1 : 0);
  assert(doc.faults.length >= 1 && seriesMarks.shades === 2 * windows, `expected ${windows} shaded windows in each of the 2 panels, found ${seriesMarks.shades} bands`);
  assert(p.wasmFetches === 1, `the engine was fetched ${p.wasmFetches} times (page and workers should share one compiled module)`);
  // Share link: the fragment it writes decodes (with node's zlib, not the
  // app's fflate) to the editor's text, with the seed and run=1.
  await p.click('#share');
  const hash = await p.evaluate(() => location.hash);
  const params = new URLSearchParams(hash.slice(1));
  assert(inflateRawSync(Buffer.from(params.get('s'), 'base64url')).toString('utf8') === text, 'the share link does not decode to the scenario');
  assert(params.get('seed') === SEED && params.get('run') === '1', `share link parameters: ${hash.slice(0, 40)}...`);
  assert(!/[+/=]/.test(params.get('s')), 'the share link is not base64url without padding');
  assert(p.errors.length === 0, `page errors: ${p.errors.join('; ')}`);
  if (shots) {
    await p.click('#topology [data-component="app-2"]');
    await p.screenshot({ path: path.join(shots, 'playground-run.png'), fullPage: true });
  }
  await p.close();
});

await check('a mistake shows inline at the line and column the CLI reports', async () => {
  const text = fs.readFileSync(path.join(root, 'scenarios', 'mm1.yaml'), 'utf8').replace('target: server', 'target: sever');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysdes-web-'));
  fs.writeFileSync(path.join(tmp, 'bad.yaml'), text);
  const native = spawnSync(cli, ['validate', path.join(tmp, 'bad.yaml')], { encoding: 'utf8' });
  const where = /bad\.yaml:(\d+):(\d+)/.exec(native.stdout + native.stderr);
  assert(native.status === 2 && where, `the CLI should reject the file with a position: ${native.stderr}`);
  const [, line, column] = where;
  const p = await page(share(text));
  await p.waitForSelector('.cm-lintRange-error', { timeout: 30000 });
  const marked = await p.$eval('.cm-lintRange-error', (e) => {
    const lineEl = e.closest('.cm-line');
    const lines = [...document.querySelectorAll('.cm-content .cm-line')];
    return { line: lines.indexOf(lineEl) + 1, text: e.textContent };
  });
  assert(String(marked.line) === line, `marked line ${marked.line}, CLI says ${line}`);
  assert(marked.text === 'sever', `marked text "${marked.text}"`);
  const item = await p.$eval('#problems li', (e) => ({ line: e.dataset.line, column: e.dataset.column, text: e.textContent }));
  assert(item.line === line && item.column === column, `problem at ${item.line}:${item.column}, CLI ${line}:${column}`);
  assert(item.text.includes('did you mean `server`?'), `no suggestion in "${item.text}"`);
  if (shots) {
    await p.click('#run');
    await p.hover('.cm-lintRange-error');
    await p.waitForTimeout(600);
    await p.screenshot({ path: path.join(shots, 'playground-error.png') });
  }
  await p.close();
});

await check('the loader warnings sysdes run prints show above the table', async () => {
  // A workload priority with no priority server left: a located warning.
  const text = fs.readFileSync(path.join(root, 'scenarios', 'priority-and-reneging.yaml'), 'utf8').replace(/^(\s+)discipline: priority\b/m, '$1discipline: fifo');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysdes-web-'));
  fs.writeFileSync(path.join(tmp, 'scenario.yaml'), text);
  const native = spawnSync(cli, ['run', 'scenario.yaml', '--format', 'json'], { cwd: tmp, encoding: 'utf8' });
  const expected = native.stderr.split('\n').filter((l) => l.startsWith('warning: '));
  assert(native.status === 0 && expected.length >= 1, `the CLI should run and warn: ${native.stderr}`);
  const p = await page(share(text, '&run=1'));
  await p.waitForFunction(() => document.getElementById('result-json').textContent.length > 0, null, { timeout: 60000 });
  const shown = await p.$$eval('#warnings li', (lis) => lis.map((li) => li.textContent));
  assert(JSON.stringify(shown) === JSON.stringify(expected), `warnings shown ${JSON.stringify(shown)}, the CLI printed ${JSON.stringify(expected)}`);
  const above = await p.evaluate(() => document.getElementById('warnings').compareDocumentPosition(document.getElementById('result-table')) & Node.DOCUMENT_POSITION_FOLLOWING);
  const shownNow = await p.$eval('#warnings', (e) => !e.hidden && e.offsetParent !== null);
  assert(above && shownNow, 'the warnings are not shown above the table');
  await p.close();
});

await check('embed mode shows only the editor, Run and the plot', async () => {
  const text = fs.readFileSync(path.join(root, 'scenarios', 'hockey-stick.yaml'), 'utf8');
  const p = await page('?embed=1' + share(text, '&run=1'), { width: 1000, height: 600 });
  await p.waitForSelector('#plots svg', { timeout: 60000 });
  const visible = async (sel) => p.$eval(sel, (e) => e.offsetParent !== null || getComputedStyle(e).position === 'fixed');
  assert(await visible('#editor'), 'the editor is hidden');
  assert(await visible('#run'), 'Run is hidden');
  assert(await visible('#plots'), 'the plot is hidden');
  for (const sel of ['#library', '#result-table', '#topology', '#share', '#seed', '#sweep']) assert(!(await visible(sel)), `${sel} is shown in embed mode`);
  if (shots) await p.screenshot({ path: path.join(shots, 'playground-embed.png') });
  await p.close();
});

await check('a sweep across workers draws latency against the swept value; the slider edits the number', async () => {
  const text = fs.readFileSync(path.join(root, 'scenarios', 'hockey-stick.yaml'), 'utf8');
  const p = await page(share(text));
  await p.waitForFunction(() => document.body.classList.contains('ready'));
  const at = text.indexOf('poisson: 200') + 'poisson: '.length + 1;
  await p.evaluate((pos) => window.playground.view.dispatch({ selection: { anchor: pos } }), at);
  await p.waitForSelector('#slider-box:not([hidden])');
  const label = await p.$eval('#slider-label', (e) => e.textContent);
  assert(label.includes('200/s'), `slider label "${label}"`);
  await p.click('#sweep summary');
  await p.fill('#sweep-from', '50');
  await p.fill('#sweep-to', '240');
  await p.fill('#sweep-steps', '6');
  await p.click('#sweep-run');
  await p.waitForFunction(() => /\(6\/6 runs\)/.test(document.querySelector('#sweep-plot')?.textContent || ''), null, { timeout: 60000 });
  const dots = await p.$$eval('#sweep-plot circle', (c) => c.length);
  assert(dots === 18, `expected 6 points x 3 statistics, found ${dots}`);
  // The slider rewrites the number in the text (and reruns).
  await p.$eval('#slider', (s) => {
    s.value = String(Number(s.max) * 0.6);
    s.dispatchEvent(new Event('input'));
  });
  const line = await p.evaluate(() => window.playground.view.state.doc.toString().match(/poisson: ([\d.]+)\/s/)[1]);
  assert(line === '240', `the slider set the rate to ${line}, expected 240 (0.6 x 400)`);
  await p.waitForFunction(() => document.getElementById('result-json').textContent.includes('"throughput_rps"'), null, { timeout: 60000 });
  if (shots) await p.screenshot({ path: path.join(shots, 'playground-sweep.png'), fullPage: true });
  if (shots) {
    await p.click('#library summary');
    await p.fill('#library-search', 'cache');
    await p.waitForTimeout(200);
    await p.screenshot({ path: path.join(shots, 'playground-library.png') });
  }
  assert(p.errors.length === 0, `page errors: ${p.errors.join('; ')}`);
  await p.close();
});

await check('a sweep of a scenario with a replicated store also draws the CAP plot live', async () => {
  const text = fs.readFileSync(path.join(root, 'scenarios', 'cap-cp-vs-ap.yaml'), 'utf8');
  const p = await page(share(text));
  await p.waitForFunction(() => document.body.classList.contains('ready'));
  const at = text.indexOf('at: 20s, for: 20s') + 'at: 20s, for: '.length + 1;
  await p.evaluate((pos) => window.playground.view.dispatch({ selection: { anchor: pos } }), at);
  await p.click('#sweep summary');
  await p.fill('#sweep-from', '5');
  await p.fill('#sweep-to', '40');
  await p.fill('#sweep-steps', '4');
  await p.click('#sweep-run');
  await p.waitForFunction(() => /\(4\/4 runs\)/.test(document.querySelector('#sweep-plot')?.textContent || ''), null, { timeout: 90000 });
  const titles = await p.$$eval('#sweep-plot .chart-title', (t) => t.map((e) => e.textContent));
  assert(titles.length === 2 && titles[1].startsWith('CAP'), `charts: ${titles.join(' | ')}`);
  const dots = await p.$$eval('#sweep-plot svg:nth-of-type(2) circle', (c) => c.length);
  assert(dots === 12, `expected 4 points x 3 CAP series, found ${dots}`);
  if (shots) await p.screenshot({ path: path.join(shots, 'playground-cap-sweep.png'), fullPage: true });
  assert(p.errors.length === 0, `page errors: ${p.errors.join('; ')}`);
  await p.close();
});

if (process.env.SPEED) {
  await check('speed: M/M/1, 10^6 requests, browser vs CLI', async () => {
    const text = `name: mm1-speed\nseed: 1\nduration: 1111111s\nwarmup: 0s\nworkloads:\n  - name: users\n    target: server\n    arrival: { poisson: 0.9/s }\ncomponents:\n  server:\n    type: server\n    service_time: { exponential: 1s }\n`;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sysdes-speed-'));
    fs.writeFileSync(path.join(tmp, 'mm1-speed.yaml'), text);
    const nativeWall = [];
    let requests = 0, nativeJson = '';
    for (let i = 0; i < 5; i++) {
      const native = spawnSync(cli, ['run', path.join(tmp, 'mm1-speed.yaml'), '--format', 'json'], { encoding: 'utf8' });
      const doc = JSON.parse(native.stdout);
      nativeWall.push(doc.wall_time_s);
      requests = doc.requests.generated;
      nativeJson = native.stdout;
    }
    const p = await page(share(text));
    const browserWall = [];
    for (let i = 0; i < 5; i++) {
      await p.evaluate(() => (document.getElementById('result-json').textContent = ''));
      await p.click('#run');
      await p.waitForFunction(() => document.getElementById('result-json').textContent.length > 0, null, { timeout: 120000 });
      const got = await p.$eval('#result-json', (e) => e.textContent);
      assert(withoutWall(got) === withoutWall(nativeJson), 'the browser ran something else than the CLI');
      browserWall.push(JSON.parse(got).wall_time_s);
    }
    const best = (xs) => Math.min(...xs);
    console.log(`     ${requests} requests: CLI best of 5 ${best(nativeWall).toFixed(3)} s, headless Chromium best of 5 ${best(browserWall).toFixed(3)} s, ratio ${(best(browserWall) / best(nativeWall)).toFixed(2)}`);
    await p.close();
  });
}

await browser.close();
server.close();
console.log(failures ? `${failures} browser check(s) failed` : 'all browser checks passed');
process.exit(failures ? 1 : 0);
