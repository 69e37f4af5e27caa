// The simulator through the real fhir-kit-client over real HTTP, as the platform client will use it.
import { Client } from 'fhir-kit-client';
import { startSimulator, type RunningSimulator } from '../../src/simulator/server.js';
import { ORG, PATIENT, condition, encounter, entry, location, observation, uuid, withDiagnosis } from './helpers.js';

const ENC_SYS = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('simulator via fhir-kit-client', () => {
  let sim: RunningSimulator;
  let client: Client;

  beforeAll(async () => {
    sim = await startSimulator({ validator: false, port: 0, seed: 11 });
    const res = await fetch(`${sim.authBaseUrl}/accesstoken?grant_type=client_credentials`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'demo-client', client_secret: 'demo-secret' }),
    });
    const token = ((await res.json()) as { access_token: string }).access_token;
    client = new Client({ baseUrl: sim.fhirBaseUrl, bearerToken: token });
  });
  afterAll(() => sim.close());

  it('listens on loopback on a random port', () => {
    expect(sim.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sim.fhirBaseUrl).toBe(`${sim.url}/fhir-r4/v1`);
  });

  it('finds a sandbox patient by NIK (masked) and reads it', async () => {
    const bundle = (await client.search({ resourceType: 'Patient', searchParams: { identifier: 'https://fhir.kemkes.go.id/id/nik|9271060312000001' } })) as Json;
    expect(bundle.total).toBe(1);
    expect(bundle.entry[0].resource.id).toBe(PATIENT);
    expect(JSON.stringify(bundle)).not.toContain('9271060312000001');
    const p = (await client.read({ resourceType: 'Patient', id: PATIENT })) as Json;
    expect(p.resourceType).toBe('Patient');
  });

  it('creates, updates and searches an Encounter, and runs a transaction', async () => {
    const loc = (await client.create({ resourceType: 'Location', body: location() })) as Json;
    const enc = (await client.create({ resourceType: 'Encounter', body: { ...encounter('V-1', loc.id), status: 'in-progress' } })) as Json;
    const updated = (await client.update({ resourceType: 'Encounter', id: enc.id, body: { ...encounter('V-1', loc.id), id: enc.id, status: 'in-progress' } })) as Json;
    expect(updated.meta.versionId).not.toBe(enc.meta.versionId);
    const found = (await client.search({ resourceType: 'Encounter', searchParams: { identifier: `${ENC_SYS}|V-1` } })) as Json;
    expect(found.entry.map((e: Json) => e.resource.id)).toEqual([enc.id]);

    const tx = (await client.transaction({
      body: { resourceType: 'Bundle', type: 'transaction', entry: [
        entry(uuid(1), withDiagnosis(encounter('V-2', loc.id), uuid(3))), entry(uuid(2), observation('O-1', uuid(1))), entry(uuid(3), condition(uuid(1))),
      ] },
    })) as Json;
    expect(tx.type).toBe('transaction-response');
    const encId = tx.entry[0].response.resourceID;
    expect(tx.entry[0].response.location).toBe(`${sim.fhirBaseUrl}/Encounter/${encId}/_history/${tx.entry[0].response.etag.slice(3, -1)}`);
    const obs = (await client.search({ resourceType: 'Observation', searchParams: { encounter: encId } })) as Json;
    expect(obs.total).toBe(1);
  });

  it('surfaces the platform OperationOutcome on errors (status, and the recorded texts with and without rule number)', async () => {
    const loc = (await client.create({ resourceType: 'Location', body: location(ORG, 'X') })) as Json;
    const open = { ...encounter('V-dup', loc.id), status: 'in-progress' };
    await client.create({ resourceType: 'Encounter', body: open });
    const err = (await client.create({ resourceType: 'Encounter', body: open }).then(() => undefined, (e: unknown) => e)) as Json;
    expect(err.response.status).toBe(400);
    expect(err.response.data.issue[0].details.text).toBe('Found duplicate: Encounter'); // error-400-duplicate-location.json style
    const finished = (await client.create({ resourceType: 'Encounter', body: encounter('V-3', loc.id) }).then(() => undefined, (e: unknown) => e)) as Json;
    expect(finished.response.data.issue[0].details.text).toContain('RuleNumber: 10457');
    expect(sim.state.findByIdentifier('Encounter', ENC_SYS, 'V-dup')).toHaveLength(1);
  });
});
