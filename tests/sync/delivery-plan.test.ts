// The pure delivery plan: from mapped entries, ledger rows and the visit row alone — no platform, no store — what one
// delivery creates, updates, skips, retracts, whether it reconciles first, and which found resources it adopts.
import type { Resource } from 'fhir/r4.js';
import { RETRACTED_HASH, type LedgerEntry } from '../../src/store/types.js';
import type { MappedEntry } from '../../src/sync/contracts.js';
import { resourceHash } from '../../src/sync/hash.js';
import { adoptionsFrom, ledgerKey, mayHaveBeenSent, mustReconcileFirst, patientIdOf, planDelivery } from '../../src/sync/delivery/plan.js';
import { transactionOf } from '../../src/sync/delivery/execute.js';
import { hasUnseenDuplicateNote, LEGACY_UNSEEN_DUPLICATE_TEXT, SYNC_NOTE_SYSTEM, UNSEEN_DUPLICATE_CODE, unseenDuplicate } from '../../src/sync/delivery/reconcile.js';
import { PlatformError } from '../../src/platform/types.js';

const ORG = '10000403';
const VISIT = '2026/10/0001'; // a '/' inside: ledger keys must still belong to this visit only
const SYS = 'http://sys-ids.kemkes.go.id/observation/10000403';

const encounter: MappedEntry = {
  key: 'encounter', fullUrl: 'urn:uuid:e',
  resource: { resourceType: 'Encounter', identifier: [{ system: 'http://sys-ids.kemkes.go.id/encounter/10000403', value: VISIT }], subject: { reference: 'Patient/P001' } } as Resource,
};
const weight: MappedEntry = {
  key: 'observation/body-weight.1', fullUrl: 'urn:uuid:w',
  resource: { resourceType: 'Observation', status: 'final', identifier: [{ system: SYS, value: 'w1' }], encounter: { reference: 'urn:uuid:e' }, valueQuantity: { value: 12 } } as Resource,
};
const height: MappedEntry = {
  key: 'observation/body-height.1', fullUrl: 'urn:uuid:h',
  resource: { resourceType: 'Observation', status: 'final', identifier: [{ system: SYS, value: 'h1' }], encounter: { reference: 'urn:uuid:e' }, valueQuantity: { value: 80 } } as Resource,
};
const entries = [encounter, weight, height];

const row = (key: string, resourceType: string, satusehatId: string, contentHash: string): LedgerEntry =>
  ({ organizationId: ORG, localKey: ledgerKey(VISIT, key), resourceType, satusehatId, contentHash, updatedAt: 1 });

