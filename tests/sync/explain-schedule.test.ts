import { explainOutcome, sourcePathOfKey } from '../../src/sync/explain.js';
import { scrubOutcome } from '../../src/sync/scrub.js';
import { startSchedule } from '../../src/sync/schedule.js';
import { canonicalJson, contentHash, resourceHash } from '../../src/sync/hash.js';
import { createLogger } from '../../src/util/logger.js';
import type { VisitRecordLike } from '../../src/sync/contracts.js';
import { Writable } from 'node:stream';
import { gate } from '../helpers/eventually.js';

const record: VisitRecordLike = {
  organizationId: '1', visitId: 'V1', locationCode: 'L',
  patient: { nik: '3171012345678901', name: 'Siti Aminah' }, practitioner: { ihsNumber: '1' },
  measurements: [{ code: 'body-weight' }, { code: 'systolic-bp' }, { code: 'body-weight' }],
  immunizations: [{ vaccine: 'BCG' }, { vaccine: 'OPV' }],
};

describe('explain', () => {
  it('maps entry keys back to source fields (n-th occurrence of a code)', () => {
    expect(sourcePathOfKey('observation/body-weight.2', record)).toBe('measurements[2] (body-weight)');
    expect(sourcePathOfKey('immunization/OPV.1', record)).toBe('immunizations[1] (OPV)');
    const withFindings = { ...record, findings: [{ code: 'smoking-status' }, { code: 'fetal-heart-rate' }, { code: 'fetal-heart-rate' }], pregnancy: { lmp: '2026-03-25' } };
    expect(sourcePathOfKey('observation/fetal-heart-rate.2', withFindings)).toBe('findings[2] (fetal-heart-rate)');
    expect(sourcePathOfKey('observation/lmp.1', withFindings)).toBe('pregnancy (lmp)');
    expect(sourcePathOfKey('encounter', record)).toMatch(/^visit/);
  });

  it('maps a diagnosis key to the record entry that sent it, or names the derived diagnosis (the dot is part of the ICD-10 code)', () => {
    const record = { organizationId: 'o', visitId: 'v', patient: {}, practitioner: {}, diagnoses: [{ code: 'I10' }, { code: 'Z00.1' }] } as VisitRecordLike;
    expect(sourcePathOfKey('condition/Z00.1', record)).toBe('diagnoses[1] (Z00.1)');
    expect(sourcePathOfKey('condition/Z23.2', { ...record, diagnoses: undefined })).toBe("diagnosis Z23.2, derived from the visit's services (mappings/diagnoses.json)");
  });

  it('places platform issues by Bundle.entry index or by element path', () => {
    const out = explainOutcome(
      {
        resourceType: 'OperationOutcome',
        issue: [
          { severity: 'error', code: 'value', details: { text: 'unit not UCUM (RuleNumber: 10012)' }, expression: ['Bundle.entry[2].resource.valueQuantity'] },
          { severity: 'error', code: 'value', details: { text: 'not found (RuleNumber: 20007)' }, expression: ['Encounter.participant[0].individual'] },
          { severity: 'error', code: 'value', diagnostics: 'nowhere' },
        ],
      },
      ['encounter', 'observation/body-weight.1', 'observation/body-weight.2'],
      ['Encounter', 'Observation', 'Observation'],
      record,
    );
    expect(out.issue[0]!.diagnostics).toBe('measurements[2] (body-weight): unit not UCUM (RuleNumber: 10012)');
    expect(out.issue[0]!.expression).toEqual(['Bundle.entry[2].resource.valueQuantity', 'measurements[2]']);
    expect(out.issue[1]!.diagnostics).toMatch(/^practitioner: not found \(RuleNumber: 20007\)/);
    expect(out.issue[2]).toEqual({ severity: 'error', code: 'value', diagnostics: 'nowhere' });
  });

  it('places the platform’s Google-style reference_not_found (no expression) by the type of the missing reference', () => {
    const missing = (target: string) => explainOutcome(
      { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', details: { text: 'reference_not_found' }, diagnostics: `reference target(s) not found: ${target}` }] },
      ['encounter'], ['Encounter'], record,
    ).issue[0]!;
    expect(missing('Practitioner/[REDACTED]')).toMatchObject({ diagnostics: 'practitioner: reference target(s) not found: Practitioner/[REDACTED]', expression: ['practitioner'] });
    expect(missing('Location/abc-1').diagnostics).toMatch(/^locationCode: /);
    expect(missing('Organization/undefined').diagnostics).toMatch(/^organizationId: /);
    // Another machine code with the same words is not guessed at.
    const other = explainOutcome({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', details: { text: 'invalid_query' }, diagnostics: 'Practitioner/1' }] }, [], [], record);
    expect(other.issue[0]!.diagnostics).toBe('Practitioner/1');
  });

  it('scrubs the record’s personal values and long digit runs from platform texts', () => {
    const o = scrubOutcome({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'value', diagnostics: 'Patient Siti Aminah with NIK 3171012345678901 / 0812345678901' }] }, record);
    expect(o.issue[0]!.diagnostics).toBe('Patient [REDACTED] with NIK [REDACTED] / [REDACTED]');
  });
});

describe('hash', () => {
  it('is independent of key order, not of array order; resource hash ignores id and meta', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
    expect(contentHash({ a: 1, b: 2 })).toBe(contentHash({ b: 2, a: 1 }));
    expect(contentHash([1, 2])).not.toBe(contentHash([2, 1]));
    expect(resourceHash({ resourceType: 'X', id: '1', meta: { versionId: 'a' }, v: 1 })).toBe(resourceHash({ v: 1, resourceType: 'X' }));
  });
});

describe('schedule', () => {
  it('ticks through node-cron with our logger, never overlapping, and stops cleanly', async () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }) as never });
    let running = 0;
    let maxRunning = 0;
    let runs = 0;
    const firstRun = gate(); // the first run lasts until the test lets it end
    const schedule = startSchedule({
      expression: '* * * * * *', // every second (node-cron 6-field form) for the test
      timezone: 'Asia/Jakarta',
      logger,
      run: async () => {
        runs++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        if (runs === 1) await firstRun.arrive();
        running--;
      },
    });
    const overlapped = new Promise<void>((r) => schedule.task.on('execution:overlap', () => r()));
    // Events, not durations: node-cron fired once, then fired again while that run was still going...
    await firstRun.reached;
    await overlapped;
    expect(runs).toBe(1); // ...and the second firing started no second run
    firstRun.open();
    await schedule.stop();
    expect(running).toBe(0);
    expect(maxRunning).toBe(1);
    expect(lines.some((l) => l.includes('"msg":"sync scheduled"') && l.includes('Asia/Jakarta'))).toBe(true);
  });

  it('refuses an invalid expression', () => {
    expect(() => startSchedule({ expression: '61 * * * *', timezone: 'Asia/Jakarta', logger: createLogger({ level: 'silent' }), run: async () => undefined })).toThrow(/invalid cron expression/);
  });
});
