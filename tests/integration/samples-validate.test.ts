// The contract between mapping and validation: every life-stage sample maps to a Bundle the SATUSEHAT rules accept,
// both as a dry run (conditional references) and as sync sends it (resolved platform ids).
import { readdirSync, readFileSync } from 'node:fs';
import type { Condition } from 'fhir/r4.js';
import path from 'node:path';
import { loadMappingTables, mapVisit } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validation/index.js';
import { mappingsDir } from '../../src/util/paths.js';

const tables = loadMappingTables();
const validator = createValidator();
const NOW = new Date('2026-11-01T00:00:00Z');
const samplesDir = path.join(mappingsDir, 'samples');
const samples = readdirSync(samplesDir).filter((f) => f.endsWith('.visit.json')).sort();
const resolved = { patient: 'P02478375538', practitioner: '10009880728', location: 'ef011065-38c9-46f8-9c35-d1fe68966a3e' };

describe('every sample maps to a Bundle that passes the SATUSEHAT rules', () => {
  it('has samples for every life stage', () => {
    expect(samples.length).toBeGreaterThanOrEqual(6);
  });
  for (const file of samples) {
    const record = JSON.parse(readFileSync(path.join(samplesDir, file), 'utf8')) as { organizationId: string };
    it(`${file}: dry run has no validation errors`, () => {
      const res = mapVisit(record, tables, { now: NOW });
      expect(res.issues.filter((i) => i.severity === 'error')).toEqual([]);
      const issues = validator.validate(res.bundle, { now: NOW, organizationId: record.organizationId });
      expect(issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
    });
    it(`${file}: with resolved ids has no validation errors and no conditional references`, () => {
      const res = mapVisit(record, tables, { now: NOW, resolved });
      const issues = validator.validate(res.bundle, { now: NOW, organizationId: record.organizationId });
      expect(issues.filter((i) => i.severity === 'error' || i.severity === 'fatal')).toEqual([]);
      expect(JSON.stringify(res.bundle)).not.toMatch(/"reference":"[A-Za-z]+\?identifier=/);
    });
    it(`${file}: its finished Encounter carries the diagnosis rule 10457 asks for, and the Condition rules check its Conditions`, () => {
      const bundle = mapVisit(record, tables, { now: NOW, resolved }).bundle!;
      const at = bundle.entry!.findIndex((e) => e.resource!.resourceType === 'Encounter');
      const dx = bundle.entry!.findIndex((e) => e.resource!.resourceType === 'Condition');
      expect(dx).toBeGreaterThan(at);
      const broken = structuredClone(bundle);
      delete (broken.entry![at].resource as { diagnosis?: unknown }).diagnosis;
      (broken.entry![dx].resource as Condition).code!.coding![0].system = 'http://hl7.org/fhir/sid/icd-9-cm';
      const errors = validator.validate(broken, { now: NOW, organizationId: record.organizationId }).filter((i) => i.severity === 'error');
      expect(errors.map((i) => [i.rule, i.expression?.[0]])).toEqual(expect.arrayContaining([
        ['10457', `Bundle.entry[${at}].resource.diagnosis`],
        ['10003', `Bundle.entry[${dx}].resource.code.coding`],
      ]));
    });
  }
});
