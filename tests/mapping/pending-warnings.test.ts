// The pending-reference warnings are rendered once and copied (speed): they must stay exactly what messageIssue makes, field order
// included (JSON), for every visit, and independent copies.
import { mapVisit } from '../../src/mapping/index.js';
import { messageIssue } from '../../src/i18n/issues.js';
import { NOW, samples, tables } from './helpers.js';

describe('pending-reference warnings', () => {
  it('equal messageIssue for every sample, twice in a row, and are separate objects', () => {
    for (const s of samples) {
      const runs = [mapVisit(s.record, tables, { now: NOW }), mapVisit(s.record, tables, { now: NOW })];
      const p = s.record.patient;
      const want = [
        ...(p.ihsNumber ? [] : [messageIssue('warning', 'incomplete', 'source.ref.patient-pending', { ihs: '{IHS number}' }, p.nik !== undefined ? 'patient.nik' : 'patient.motherNik')]),
        ...(s.record.practitioner.ihsNumber ? [] : [messageIssue('warning', 'incomplete', 'source.ref.practitioner-pending', { ihs: '{IHS number}' }, 'practitioner.nik')]),
        messageIssue('warning', 'incomplete', 'source.ref.location-pending', { id: '{id}' }, 'locationCode'),
      ];
      for (const m of runs) {
        const got = m.issues.filter((i) => i.message?.key.startsWith('source.ref.'));
        expect(JSON.stringify(got)).toBe(JSON.stringify(want));
      }
      const [a, b] = runs.map((m) => m.issues.find((i) => i.message?.key === 'source.ref.location-pending')!);
      expect(a).not.toBe(b);
      expect(a!.expression).not.toBe(b!.expression);
      expect(a!.message!.params).not.toBe(b!.message!.params);
    }
  });
});
