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

// Every line must match byte for byte, theory included: the theory's
// exp/ln/pow come from the `libm` crate on every target (sysdes-theory's
// portable.rs), not from the platform's math library.
function compare(native, wasm) {
  const a = withoutWall(native), b = withoutWall(wasm);
  if (a.length !== b.length) return `JSON has ${a.length} lines natively, ${b.length} in wasm`;
  const i = a.findIndex((line, k) => line !== b[k]);
  return i < 0 ? null : `JSON differs at line ${i + 1}:\n  native: ${a[i]}\n  wasm:   ${b[i]}`;
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
  let verdict;
  // Exit 1 with the document on stdout is an unstable run (the CLI still
  // writes its figures, the verdict says why): its bytes must match too.
  if (native.status === 0 || (native.status === 1 && native.stdout.trim().startsWith('{'))) {
    if (!out.ok) verdict = `native ran, wasm failed: ${out.error || JSON.stringify(out.problems)}`;
    else verdict = compare(native.stdout, out.json);
  } else if (out.ok && out.stop === 'drained') {
    verdict = `native exited ${native.status} (${native.stderr.trim().split('\n').pop()}), wasm ran`;
  }
  console.log(`${verdict ? 'FAIL' : 'ok  '} ${file} (native ${t1 - t0} ms, wasm ${t2 - t1} ms)${verdict ? '\n' + verdict : ''}`);
  if (verdict) failures += 1;
}
console.log(`${files.length - failures}/${files.length} scenarios give the same JSON bytes natively and in WebAssembly`);
process.exit(failures ? 1 : 0);
