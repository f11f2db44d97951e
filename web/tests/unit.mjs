// Unit checks of the page's pure modules under node: schema-driven key
// completion (the YAML path at the cursor, the keys the schema allows there)
// and the share-link codec against node's own zlib.
//
// Usage: node web/tests/unit.mjs  (after node web/build.mjs, for pkg-node)
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { deflateRawSync } from 'node:zlib';
import { pathAt, keysAt } from '../src/schema-complete.js';
import { encodeScenario, decodeScenario, parseFragment, makeFragment } from '../src/share.js';

const web = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const root = path.dirname(web);
const engine = createRequire(import.meta.url)(path.join(web, 'pkg-node', 'sysdes_wasm.js'));
const schema = JSON.parse(engine.schema());
let failures = 0;
function check(name, cond, detail = '') {
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${name}${cond ? '' : ': ' + detail}`);
  if (!cond) failures += 1;
}

const mm1 = fs.readFileSync(path.join(root, 'scenarios', 'mm1.yaml'), 'utf8');
const at = (marker) => mm1.indexOf(marker) + marker.length;
const cases = [
  ['    arrival: { poisson', ['workloads', '-', 'arrival'], 'poisson'],
  ['    workers: 1', ['components', 'server'], 'service_time'],
  ['  - name: users', ['workloads', '-'], 'target'],
  ['network:\n  latency', ['network'], 'zones'],
  ['seed: 7', [], 'duration'],
];
for (const [marker, want, key] of cases) {
  const got = pathAt(mm1, at(marker));
  check(`path at ${JSON.stringify(marker)} is ${want.join('.') || '(top)'}`, JSON.stringify(got) === JSON.stringify(want), JSON.stringify(got));
  const keys = keysAt(schema, got).map((k) => k.label);
  check(`the schema offers \`${key}\` there`, keys.includes(key), keys.join(','));
}
check('no keys offered under an unknown key', keysAt(schema, ['no_such_key']).length === 0);

const text = mm1 + '\n# ünïcode ✓\n';
check('share codec round-trips UTF-8', decodeScenario(encodeScenario(text)) === text);
check('share codec is raw DEFLATE in base64url (node decodes what the page encodes, and the page what node encodes)',
  decodeScenario(deflateRawSync(Buffer.from(text, 'utf8')).toString('base64url')) === text && !/[+/=]/.test(encodeScenario(text)));
const f = parseFragment(makeFragment(text, '42', true));
check('fragment carries text, seed and run', f.text === text && f.seed === '42' && f.run === true, JSON.stringify({ seed: f.seed, run: f.run }));
const g = parseFragment('#seed=abc');
check('a non-numeric seed and no scenario are ignored', g.text === null && g.seed === null && g.run === false);

console.log(failures ? `${failures} unit check(s) failed` : 'all unit checks passed');
process.exit(failures ? 1 : 0);
