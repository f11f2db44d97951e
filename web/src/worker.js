// The run worker: runs one scenario per message with the engine
// (WebAssembly), posting progress every 65536 events (at most every 100 ms).
// The page sends the compiled module first ({module}), so the engine is
// downloaded and compiled once per page, not once per worker. The page
// stops a run by terminating this worker (a run is one synchronous call)
// and starts a fresh one.
import init, { run, plot_specs } from '../pkg/sysdes_wasm.js';

let ready = null;

self.onmessage = async (event) => {
  if (event.data.module) {
    ready = init({ module_or_path: event.data.module });
    await ready;
    self.postMessage({ type: 'ready' });
    return;
  }
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
  // The plots' Vega-Lite specs, built by the engine from the same result
  // (what `sysdes plot` writes), so the page and the CLI draw from one spec.
  if (out.ok) out.plots = JSON.parse(plot_specs(out.json, out.series_csv, out.latency_cdf_csv));
  self.postMessage({ id, type: 'done', out, text });
};
