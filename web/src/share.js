// Share links: the state lives in the URL fragment,
// `#s=<base64url(raw DEFLATE(UTF-8 scenario))>&seed=N&run=1`
// (raw DEFLATE is RFC 1951; base64url is RFC 4648 section 5, no padding).
import { deflateSync, inflateSync, strToU8, strFromU8 } from 'fflate';

/** Encodes scenario text for `#s=`. */
export function encodeScenario(text) {
  const bytes = deflateSync(strToU8(text), { level: 9 });
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes the value of `#s=` back to scenario text (throws on garbage). */
export function decodeScenario(value) {
  const b64 = value.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return strFromU8(inflateSync(bytes));
}

/** Parses a fragment (`#s=...&seed=3&run=1`) into {text, seed, run}. */
export function parseFragment(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const out = { text: null, seed: null, run: params.get('run') === '1' };
  if (params.has('s')) out.text = decodeScenario(params.get('s'));
  if (params.has('seed') && /^\d+$/.test(params.get('seed'))) out.seed = params.get('seed');
  return out;
}

/** The fragment for a scenario, seed (or null) and run-on-load flag. */
export function makeFragment(text, seed, run) {
  let f = '#s=' + encodeScenario(text);
  if (seed != null && seed !== '') f += '&seed=' + seed;
  if (run) f += '&run=1';
  return f;
}