describe('planDelivery', () => {
  it('a visit never sent: every entry is created (POST), in entry order; nothing known, nothing to retract', () => {
    const plan = planDelivery(VISIT, entries, []);
    expect(plan.writes.map((w) => [w.entry.key, w.method])).toEqual([['encounter', 'POST'], ['observation/body-weight.1', 'POST'], ['observation/body-height.1', 'POST']]);
    expect(plan.writes.map((w) => w.hash)).toEqual(entries.map((e) => resourceHash(e.resource)));
    expect(plan).toMatchObject({ skipped: [], retract: [], resourceIds: {} });
    expect(plan.known.size).toBe(0);
  });

  it('unchanged entries are skipped, changed ones PUT onto the id the ledger holds, new ones POSTed', () => {
    const ledger = [
      row('encounter', 'Encounter', 'enc-1', resourceHash(encounter.resource)),
      row('observation/body-weight.1', 'Observation', 'obs-w', 'an older hash'),
    ];
    const plan = planDelivery(VISIT, entries, ledger);
    expect(plan.skipped.map((e) => e.key)).toEqual(['encounter']);
    expect(plan.writes.map((w) => [w.entry.key, w.method, w.existingId])).toEqual([
      ['observation/body-weight.1', 'PUT', 'obs-w'],
      ['observation/body-height.1', 'POST', undefined],
    ]);
    expect(plan.resourceIds).toEqual({ 'encounter': 'Encounter/enc-1', 'observation/body-weight.1': 'Observation/obs-w' });
    expect([...plan.known]).toEqual([['urn:uuid:e', 'Encounter/enc-1'], ['urn:uuid:w', 'Observation/obs-w']]);
  });

  it('an adopted entry (empty hash) is PUT with the current content, never POSTed again', () => {
    const plan = planDelivery(VISIT, [encounter], [row('encounter', 'Encounter', 'enc-1', '')]);
    expect(plan.writes).toEqual([{ entry: encounter, hash: resourceHash(encounter.resource), method: 'PUT', existingId: 'enc-1' }]);
  });

  it('retracts what the revision no longer produces: retractable types only, not already retracted', () => {
    const ledger = [
      row('encounter', 'Encounter', 'enc-1', resourceHash(encounter.resource)),
      row('observation/muac.1', 'Observation', 'obs-m', 'h'),
      row('condition/Z13.6', 'Condition', 'cond-1', 'h'),
      row('immunization/BCG.1', 'Immunization', 'imm-1', RETRACTED_HASH),
      row('encounter-old', 'Encounter', 'enc-0', 'h'), // an Encounter is never retracted
    ];
    const plan = planDelivery(VISIT, entries, ledger);
    expect(plan.retract.map((l) => l.satusehatId)).toEqual(['obs-m', 'cond-1']);
  });

  it('nothing to do when every entry is unchanged and nothing is stale', () => {
    const ledger = entries.map((e, i) => row(e.key, e.resource.resourceType, `id-${i}`, resourceHash(e.resource)));
    const plan = planDelivery(VISIT, entries, ledger);
    expect(plan.writes).toEqual([]);
    expect(plan.retract).toEqual([]);
    expect(plan.skipped).toHaveLength(3);
  });

  it('the transaction of a plan: references to entries not sent become Type/id, PUTs carry the id, retractions last', () => {
    const ledger = [row('encounter', 'Encounter', 'enc-1', resourceHash(encounter.resource)), row('observation/body-weight.1', 'Observation', 'obs-w', 'old')];
    const plan = planDelivery(VISIT, entries, ledger);
    const retracted = { resourceType: 'Observation', id: 'obs-m', status: 'entered-in-error' } as Resource;
    const bundle = transactionOf(ORG, VISIT, plan, [{ ledger: row('observation/muac.1', 'Observation', 'obs-m', 'h'), resource: retracted }]);
    expect(bundle.entry!.map((e) => `${e.request!.method} ${e.request!.url}`)).toEqual(['PUT Observation/obs-w', 'POST Observation', 'PUT Observation/obs-m']);
    expect(bundle.entry![0]!.resource).toMatchObject({ id: 'obs-w', encounter: { reference: 'Encounter/enc-1' } });
    expect(bundle.entry![1]!.resource).toMatchObject({ encounter: { reference: 'Encounter/enc-1' } });
    expect(weight.resource).not.toHaveProperty('id'); // the mapped entries are left as they were
    expect((weight.resource as unknown as { encounter: { reference: string } }).encounter.reference).toBe('urn:uuid:e');
  });
});

describe('whether to reconcile by identifier first', () => {
  const first = { visitId: VISIT, attempts: 1, revision: 1, claimedBefore: false };
  it('a first attempt of a first revision never claimed before: no', () => {
    expect(mayHaveBeenSent(first)).toBe(false);
    expect(mustReconcileFirst(first, entries, [])).toBe(false);
  });
  it.each([
    ['a later attempt', { attempts: 2 }],
    ['a later revision', { revision: 2 }],
    ['a visit claimed before (attempts restarted by a requeue)', { claimedBefore: true }],
  ])('%s that the ledger does not fully cover: yes', (_what, change) => {
    expect(mustReconcileFirst({ ...first, ...change }, entries, [row('encounter', 'Encounter', 'enc-1', 'h')])).toBe(true);
  });
  it('a later attempt whose every entry is in the ledger: no search needed', () => {
    const ledger = entries.map((e) => row(e.key, e.resource.resourceType, 'x', 'h'));
    expect(mustReconcileFirst({ ...first, attempts: 3 }, entries, ledger)).toBe(false);
  });
  it("another visit's ledger rows do not count for this one", () => {
    const other = entries.map((e) => ({ ...row(e.key, e.resource.resourceType, 'x', 'h'), localKey: ledgerKey('2026', e.key) }));
    expect(mustReconcileFirst({ ...first, attempts: 2 }, entries, other)).toBe(true);
  });
});

