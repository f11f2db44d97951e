// The Vega-Lite renderer, a chunk of its own (dist/vega.js) that the page
// fetches after the first run, so the first load stays small. It draws the
// specs sysdes-wasm builds from a run (the ones `sysdes plot` writes).
import embed from 'vega-embed';

/**
 * Renders each `{name, spec}` into `container` as SVG, one figure per spec,
 * replacing what was there. Resolves once every view has drawn.
 */
export async function renderSpecs(container, specs) {
  const figures = specs.map(({ name }) => {
    const f = document.createElement('figure');
    f.className = 'vega-plot';
    f.dataset.plot = name;
    return f;
  });
  container.replaceChildren(...figures);
  await Promise.all(
    specs.map(({ spec }, i) =>
      embed(figures[i], spec, { renderer: 'svg', actions: false, mode: 'vega-lite' }),
    ),
  );
}
