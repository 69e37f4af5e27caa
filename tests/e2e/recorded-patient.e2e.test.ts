// Patients against the simulator answering as the platform was recorded (its defaults): a new patient is created from the
// HTTP 200 `data["Patient ID:"]` body, and a newborn the platform already has — answered HTTP 200 success:false naming the
// existing id in `data.resourceID` — is adopted, never created again, although a search by the mother's NIK shows only ids.
import fs from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../../src/util/paths.js';
import { clientsFor, createLogger, facilityConfig, ingestAll, openStore, orgs, runnerFor, simulatorFor, syncUntilSettled, virtualClock } from './harness.js';
import { LOCATION, makeVisit } from './fixtures.js';

const NIK_IBU = 'https://fhir.kemkes.go.id/id/nik-ibu';

describe('patients as the platform answers them (recorded bodies)', () => {
  it('a new NIK patient and a newborn already registered both reach sent; the newborn is the existing patient, created once', async () => {
    const clock = virtualClock();
    const [org] = orgs(1);
    const organizationId = org!.organizationId;
    const sample = JSON.parse(fs.readFileSync(path.join(mappingsDir, 'samples', 'newborn-without-nik.visit.json'), 'utf8'));
    const newborn = { ...sample, organizationId, locationCode: LOCATION };
    const { motherNik, birthOrder, birthDate } = newborn.patient;
    const adult = makeVisit(7, { organizationId });
    const sim = await simulatorFor([org!], {
      clock,
      // The infant was registered earlier (by the hospital of birth, say): same mother's NIK, birth date and order.
      patients: [{ id: 'P09990000001', motherNik, multipleBirthInteger: birthOrder, birthDate, name: 'Bayi Ny. Rina', gender: 'female' }],
    });
    const logger = createLogger({ level: 'silent' });
    const store = await openStore({ url: 'sqlite::memory:' });
    try {
      const runner = runnerFor(store, clientsFor([facilityConfig(org!, sim)], clock, logger), clock, logger);
      await ingestAll(store, [newborn, adult], clock());
      await syncUntilSettled(runner, store, [newborn, adult].map((v) => ({ organizationId, visitId: v.visitId })), clock);

      const baby = (await store.getVisit(organizationId, newborn.visitId))!;
      expect(baby.state).toBe('sent');
      expect(baby.attempts).toBe(1); // the duplicate answer is the patient: no retry, no second create
      const encounter = sim.state.get('Encounter', baby.resourceIds!.encounter!.split('/')[1]!)!;
      expect(encounter.subject.reference).toBe('Patient/P09990000001');
      expect(sim.state.search('Patient', { identifier: `${NIK_IBU}|${motherNik}` })).toHaveLength(1);

      const grown = (await store.getVisit(organizationId, adult.visitId))!;
      expect(grown.state).toBe('sent');
      expect(grown.attempts).toBe(1); // the recorded success body is read on the first attempt
      const created = sim.state.get('Encounter', grown.resourceIds!.encounter!.split('/')[1]!)!;
      expect(String(created.subject.reference)).toMatch(/^Patient\/P\d+$/);
      // Both visits carry their diagnosis: the simulator refuses a finished Encounter without one (10457), as staging does.
      expect(encounter.diagnosis.length).toBeGreaterThan(0);
      expect(sim.state.requestLog().filter((e) => e.method === 'POST' && e.path.startsWith('/fhir-r4/v1/Patient')).map((e) => e.status)).toEqual([200, 200]);
    } finally {
      await store.close();
      await sim.close();
    }
  });
});
