// The copy of the R4 JSON schema the structure layer compiles (gen-r4-validators.mjs, Ajv) and walks (gen-r4-fast-checks.mjs, the
// fast path): one transform, so both read the same schema. The changes are listed in gen-r4-validators.mjs.

function transform(node) {
  if (Array.isArray(node)) return node.map(transform);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      // Drop annotation texts, not elements that happen to be called `description` (Location.description ...).
      if (k === 'description' && typeof v === 'string') continue;
      if (k === '$ref' && v === '#/definitions/ResourceList') out[k] = '#/definitions/NestedResource';
      else out[k] = transform(v);
    }
    return out;
  }
  return node;
}

/** The pristine R4 schema (parsed) → the schema we compile: `{ $schema, $id, definitions }`. */
export function compiledSchema(source) {
  const schema = transform({ $schema: source.$schema, $id: source.id, definitions: source.definitions });
  delete schema.definitions.ResourceList;
  // The R4 schema gives complex types `properties` but no `type: object`, so a string where a HumanName belongs
  // (`"name": ["Budi"]`) would pass. Every definition with properties describes a JSON object.
  for (const def of Object.values(schema.definitions)) {
    if (def.properties && def.type === undefined) def.type = 'object';
  }
  (function addR401(node) {
    if (Array.isArray(node)) return node.forEach(addR401);
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node.enum) && node.enum.includes('4.0.0') && node.enum.includes('3.0.1') && !node.enum.includes('4.0.1')) node.enum.push('4.0.1');
    Object.values(node).forEach(addR401);
  })(schema.definitions);
  schema.definitions.NestedResource = {
    type: 'object',
    properties: { resourceType: { type: 'string' } },
    required: ['resourceType'],
  };
  return schema;
}
