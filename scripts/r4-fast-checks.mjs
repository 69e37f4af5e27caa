// Generates the "valid or not" fast path of the FHIR R4 structure layer and the required-bindings check
// (generated/r4/fast-checks.cjs, by gen-r4-fast-checks.mjs), from the same transformed schema gen-r4-validators.mjs compiles
// with Ajv and the bindings data gen-r4-bindings.mjs writes.
//
// Why: most resources are valid, and for a valid resource Ajv's code still reads every schema property of every object
// (Observation: ~90 `data.x !== undefined` loads), builds an instancePath string per nested call and tests every key against
// a Set; then the bindings walk visits the whole resource again (every type reaches a binding through Extension). The fast
// path walks the keys that are there once (one `switch` per key), checks the required bindings on the way, builds nothing and
// stops at the first problem. It only answers true/false; on false the caller runs the Ajv validator and the bindings walk,
// so every reported issue is still theirs.
//
// Contract: true only when Ajv's validator accepts the value AND the bindings walk (src/validation/required-bindings.ts) would
// report nothing (tests/validation/r4-fast-checks.test.ts and the conformance suite compare over corpora, samples, mutants).
// The schema vocabulary is tiny (properties, additionalProperties: false, required, type, pattern, enum, const, items, $ref);
// anything else throws here, so a schema change cannot silently widen what the fast path accepts. Keyword semantics, as Ajv 8
// generates them:
//  - type object: `d && typeof d == "object" && !Array.isArray(d)`; string/boolean `typeof ===`; number `typeof == "number"`
//    (no finiteness check: Ajv's default strictNumbers is off); array `Array.isArray`;
//  - pattern: applies to strings only, compiled as Ajv compiles it (`new RegExp(pattern, "u")`), one constant per pattern called as
//    `p0.test(v)` (a closure per pattern cost a call per string; hand loops over charCodes were measured slower than V8's regex),
//    or through an exactly equivalent cheaper regex (PATTERN_REWRITES);
//  - properties: a key whose value is `undefined` is skipped, as Ajv's `data.x !== undefined` does;
//  - additionalProperties: false: every key `for...in` visits must be a schema property (Ajv walks the keys with for...in too);
//  - required: `d.x === undefined` fails.
// The walk sees the keys for...in visits; Ajv also reads schema properties by name. Plain data (JSON.parse, object literals) has
// no other readable keys; the names Object.prototype carries are checked below never to be FHIR element names.
// Objects nested deeper than MAX_DEPTH answer false: Ajv and the bindings walk then decide (Ajv's stack overflow handling and
// the walk's own depth limit stay as they were).
// Bindings: the walk checks the resource types the bindings data lists, through its own type graph; so those types get
// "bound" variants of their datatypes' functions (named after the pair schema definition × binding type), all other resource
// types the plain ones.

const MAX_DEPTH = 64;
const KNOWN_KEYWORDS = new Set(['properties', 'additionalProperties', 'required', 'type', 'pattern', 'enum', 'const', 'items', '$ref']);
const NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
/** Schema patterns tested through an exactly equivalent, cheaper regex: the value matches the pattern iff it does NOT contain a
 *  match of `absent`. `^\S*$` (uri, url, canonical, ...; a third of the strings of a visit): "no whitespace code point anywhere";
 *  every `\s` code point is a BMP non-surrogate, so `u` or not and lone surrogates make no difference. An unanchored search for
 *  one class measured ~15 % cheaper per call than the anchored scan (`^[ \r\n\t\S]+$` and the code pattern written as
 *  searches were not cheaper, so they stay). Pinned over every UTF-16 code unit by tests/validation/r4-fast-checks.test.ts. */
export const PATTERN_REWRITES = Object.freeze({ '^\\S*$': Object.freeze({ absent: '\\s' }) });

/**
 * @param {{definitions: Record<string, any>}} schema the transformed schema (NestedResource in place of ResourceList)
 * @param {string[]} resourceTypes the exported types
 * @param {{inputHash: string, valueSets: Record<string, Record<string, string[]>>, types: Record<string, Record<string, {type: string, valueSet?: string}>>}} bindings
 * @returns {string} CommonJS source: `module.exports = { bindingsHash, createFastChecks() → { Account: fn, ... } }`
 */
