// End to end against the bundled simulator: a revision that removes a measurement or an immunization (a correction)
// retracts the resource at the platform — PUT as entered-in-error in the visit's transaction — instead of leaving it as valid.
import { RETRACTED_HASH } from '../../src/store/types.js';
import { ledgerKey } from '../../src/sync/deliver.js';
import { clientsFor, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, syncUntilSettled, virtualClock } from './harness.js';
import { makeVisit } from './fixtures.js';

const OBS = (org: string) => `http://sys-ids.kemkes.go.id/observation/${org}`;

type Measurement = { code: string; value: number; unit: string };
type Json = Record<string, unknown>;

describe('e2e: a revision that removes an entry retracts it at the platform', () => {
  it('PUTs the removed Observation / Immunization as entered-in-error, once, and lists only current resources', async () => {
    const clock = virtualClock();
    const list = orgs(1);
    const org = list[0]!.organizationId;
    const adult = makeVisit(1, { organizationId: org }) as ReturnType<typeof makeVisit> & { measurements: Measurement[] };
    const infant = makeVisit(3, { organizationId: org }) as ReturnType<typeof makeVisit> & { immunizations: unknown[] };
    expect(adult.measurements.map((m) => m.code)).toEqual(['body-weight', 'systolic-bp', 'diastolic-bp']);
    expect(infant.immunizations).toHaveLength(1);
    const sim = await simulatorFor(list, { clock });
    const logger = createLogger({ level: 'silent' });
    const store = await openStore({ url: 'sqlite::memory:' });
    const keys = [adult, infant].map((v) => ({ organizationId: org, visitId: v.visitId }));
    try {
      const runner = runnerFor(store, clientsFor([facilityConfig(list[0]!, sim)], clock, logger), clock, logger);
      await ingestAll(store, [adult, infant], clock());
      await syncUntilSettled(runner, store, keys, clock);
      const first = (await store.getVisit(org, adult.visitId))!;
      expect(first.state).toBe('sent');
      const firstInfant = (await store.getVisit(org, infant.visitId))!;
      expect(firstInfant.state).toBe('sent');
      const obsKeys = Object.keys(first.resourceIds!).filter((k) => k.startsWith('observation/'));
      expect(obsKeys).toHaveLength(3);
      const idOf = (ref: string) => ref.split('/')[1]!;
      const removedKey = obsKeys.find((k) => k.includes('diastolic'))!;
      const changedKey = obsKeys.find((k) => k.includes('body-weight'))!;
      const keptKey = obsKeys.find((k) => k.includes('systolic'))!;
      const removedId = idOf(first.resourceIds![removedKey]!);
      const immKey = Object.keys(firstInfant.resourceIds!).find((k) => k.startsWith('immunization/'))!;
      const immId = idOf(firstInfant.resourceIds![immKey]!);
      // The infant's derived diagnoses: the weighing (Z00.1) and the BCG given (Z23.2, which goes with the BCG).
      expect(Object.keys(firstInfant.resourceIds!).filter((k) => k.startsWith('condition/')).sort()).toEqual(['condition/Z00.1', 'condition/Z23.2']);
      const dxId = idOf(firstInfant.resourceIds!['condition/Z23.2']!);
      const obs = (id: string) => sim.state.get('Observation', id) as Json & { status: string; valueQuantity: { value: number } };
      const keptBefore = structuredClone(obs(idOf(first.resourceIds![keptKey]!)));
      const counts = () => ({ enc: sim.state.count('Encounter', org), obs: sim.state.count('Observation', org), imm: sim.state.count('Immunization', org) });
      const countsBefore = counts();
      // The adult's 3 measurements, the infant's 2 and the infant's 4 growth z-scores (BB/U, PB/U, BB/PB, IMT/U).
      expect(Object.keys(firstInfant.resourceIds!).filter((k) => /^observation\/.*-for-/.test(k)).sort()).toEqual([
        'observation/bmi-for-age.1', 'observation/length-height-for-age.1', 'observation/weight-for-age.1', 'observation/weight-for-length.1',
      ]);
      expect(countsBefore).toEqual({ enc: 2, obs: 9, imm: 1 });

      // Revision 2: the diastolic reading was a mistake (removed), the weight is corrected; the infant's BCG was never given.
      const rev = structuredClone(adult);
      rev.measurements = rev.measurements.filter((m) => m.code !== 'diastolic-bp');
      rev.measurements[0]!.value += 2;
      const infantRev = structuredClone(infant);
      infantRev.immunizations = [];
      await ingestAll(store, [rev, infantRev], clock());
      const logBefore = sim.state.requestLog().length;
      await syncUntilSettled(runner, store, keys, clock);

      const after = (await store.getVisit(org, adult.visitId))!;
      expect(after).toMatchObject({ state: 'sent', revision: 2 });
      // The visit's state lists only what the current revision produces, with the same ids as before.
      const { [removedKey]: _gone, ...expectedIds } = first.resourceIds!;
      expect(after.resourceIds).toEqual(expectedIds);
      const { [immKey]: _imm, 'condition/Z23.2': _dx, ...expectedInfantIds } = firstInfant.resourceIds!;
      expect((await store.getVisit(org, infant.visitId))!.resourceIds).toEqual(expectedInfantIds);

      // At the platform: the removed entries are entered-in-error (same id, nothing deleted or created), the rest as expected.
      expect(obs(removedId).status).toBe('entered-in-error');
      expect(obs(removedId).valueQuantity.value).toBe(80); // content kept as it was: only the status says it was wrong
      expect((sim.state.get('Immunization', immId) as Json).status).toBe('entered-in-error');
      // A Condition has no status: its verificationStatus says it, and clinicalStatus goes (FHIR R4 con-5).
      const dx = sim.state.get('Condition', dxId) as Json & { verificationStatus: { coding: Json[] } };
      expect(dx.verificationStatus.coding).toEqual([expect.objectContaining({ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'entered-in-error' })]);
      expect(dx.clinicalStatus).toBeUndefined();
      expect(obs(idOf(first.resourceIds![changedKey]!)).valueQuantity.value).toBe(adult.measurements[0]!.value + 2);
      expect(obs(idOf(first.resourceIds![changedKey]!)).status).toBe('final');
      expect(obs(idOf(first.resourceIds![keptKey]!))).toEqual(keptBefore); // unchanged: not sent again
      expect(counts()).toEqual(countsBefore);
      expect(sim.state.findByIdentifier('Observation', OBS(org), `${adult.visitId}.${removedKey.slice('observation/'.length)}`)).toHaveLength(1);

      // One read per retraction, then one transaction per visit; the adult's Bundle: the weight PUT + the retraction PUT.
      const calls = sim.state.requestLog().slice(logBefore).map((c) => `${c.method} ${c.path}`);
      expect(calls.filter((c) => c.startsWith('GET')).sort()).toEqual([
        expect.stringMatching(new RegExp(`^GET /fhir-r4/v1/Condition/${dxId}$`)),
        expect.stringMatching(new RegExp(`^GET /fhir-r4/v1/Immunization/${immId}$`)),
        expect.stringMatching(new RegExp(`^GET /fhir-r4/v1/Observation/${removedId}$`)),
      ]);
      expect(calls.filter((c) => c.startsWith('POST'))).toHaveLength(2);
      expect(calls).toHaveLength(5);

      // The ledger remembers the retraction, so it is never sent twice.
      expect(await store.getLedger(org, ledgerKey(adult.visitId, removedKey))).toMatchObject({ satusehatId: removedId, contentHash: RETRACTED_HASH });
      expect(await store.getLedger(org, ledgerKey(infant.visitId, immKey))).toMatchObject({ satusehatId: immId, contentHash: RETRACTED_HASH });
      expect(await store.getLedger(org, ledgerKey(infant.visitId, 'condition/Z23.2'))).toMatchObject({ satusehatId: dxId, contentHash: RETRACTED_HASH });

      // The same revision again: unchanged, nothing to send.
      const logAgain = sim.state.requestLog().length;
      await ingestAll(store, [rev, infantRev], clock());
      expect((await store.getVisit(org, adult.visitId))!.revision).toBe(2);
      await runner.tick();
      expect(sim.state.requestLog().length).toBe(logAgain);

      // A further revision changing something else: the retraction is not repeated (no read, one PUT in the Bundle).
      const rev3 = structuredClone(rev);
      rev3.measurements[1]!.value += 5;
      await ingestAll(store, [rev3], clock());
      const log3 = sim.state.requestLog().length;
      await syncUntilSettled(runner, store, keys, clock);
      expect(await store.getVisit(org, adult.visitId)).toMatchObject({ state: 'sent', revision: 3, resourceIds: expectedIds });
      expect(sim.state.requestLog().slice(log3).map((c) => `${c.method} ${c.path}`)).toEqual([expect.stringMatching(/^POST \/fhir-r4\/v1\/?$/)]);
      expect(obs(idOf(first.resourceIds![keptKey]!)).valueQuantity.value).toBe(rev3.measurements[1]!.value);
      expect(obs(removedId).status).toBe('entered-in-error');

      // The reading put back by a later revision: the same resource is PUT again with current content (no second Observation).
      const rev4 = structuredClone(adult);
      await ingestAll(store, [rev4], clock());
      await syncUntilSettled(runner, store, keys, clock);
      const restored = (await store.getVisit(org, adult.visitId))!;
      expect(restored).toMatchObject({ state: 'sent', revision: 4 });
      expect(restored.resourceIds).toEqual(first.resourceIds);
      expect(obs(removedId).status).toBe('final');
      expect(counts()).toEqual(countsBefore);
    } finally {
      await store.close();
      await sim.close();
    }
  });
});