describe('adoptionsFrom', () => {
  const found = (id: string, extra: object): Resource => ({ resourceType: 'Observation', id, ...extra }) as Resource;
  it('pairs by a shared identifier, each found resource at most once; an entry without a match is left to be created', () => {
    const got = adoptionsFrom([weight, height], [found('o-h', { identifier: [{ system: SYS, value: 'h1' }] }), found('o-x', { identifier: [{ system: SYS, value: 'other' }] })]);
    expect(got).toEqual([{ entry: height, id: 'o-h' }]);
  });
  it('an Immunization without identifier is matched by vaccine, dose and date', () => {
    const imm = (id?: string): Resource => ({
      resourceType: 'Immunization', ...(id ? { id } : {}), vaccineCode: { coding: [{ system: 'http://sys-ids.kemkes.go.id/kfa', code: '93001019' }] },
      protocolApplied: [{ doseNumberPositiveInt: 1 }], occurrenceDateTime: '2026-10-01T09:00:00+07:00',
    }) as Resource;
    const entry: MappedEntry = { key: 'immunization/BCG.1', fullUrl: 'urn:uuid:i', resource: imm() };
    const otherDose = { ...imm('i-2'), protocolApplied: [{ doseNumberPositiveInt: 2 }] } as Resource;
    expect(adoptionsFrom([entry], [otherDose, imm('i-1')])).toEqual([{ entry, id: 'i-1' }]);
    expect(adoptionsFrom([entry], [otherDose])).toEqual([]);
  });
  it("the patient id is read from the Encounter's subject, and only a plain Patient/{id}", () => {
    expect(patientIdOf(entries)).toBe('P001');
    expect(patientIdOf([{ ...encounter, resource: { ...encounter.resource, subject: { reference: 'urn:uuid:p' } } as Resource }])).toBeUndefined();
    expect(patientIdOf([weight])).toBeUndefined();
  });
});

describe('a 20002 the identifier search cannot see', () => {
  const dup = new PlatformError('duplicate', 400, {
    resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'duplicate', details: { text: 'Found duplicate resource (RuleNumber: 20002)' } }],
  }, ['20002']);

  it('the first time: transient, marked by a coded detail first in the outcome (its text a catalogue message)', () => {
    const err = unseenDuplicate(dup, {});
    expect(err).toMatchObject({ kind: 'transient', status: 400, rules: ['20002'] });
    expect(err.outcome.issue[0]).toMatchObject({ code: 'transient', details: { coding: [{ system: SYNC_NOTE_SYSTEM, code: UNSEEN_DUPLICATE_CODE }] } });
    expect(err.outcome.issue[0]!.extension?.[0]?.url).toBe('urn:ilp-adapter:message');
    expect(err.outcome.issue[1]).toEqual(dup.outcome.issue[0]);
    expect(hasUnseenDuplicateNote({ lastError: err.outcome })).toBe(true);
  });

  it('again after a marked attempt: duplicate (needs-correction) — whatever language the stored text was rendered in', () => {
    const marked = unseenDuplicate(dup, {}).outcome;
    const otherText = { ...marked, issue: [{ ...marked.issue[0]!, diagnostics: 'teks lain' }, ...marked.issue.slice(1)] };
    expect(unseenDuplicate(dup, { lastError: otherText }).kind).toBe('duplicate');
  });

  it('a row stored before the coded detail (its English text only) is still recognised', () => {
    const legacy = { resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'transient' as const, diagnostics: `${LEGACY_UNSEEN_DUPLICATE_TEXT} (search lag at the platform?); will retry and search again` }] };
    expect(hasUnseenDuplicateNote({ lastError: legacy })).toBe(true);
    expect(unseenDuplicate(dup, { lastError: legacy }).kind).toBe('duplicate');
    expect(hasUnseenDuplicateNote({ lastError: dup.outcome })).toBe(false);
  });
});
