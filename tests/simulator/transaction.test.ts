import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import { FHIR, ORG, encounter, entry, immunization, location, observation, tokenFor, uuid } from './helpers.js';

const ENC_SYS = `http://sys-ids.kemkes.go.id/encounter/${ORG}`;

// The documented rule numbers (20002, 20007, 20012/20013) are checked here, with rule 10457 off so the Encounters need no
// Condition; recorded-shapes.test.ts checks the recorded transaction answer and 10457.
async function setup() {
  const sim = createSimulator({ validator: false, seed: 7, errorStyle: 'documented', requireDiagnosis: false });
  const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
  const post = (p: string, b: unknown) => request(sim.app).post(`${FHIR}${p}`).set(auth).send(b as object);
  const loc = await post('/Location', location());
  const total = () => sim.state.count('Encounter') + sim.state.count('Observation') + sim.state.count('Immunization');
  return { sim, post, locationId: loc.body.id as string, total };
}

const bundle = (entries: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry: entries });

describe('simulator transaction Bundles', () => {
  it('applies a visit bundle, rewriting urn:uuid references (also to later entries) to the new ids', async () => {
    const { sim, post, locationId } = await setup();
    // The Observation comes first and points at the Encounter entry after it.
    const res = await post('', bundle([
      entry(uuid(2), observation('O-1', uuid(1))),
      entry(uuid(1), encounter('V-1', locationId)),
      entry(uuid(3), immunization(uuid(1), locationId)),
    ]));
    expect(res.status).toBe(200);
    expect(res.body.resourceType).toBe('Bundle');
    expect(res.body.type).toBe('transaction-response');
    const ids = res.body.entry.map((e: { response: { status: string; location: string; resourceID: string } }) => {
      expect(e.response.status).toBe('201 Created');
      expect(e.response.location).toMatch(/^http:\/\/[^/]+\/fhir-r4\/v1\/[A-Za-z]+\/[0-9a-f-]{36}\/_history\/[A-Za-z0-9+/]+$/);
      return e.response.resourceID;
    });
    expect(res.body.entry.map((e: { response: { resourceType: string } }) => e.response.resourceType)).toEqual(['Observation', 'Encounter', 'Immunization']);
    const encId = ids[1];
    const obs = sim.state.get('Observation', ids[0])!;
    expect(obs.encounter.reference).toBe(`Encounter/${encId}`);
    const imm = sim.state.get('Immunization', ids[2])!;
    expect(imm.encounter.reference).toBe(`Encounter/${encId}`);
    expect(sim.state.search('Observation', { encounter: encId })).toHaveLength(1);
  });

  it('is all-or-nothing: a bad entry stores nothing, and later entries fail "due to previous error" (20013 when dependent, else 20012)', async () => {
    const { post, locationId, total } = await setup();
    const res = await post('', bundle([
      entry(uuid(1), encounter('V-1', locationId)),
      entry(uuid(2), { ...observation('O-1', uuid(1)), subject: { reference: 'Patient/P99999999999' } }),
      entry(uuid(3), observation('O-2', uuid(2).replace('0002', '0009'))), // independent of the failed entry
      entry(uuid(4), { ...observation('O-3', uuid(1)), hasMember: [{ reference: uuid(2) }] }), // depends on it
    ]));
    expect(res.status).toBe(400);
    const texts = res.body.issue.map((i: { details: { text: string } }) => i.details.text);
    expect(texts[0]).toBe('Resource not found Patient/P99999999999 (RuleNumber: 20007)');
    expect(res.body.issue[0].expression).toEqual(['Observation.subject']);
    expect(texts[1]).toBe('Forbidden resource Observation due to previous error (RuleNumber: 20012)');
    expect(res.body.issue[1].expression).toEqual(['Bundle.entry[2]']);
    expect(texts[2]).toBe('Invalid resource Observation due to previous error (RuleNumber: 20013)');
    expect(total()).toBe(0);
  });

  it('fails the whole transaction on a duplicate Encounter identifier (20002), in the store or within the bundle', async () => {
    const { sim, post, locationId, total } = await setup();
    expect((await post('/Encounter', encounter('V-1', locationId))).status).toBe(201);
    const res = await post('', bundle([
      entry(uuid(1), encounter('V-1', locationId)),
      entry(uuid(2), observation('O-1', uuid(1))),
    ]));
    expect(res.status).toBe(400);
    expect(res.body.issue[0]).toMatchObject({ code: 'duplicate', details: { text: 'Found duplicate resource: Encounter (RuleNumber: 20002)' } });
    expect(res.body.issue[1].details.text).toContain('RuleNumber: 20013');
    expect(total()).toBe(1);
    const inBundle = await post('', bundle([entry(uuid(1), encounter('V-2', locationId)), entry(uuid(2), encounter('V-2', locationId))]));
    expect(inBundle.status).toBe(400);
    expect(inBundle.body.issue[0].code).toBe('duplicate');
    expect(sim.state.findByIdentifier('Encounter', ENC_SYS, 'V-2')).toHaveLength(0);
  });

  it('fails with 10117 when a bundle Encounter names another organization', async () => {
    const { post, locationId, total } = await setup();
    const res = await post('', bundle([entry(uuid(1), encounter('V-1', locationId, '123')), entry(uuid(2), observation('O-1', uuid(1)))]));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toContain('RuleNumber: 10117');
    expect(total()).toBe(0);
  });

  it.each([
    ['missing fullUrl', undefined, '20021', 'Invalid resource Encounter due to missing fullUrl element (RuleNumber: 20021)'],
    ['not urn:uuid', 'Encounter/abc', '20018', undefined],
    ['urn:uuid without colon', 'urn:uuid00000000-0000-4000-8000-000000000001', '20017', undefined],
    ['bad UUID', 'urn:uuid:not-a-uuid', '20019', undefined],
  ])('checks fullUrl: %s (fullUrl %s)', async (_name, fullUrl, rule, text) => {
    const { post, locationId, total } = await setup();
    const bad = { ...entry(uuid(9), encounter('V-1', locationId)), fullUrl };
    const res = await post('', bundle([bad, entry(uuid(2), observation('O-1', 'Encounter/x'))]));
    expect(res.status).toBe(400);
    expect(res.body.issue[0].details.text).toContain(`RuleNumber: ${rule}`);
    if (text) expect(res.body.issue[0].details.text).toBe(text);
    expect(res.body.issue[0].expression).toEqual(['Bundle.entry[0].fullUrl']);
    expect(res.body.issue[1].details.text).toContain('RuleNumber: 20012');
    expect(total()).toBe(0);
  });

  it('refuses duplicate fullUrls (20020) and nested bundles (20011), applying nothing', async () => {
    const { post, locationId, total } = await setup();
    const dup = await post('', bundle([entry(uuid(1), encounter('V-1', locationId)), entry(uuid(1), observation('O-1', uuid(1)))]));
    expect(dup.status).toBe(400);
    expect(dup.body.issue[0].details.text).toBe(`Invalid element Observation.fullUrl due to duplicate fullUrl: ${uuid(1)} (RuleNumber: 20020)`);
    const nested = await post('', bundle([entry(uuid(1), encounter('V-1', locationId)), entry(uuid(2), bundle([]))]));
    expect(nested.status).toBe(400);
    expect(nested.body.issue[0].details.text).toContain('RuleNumber: 20011');
    expect(total()).toBe(0);
  });

  it('supports PUT entries (id in body and url) next to POSTs', async () => {
    const { sim, post, locationId } = await setup();
    const enc = (await post('/Encounter', encounter('V-1', locationId))).body.id as string;
    const res = await post('', bundle([
      entry(uuid(1), { ...encounter('V-1', locationId), id: enc, status: 'finished' }, 'PUT', `Encounter/${enc}`),
      entry(uuid(2), observation('O-1', uuid(1))),
    ]));
    expect(res.status).toBe(200);
    expect(res.body.entry[0].response).toMatchObject({ status: '200 OK', resourceID: enc });
    expect(res.body.entry[0].response.location).toMatch(new RegExp(`/Encounter/${enc}/_history/`));
    const obsId = res.body.entry[1].response.resourceID;
    expect(sim.state.get('Observation', obsId)!.encounter.reference).toBe(`Encounter/${enc}`);
    const noId = await post('', bundle([entry(uuid(1), encounter('V-1', locationId), 'PUT', `Encounter/${enc}`)]));
    expect(noId.status).toBe(400);
    expect(sim.state.count('Encounter')).toBe(1);
  });

  it('rejects what is not a transaction, and unknown urn:uuid references', async () => {
    const { post, locationId, total } = await setup();
    expect((await post('', { resourceType: 'Bundle', type: 'batch', entry: [] })).status).toBe(400);
    expect((await post('', { resourceType: 'Bundle', type: 'transaction', entry: [] })).status).toBe(400);
    expect((await post('', { resourceType: 'Patient' })).status).toBe(400);
    const dangling = await post('', bundle([entry(uuid(1), observation('O-1', uuid(5)))]));
    expect(dangling.status).toBe(400);
    expect(dangling.body.issue[0].details.text).toContain('RuleNumber: 20007');
    const patientInBundle = await post('', bundle([entry(uuid(1), { resourceType: 'Patient' })]));
    expect(patientInBundle.status).toBe(400);
    const mismatch = await post('', bundle([entry(uuid(1), encounter('V-1', locationId), 'POST', 'Observation')]));
    expect(mismatch.status).toBe(400);
    expect(total()).toBe(0);
  });
});
