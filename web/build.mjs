// Builds the playground into web/dist: the engine (crates/sysdes-wasm) for
// wasm32 with cargo, its JavaScript glue with wasm-bindgen (for the browser
// in pkg/, for node in pkg-node/), the scenario library from scenarios/,
// and the bundle with esbuild. Run from anywhere: `node web/build.mjs`.
//
// Needs: the Rust target wasm32-unknown-unknown, wasm-bindgen-cli of the
// same version as the wasm-bindgen crate in Cargo.lock, and `npm ci` in web/.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const web = path.dirname(fileURLToPath(import.meta.url));
const root = path.dirname(web);
const dist = path.join(web, 'dist');
const target = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(root, 'target');
const sh = (cmd, args) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });

// 1. The engine.
sh('cargo', ['build', '--locked', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'sysdes-wasm']);
const wasm = path.join(target, 'wasm32-unknown-unknown', 'release', 'sysdes_wasm.wasm');
sh('wasm-bindgen', ['--target', 'web', '--remove-name-section', '--remove-producers-section', '--out-dir', path.join(web, 'pkg'), wasm]);
sh('wasm-bindgen', ['--target', 'nodejs', '--out-dir', path.join(web, 'pkg-node'), wasm]);
// web/ is an ES-module package; the nodejs glue is CommonJS.
fs.writeFileSync(path.join(web, 'pkg-node', 'package.json'), '{ "type": "commonjs" }\n');

// 2. The scenario library: each file's text and its leading comment block.
const scenarios = path.join(root, 'scenarios');
const library = fs
  .readdirSync(scenarios)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((file) => {
    const text = fs.readFileSync(path.join(scenarios, file), 'utf8');
    const header = [];
    for (const line of text.split('\n')) {
      if (!line.startsWith('#')) break;
      header.push(line.replace(/^# ?/, ''));
    }
    return { file, header: header.join('\n').trim(), text };
  });
fs.mkdirSync(path.join(web, 'src', 'generated'), { recursive: true });
fs.writeFileSync(path.join(web, 'src', 'generated', 'library.json'), JSON.stringify(library));

// 3. The bundle.
fs.rmSync(dist, { recursive: true, force: true });
fs.mkdirSync(dist, { recursive: true });
await esbuild.build({
  // vega.js is its own entry: main.js imports it by URL after the first
  // run, so it is not part of the first load.
  entryPoints: [path.join(web, 'src', 'main.js'), path.join(web, 'src', 'worker.js'), path.join(web, 'src', 'vega.js'), path.join(web, 'src', 'main.css')],
  outdir: dist,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  logLevel: 'warning',
});
fs.copyFileSync(path.join(web, 'index.html'), path.join(dist, 'index.html'));
fs.copyFileSync(path.join(web, 'pkg', 'sysdes_wasm_bg.wasm'), path.join(dist, 'sysdes_wasm_bg.wasm'));

// 4. Sizes, raw and compressed: what a first visit downloads (everything in
// dist but the Vega chunk), and the chunk fetched after the first run.
const LAZY = new Set(['vega.js']);
const sizes = (files) => {
  let raw = 0, gz = 0, br = 0;
  for (const f of files) {
    const bytes = fs.readFileSync(path.join(dist, f));
    raw += bytes.length;
    gz += zlib.gzipSync(bytes, { level: 9 }).length;
    br += zlib.brotliCompressSync(bytes).length;
  }
  const mb = (n) => (n / 1e6).toFixed(2) + ' MB';
  return `${mb(raw)} raw, ${mb(gz)} gzip, ${mb(br)} brotli`;
};
const files = fs.readdirSync(dist);
console.log(`web/dist: ${sizes(files.filter((f) => !LAZY.has(f)))} (first load)`);
console.log(`web/dist: ${sizes(files.filter((f) => LAZY.has(f)))} (Vega chunk, fetched after the first run)`);
