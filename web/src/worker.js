// The run worker: loads the engine (WebAssembly) and runs one scenario per
// message, posting progress every 65536 events. The page stops a run by
// terminating this worker (a run is one synchronous call), then starts a
// fresh one.
import init, { run } from '../pkg/sysdes_wasm.js';

const ready = init({ module_or_path: new URL('sysdes_wasm_bg.wasm', self.location.href) });

self.onmessage = async (event) => {
  const { id, text, seed, overrides } = event.data;
  await ready;
  let last = 0;
  const progress = (now, duration, events) => {
    const t = performance.now();
    if (t - last > 100) {
      last = t;
      self.postMessage({ id, type: 'progress', now, duration, events });
    }
    return true;
  };
  const out = JSON.parse(run(text, seed == null ? '' : String(seed), overrides || '', progress));
  self.postMessage({ id, type: 'done', out, text });
};
self.postMessage({ type: 'loading' });
ready.then(() => self.postMessage({ type: 'ready' }));
