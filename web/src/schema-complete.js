// Key completion for the YAML editor, driven by the JSON Schema that
// `sysdes schema` prints (the same one, from the engine). The YAML path at
// the cursor is read from indentation, which is enough for block-style
// scenario files; flow maps (`{ poisson: 1/s }`) complete from the key
// before the brace.

/** Follows `$ref`s and collects every object branch of oneOf/anyOf/allOf. */
function branches(schema, root, seen = new Set()) {
  if (!schema || typeof schema !== 'object' || seen.has(schema)) return [];
  seen.add(schema);
  if (schema.$ref) {
    const name = schema.$ref.replace('#/$defs/', '');
    return branches(root.$defs[name], root, seen);
  }
  const out = [schema];
  for (const k of ['oneOf', 'anyOf', 'allOf']) {
    for (const s of schema[k] || []) out.push(...branches(s, root, seen));
  }
  return out;
}

/** The schema reached from `schema` by one YAML step (a key, or `-` for a list item). */
function step(schema, key, root) {
  const next = [];
  for (const b of branches(schema, root)) {
    if (key === '-') {
      if (b.items) next.push(b.items);
    } else if (b.properties && b.properties[key]) {
      next.push(b.properties[key]);
    } else if (b.additionalProperties && typeof b.additionalProperties === 'object') {
      next.push(b.additionalProperties);
    }
  }
  return { anyOf: next };
}

/** The YAML path (keys and `-`) enclosing position `pos` of `text`. */
export function pathAt(text, pos) {
  const before = text.slice(0, pos);
  const lines = before.split('\n');
  const current = lines.pop();
  const path = [];
  // Flow map on the current line: `arrival: { pois` -> path ends with `arrival`.
  const flow = /([A-Za-z_][\w-]*):\s*\{[^}]*$/.exec(current);
  let indent = current.search(/\S|$/);
  const item = /^(\s*)-\s/.exec(current);
  if (item) indent = item[1].length;
  for (let i = lines.length - 1; i >= 0 && indent > 0; i--) {
    const line = lines[i];
    if (/^\s*(#|$)/.test(line)) continue;
    const ind = line.search(/\S/);
    if (ind >= indent) continue;
    const m = /^(\s*)(-\s+)?([A-Za-z_][\w.-]*)\s*:/.exec(line);
    if (!m) continue;
    if (m[2]) {
      // `- key: value`: the item's own keys sit at the dash's column + 2.
      const dash = m[1].length;
      if (indent > dash + 2) path.unshift(m[3]);
      path.unshift('-');
      indent = dash;
    } else {
      path.unshift(m[3]);
      indent = ind;
    }
  }
  if (item) path.push('-');
  if (flow) path.push(flow[1]);
  return path;
}

/** Property names (with descriptions) allowed at `path` by the schema. */
export function keysAt(root, path) {
  let schema = root;
  for (const key of path) schema = step(schema, key, root);
  const seen = new Map();
  for (const b of branches(schema, root)) {
    for (const [name, s] of Object.entries(b.properties || {})) {
      if (!seen.has(name)) seen.set(name, s.description || '');
    }
  }
  return [...seen].map(([label, info]) => ({ label, info, type: 'property' }));
}

/** A CodeMirror completion source over the schema. */
export function schemaCompletion(root) {
  return (context) => {
    const word = context.matchBefore(/[A-Za-z_][\w-]*/);
    if (!word && !context.explicit) return null;
    const line = context.state.doc.lineAt(context.pos);
    const head = line.text.slice(0, context.pos - line.from);
    // Complete keys only where a key can start (not after `key: `).
    if (/:\s+\S*$/.test(head) && !/\{[^}]*$/.test(head)) return null;
    const text = context.state.doc.toString();
    const options = keysAt(root, pathAt(text, context.pos)).map((o) => ({
      ...o,
      apply: o.label + ': ',
    }));
    if (!options.length) return null;
    return { from: word ? word.from : context.pos, options, validFor: /^[\w-]*$/ };
  };
}
