// GET /fhir/metadata: the CapabilityStatement describing what this server offers. Routers mounted later
// (ingest, sync) add their own entries through `CapabilityContribution`.
import { Router } from 'express';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CapabilityStatement, CapabilityStatementRestResourceOperation, CapabilityStatementRestResource } from 'fhir/r4.js';
import { packageRoot } from '../util/paths.js';
import { FHIR_JSON, methodNotAllowed, sendResource } from './errors.js';

export interface CapabilityContribution {
  resource?: CapabilityStatementRestResource[];
  operation?: CapabilityStatementRestResourceOperation[];
  /** Markdown appended to rest[0].documentation, e.g. the non-FHIR endpoints a router adds. */
  documentation?: string;
}

const VALIDATE_DEF = 'http://hl7.org/fhir/OperationDefinition/Resource-validate';
/** Canonical of our own operation (no OperationDefinition is published yet; see the README). */
export const MAP_OPERATION_CANONICAL = 'urn:ilp-adapter:OperationDefinition:ilp-visit-map';

export interface ValidatedTypes {
  /** Every R4 resource type the validator knows (base R4 structure). */
  all: readonly string[];
  /** Types with SATUSEHAT profile rules. */
  profiled: readonly string[];
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

export function buildCapabilityStatement(date: Date, types: ValidatedTypes, extra: CapabilityContribution[] = []): CapabilityStatement {
  const validateOp: CapabilityStatementRestResourceOperation = {
    name: 'validate',
    definition: VALIDATE_DEF,
    documentation:
      'POST a resource or Bundle as application/fhir+json or application/json. 200 with an OperationOutcome whether or ' +
      'not it is valid; 400 only when the request cannot be processed. `?profile=http://hl7.org/fhir/StructureDefinition/{type}` ' +
      'checks base FHIR R4 only (no SATUSEHAT rules).',
  };
  const profiled = new Set(types.profiled);
  const resources: CapabilityStatementRestResource[] = types.all.map((type) => ({
    type: type as CapabilityStatementRestResource['type'],
    documentation: profiled.has(type)
      ? `Validated against base FHIR R4 and the SATUSEHAT rules for ${type} (Kamus Validasi rule numbers in diagnostics).`
      : 'Validated against base FHIR R4 only (no SATUSEHAT rules for this type).',
    operation: [{ name: 'validate', definition: VALIDATE_DEF }],
  }));
  const operations: CapabilityStatementRestResourceOperation[] = [
    validateOp,
    {
      name: 'map',
      definition: MAP_OPERATION_CANONICAL,
      documentation:
        'Not a FHIR-path operation: `POST /ilp/visits/$map` with one ILP visit record (mappings/ilp-visit.schema.json) returns ' +
        'the transaction Bundle it maps to (dry run: nothing stored or sent). Warnings travel in the X-ILP-Outcome header; ' +
        '`?_outcome=inline` returns a Parameters resource with parts `bundle` and `outcome`. 422 for an invalid record.',
    },
  ];
  const docs: string[] = [
    `ILP visit records → SATUSEHAT FHIR R4. SATUSEHAT rules apply to ${[...profiled].join(', ')}; every R4 resource type is checked against base R4.`,
  ];
  for (const e of extra) {
    if (e.resource) resources.push(...e.resource);
    if (e.operation) operations.push(...e.operation);
    if (e.documentation) docs.push(e.documentation);
  }
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: date.toISOString(),
    kind: 'instance',
    software: { name: 'ilp-satusehat-adapter', version: packageVersion() },
    implementation: { description: 'ILP → SATUSEHAT adapter: maps and validates ILP visit records, stores them durably and delivers them to SATUSEHAT' },
    fhirVersion: '4.0.1',
    format: [FHIR_JSON, 'json'],
    rest: [{ mode: 'server', documentation: docs.join('\n\n'), resource: resources, operation: operations }],
  };
}

export function metadataRouter(statement: CapabilityStatement): Router {
  const router = Router();
  router
    .route('/fhir/metadata')
    .get((_req, res) => sendResource(res, 200, statement))
    .all(methodNotAllowed(['GET']));
  return router;
}
