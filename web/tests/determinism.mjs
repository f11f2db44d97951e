// Determinism across targets: every scenario in scenarios/ run through the
// WebAssembly build (pkg-node, what `node web/build.mjs` writes) must print
// the same JSON bytes as the native CLI for the same seed, apart from the
// wall-clock keys (any key containing `wall`). A run the CLI rejects must be
// rejected by the browser build too.
//
// Usage: node web/tests/determinism.mjs [path/to/sysdes]  (default target/release/sysdes)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const root = path.dirname(web);
const cli = path.resolve(process.argv[2] || path.join(root, 'target', 'release', 'sysdes'));
const engine = createRequire(import.meta.url)(path.join(web, 'pkg-node', 'sysdes_wasm.js'));

const withoutWall = (json) => json.split('\n').filter((l) => !/"[^"]*wall[^"]*":/.test(l));

// The simulated figures must be the same bytes. The `theory` objects are
// closed forms that call exp/ln/powf, which come from the platform's libm
// natively (glibc) and from Rust's bundled libm on wasm32; each is within
// 1 ulp (1.1e-16 relative) of the true value, so two builds may disagree in
// the last digits. A theory number may therefore differ by at most 1e-12
// times max(|value|, 1): relative for a prediction (some 10^4 ulps, room for
// a formula's error amplification, far below the 4 significant digits the
// table prints), absolute below 1, because a `*_diff` figure is
// simulated / predicted - 1, whose error is the prediction's relative error
// however small the difference. Anything else must match byte for byte.
const THEORY_TOLERANCE = 1e-12;
function compare(native, wasm) {
  const a = withoutWall(native), b = withoutWall(wasm);
  if (a.length !== b.length) return { diff: `JSON has ${a.length} lines natively, ${b.length} in wasm`, ulps: 0 };
  let depth = 0, theoryAt = -1, ulps = 0, worst = 0;
  for (let i = 0; i < a.length; i++) {
    if (/"theory": \{$/.test(a[i].trim())) theoryAt = depth;
    depth += (a[i].match(/[{[]/g) || []).length - (a[i].match(/[}\]]/g) || []).length;
    if (theoryAt >= 0 && depth <= theoryAt) theoryAt = -1;
    if (a[i] === b[i]) continue;
    const na = /^(\s*"[^"]+": )(-?[\d.e+-]+)(,?)$/.exec(a[i]), nb = /^(\s*"[^"]+": )(-?[\d.e+-]+)(,?)$/.exec(b[i]);
    const scale = na && nb ? Math.max(Math.abs(+na[2]), Math.abs(+nb[2]), 1) : 1;
    const close = na && nb && na[1] === nb[1] && Math.abs(+na[2] - +nb[2]) <= THEORY_TOLERANCE * scale;
    if (theoryAt >= 0 && close) {
      ulps += 1;
      worst = Math.max(worst, Math.abs(+na[2] - +nb[2]) / scale);
      continue;
    }
    return { diff: `JSON differs at line ${i + 1}:\n  native: ${a[i]}\n  wasm:   ${b[i]}`, ulps };
  }
  return { diff: null, ulps, worst };
}

let failures = 0;
const files = fs.readdirSync(path.join(root, 'scenarios')).filter((f) => f.endsWith('.yaml')).sort();
for (const file of files) {
  const rel = path.join('scenarios', file);
  const text = fs.readFileSync(path.join(root, rel), 'utf8');
  const t0 = Date.now();
  const native = spawnSync(cli, ['run', rel, '--format', 'json'], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  const t1 = Date.now();
  const out = JSON.parse(engine.run(text, '', '', undefined));
  const t2 = Date.now();
  let verdict, note = '';
  // Exit 1 with the document on stdout is an unstable run (the CLI still
  // writes its figures, the verdict says why): its bytes must match too.
  if (native.status === 0 || (native.status === 1 && native.stdout.trim().startsWith('{'))) {
    if (!out.ok) verdict = `native ran, wasm failed: ${out.error || JSON.stringify(out.problems)}`;
    else {
      const { diff, ulps, worst } = compare(native.stdout, out.json);
      verdict = diff;
      if (ulps) note = ` (${ulps} theory figure${ulps > 1 ? 's' : ''} within ${THEORY_TOLERANCE} x max(|value|, 1), the largest ${worst.toExponential(1)})`;
    }
  } else if (out.ok && out.stop === 'drained') {
    verdict = `native exited ${native.status} (${native.stderr.trim().split('\n').pop()}), wasm ran`;
  }
  console.log(`${verdict ? 'FAIL' : 'ok  '} ${file} (native ${t1 - t0} ms, wasm ${t2 - t1} ms)${note}${verdict ? '\n' + verdict : ''}`);
  if (verdict) failures += 1;
}
console.log(`${files.length - failures}/${files.length} scenarios give the same JSON bytes natively and in WebAssembly`);
process.exit(failures ? 1 : 0);