export function generateFastChecks(schema, resourceTypes, bindings) {
  const defs = schema.definitions;
  const prototypeNames = new Set(Object.getOwnPropertyNames(Object.prototype));
  const patterns = new Map(); // pattern → constant name
  const consts = new Map(); // constant source → name (enum Sets, value set Maps)
  const helpers = new Map(); // function key → name
  const out = [];

  const refName = (ref) => {
    const m = /^#\/definitions\/([A-Za-z0-9_]+)$/.exec(ref);
    if (!m || !defs[m[1]]) throw new Error(`r4-fast-checks: unexpected $ref ${ref}`);
    return m[1];
  };
  const patternConst = (p) => {
    if (!patterns.has(p)) patterns.set(p, `p${patterns.size}`);
    return patterns.get(p);
  };
  /** The test of pattern `p` on string `v`, as a boolean expression. */
  const patternTest = (p, v) => {
    const rewrite = Object.hasOwn(PATTERN_REWRITES, p) ? PATTERN_REWRITES[p] : undefined;
    return rewrite === undefined ? `${patternConst(p)}.test(${v})` : `!${patternConst(rewrite.absent)}.test(${v})`;
  };
  const constant = (prefix, source) => {
    if (!consts.has(source)) consts.set(source, `${prefix}${consts.size}`);
    return consts.get(source);
  };
  const isObjectDef = (d) => d.properties !== undefined;
  const assertKnown = (node, where) => {
    for (const k of Object.keys(node)) if (!KNOWN_KEYWORDS.has(k)) throw new Error(`r4-fast-checks: keyword ${k} at ${where} is not supported`);
  };

  // ---- bindings: the same pruning as createBindingChecker (types with a binding somewhere below them) ----
  const live = new Set();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [typeName, elements] of Object.entries(bindings.types)) {
      if (!live.has(typeName) && Object.values(elements).some((e) => e.valueSet !== undefined || live.has(e.type))) {
        live.add(typeName);
        grew = true;
      }
    }
  }
  /** The binding element of `prop` under binding type `bt`: its value set (when expanded) and its live child type. */
  function bindingOf(bt, prop) {
    const e = bt === undefined ? undefined : bindings.types[bt]?.[prop];
    if (!e) return undefined;
    const codes = e.valueSet !== undefined ? bindings.valueSets[e.valueSet] : undefined;
    const child = live.has(e.type) ? e.type : undefined;
    if (!codes && !child) return undefined;
    let check;
    if (codes) {
      const set = constant('s', `new Map(${JSON.stringify(Object.entries(codes).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))}.map(([c, systems]) => [c, new Set(systems)]))`);
      // As the walk's checkValue: only these three types are checked; a value of another JSON type is left to the schema.
      if (e.type === 'code') check = (v) => `(typeof ${v} !== "string" || ${set}.has(${v}))`;
      else if (e.type === 'Coding') check = (v) => `(!isObj(${v}) || codingIn(${v}, ${set}))`;
      else if (e.type === 'CodeableConcept') check = (v) => `(!isObj(${v}) || conceptIn(${v}, ${set}))`;
    }
    return { check, child };
  }

  /** A primitive schema (type [+ pattern], or nothing at all: xhtml) as a boolean expression over `v`. */
  function primitiveExpr(node, v, where) {
    assertKnown(node, where);
    const extra = Object.keys(node).filter((k) => k !== 'type' && k !== 'pattern');
    if (extra.length) throw new Error(`r4-fast-checks: ${where}: ${extra.join(',')} beside type/pattern`);
    const { type, pattern } = node;
    if (type === undefined && pattern === undefined) return 'true';
    if (type === 'string') return pattern === undefined ? `typeof ${v} === "string"` : `(typeof ${v} === "string" && ${patternTest(pattern, v)})`;
    // Ajv tests a pattern only when the value is a string, which a number or boolean type has already excluded.
    if (type === 'number') return `typeof ${v} == "number"`;
    if (type === 'boolean') return `typeof ${v} === "boolean"`;
    throw new Error(`r4-fast-checks: ${where}: type ${JSON.stringify(type)} is not supported`);
  }

  /** A `$ref` as a boolean expression over `v`; `child`: the binding type the walk continues with below it. */
  function refExpr(ref, v, child, where) {
    const name = refName(ref);
    const d = defs[name];
    if (name === 'NestedResource') {
      // Nested resources are checked on their own (R4Structure); the bindings walk never enters them either.
      if (child) throw new Error(`r4-fast-checks: ${where}: a binding below a nested resource is not supported`);
      return `(${v} && typeof ${v} == "object" && !Array.isArray(${v}) && typeof ${v}.resourceType === "string")`;
    }
    if (isObjectDef(d)) return `${objectFn(name, child)}(${v}, n)`;
    return primitiveExpr(d, v, `#/definitions/${name}`);
  }

  function enumExpr(values, v, where) {
    if (!values.every((x) => typeof x === 'string')) throw new Error(`r4-fast-checks: ${where}: non-string enum`);
    return `${constant('e', `new Set(${JSON.stringify(values)})`)}.has(${v})`;
  }

  /** One value (an array item, or a single value) of a property: its schema check and, when bound, its binding check. */
  function valueExpr(node, v, binding, where) {
    assertKnown(node, where);
    const keys = Object.keys(node).sort().join(',');
    let expr;
    if (keys === '$ref') expr = refExpr(node.$ref, v, binding?.child, where);
    else if (keys === 'pattern,type' || keys === 'type') expr = primitiveExpr(node, v, where);
    else if (keys === 'enum') expr = enumExpr(node.enum, v, where);
    else if (keys === 'const' && typeof node.const === 'string') expr = `${v} === ${JSON.stringify(node.const)}`;
    else throw new Error(`r4-fast-checks: ${where}: unsupported schema ${keys}`);
    return binding?.check ? `(${expr} && ${binding.check(v)})` : expr;
  }

  /** A helper `(v, n) => v is an array and every item passes`, shared by identical item checks. */
  function arrayHelper(items, binding, where) {
    const itemExpr = valueExpr(items, 'x', binding, where);
    const key = `array:${itemExpr}`;
    if (!helpers.has(key)) {
      const name = `a${helpers.size}`;
      helpers.set(key, name);
      // Holes read as undefined and fail the item check, as in Ajv's index loop.
      out.push(`function ${name}(v, n) { if (!Array.isArray(v)) return false; for (let i = 0; i < v.length; i++) { const x = v[i]; if (!(${itemExpr})) return false; } return true; }`);
    }
    return helpers.get(key);
  }

  /** The function checking object definition `name` (walked by the bindings walk as type `bt`, or not walked: undefined). */
  function objectFn(name, bt) {
    const key = `object:${name}:${bt ?? ''}`;
    if (helpers.has(key)) return helpers.get(key);
    const fn = bt === undefined ? `o_${name}` : `b${helpers.size}_${name}`;
    helpers.set(key, fn);
    const d = defs[name];
    const where = `#/definitions/${name}`;
    if (!NAME.test(name)) throw new Error(`r4-fast-checks: definition name ${name}`);
    assertKnown(d, where);
    if (d.additionalProperties !== false || d.type !== 'object') throw new Error(`r4-fast-checks: ${where} is not a closed object`);
    const cases = [];
    // A string switch compares case by case, so the rarely present `_x` elements (a primitive's id and extensions) go last;
    // the cases are disjoint, so their order changes nothing else.
    const props = Object.entries(d.properties);
    for (const [prop, ps] of [...props.filter(([p]) => !p.startsWith('_')), ...props.filter(([p]) => p.startsWith('_'))]) {
      if (prototypeNames.has(prop)) throw new Error(`r4-fast-checks: ${where}: element ${prop} is also an Object.prototype name`);
      const at = `${where}/properties/${prop}`;
      const binding = bindingOf(bt, prop);
      assertKnown(ps, at);
      const expr =
        ps.type === 'array' && Object.keys(ps).sort().join(',') === 'items,type' ? `${arrayHelper(ps.items, binding, `${at}/items`)}(v, n)` : valueExpr(ps, 'v', binding, at);
      cases.push(`case ${JSON.stringify(prop)}: if (v !== undefined && !(${expr})) return false; break;`);
    }
    const required = (d.required ?? []).map((r) => `d[${JSON.stringify(r)}] !== undefined`);
    out.push(
      `function ${fn}(d, n) {`,
      `  if (!(d && typeof d == "object" && !Array.isArray(d)) || ++n > ${MAX_DEPTH}) return false;`,
      '  for (const k in d) {',
      '    const v = d[k];',
      '    switch (k) {',
      ...cases.map((c) => `      ${c}`),
      '      default: return false;',
      '    }',
      '  }',
      `  return ${required.length ? required.join(' && ') : 'true'};`,
      '}',
    );
    return fn;
  }

  const entries = resourceTypes.map((t) => {
    if (!defs[t] || !isObjectDef(defs[t])) throw new Error(`r4-fast-checks: resource type ${t} is not an object definition`);
    return `${JSON.stringify(t)}: (d) => ${objectFn(t, live.has(t) ? t : undefined)}(d, 0)`;
  });

  return [
    '"use strict";',
    '// Generated by scripts/gen-r4-fast-checks.mjs (scripts/r4-fast-checks.mjs): see there. Do not edit.',
    `exports.bindingsHash = ${JSON.stringify(bindings.inputHash)};`,
    'exports.createFastChecks = function createFastChecks() {',
    'const isObj = (v) => typeof v === "object" && v !== null && !Array.isArray(v);',
    // The bindings walk's codingIn and its CodeableConcept rule (one coding from the value set).
    'const codingIn = (c, set) => { if (typeof c.code !== "string") return false; const systems = set.get(c.code); return systems !== undefined && typeof c.system === "string" && systems.has(c.system); };',
    'const conceptIn = (v, set) => Array.isArray(v.coding) && v.coding.some((c) => isObj(c) && codingIn(c, set));',
    ...[...patterns].map(([p, c]) => `const ${c} = new RegExp(${JSON.stringify(p)}, "u");`),
    ...[...consts].map(([source, c]) => `const ${c} = ${source};`),
    ...out,
    `return { ${entries.join(', ')} };`,
    '};',
    '',
  ].join('\n');
}
