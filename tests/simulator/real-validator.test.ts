// The simulator with the service's own validator (the default): same profile rules and rule numbers as the service.
import request from 'supertest';
import { createSimulator } from '../../src/simulator/app.js';
import { FHIR, condition, encounter, entry, location, observation, tokenFor, uuid, withDiagnosis } from './helpers.js';

describe('simulator with the service validator', () => {
  const now = () => new Date('2025-03-02T00:00:00Z');

  it('accepts a well-formed visit bundle with its diagnosis (Condition referenced from Encounter.diagnosis)', async () => {
    const sim = createSimulator({ now });
    await sim.ready;
    const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
    const loc = await request(sim.app).post(`${FHIR}/Location`).set(auth).send(location());
    expect(loc.status).toBe(201);
    const res = await request(sim.app).post(FHIR).set(auth).send({ resourceType: 'Bundle', type: 'transaction', entry: [
      entry(uuid(1), withDiagnosis(encounter('V-1', loc.body.id), uuid(3))), entry(uuid(2), observation('O-1', uuid(1))), entry(uuid(3), condition(uuid(1))),
    ] });
    expect(res.body.issue ?? []).toEqual([]);
    expect(res.status).toBe(200);
  });

  it('rejects a future datetime with the rule number and expression, storing nothing', async () => {
    const sim = createSimulator({ now: () => new Date('2025-03-01T01:20:00Z'), requireDiagnosis: false }); // before period.end
    await sim.ready;
    const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
    const loc = await request(sim.app).post(`${FHIR}/Location`).set(auth).send(location());
    const res = await request(sim.app).post(`${FHIR}/Encounter`).set(auth).send(encounter('V-1', loc.body.id));
    expect(res.status).toBe(400);
    const withRule = res.body.issue.filter((i: { details: { text: string } }) => /\(RuleNumber: \d{5}\)/.test(i.details.text));
    expect(withRule.length).toBeGreaterThan(0);
    expect(withRule[0].expression[0]).toMatch(/^Encounter\./);
    expect(res.body.issue.map((i: { details: { text: string } }) => i.details.text).join(' ')).toMatch(/RuleNumber: (10173|10290|10295|10296)/);
    expect(sim.state.count('Encounter')).toBe(0);
  });

  it('rejects an Observation without a LOINC/SNOMED code system with its rule number', async () => {
    const sim = createSimulator({ now });
    await sim.ready;
    const auth = { Authorization: `Bearer ${await tokenFor(sim.app)}` };
    const loc = await request(sim.app).post(`${FHIR}/Location`).set(auth).send(location());
    const enc = await request(sim.app).post(`${FHIR}/Encounter`).set(auth).send({ ...encounter('V-1', loc.body.id), status: 'in-progress' });
    expect(enc.status).toBe(201);
    const bad = { ...observation('O-1', `Encounter/${enc.body.id}`), code: { coding: [{ system: 'http://example.org/local', code: 'W' }] } };
    const res = await request(sim.app).post(`${FHIR}/Observation`).set(auth).send(bad);
    expect(res.status).toBe(400);
    expect(res.body.issue.map((i: { details: { text: string } }) => i.details.text).join(' ')).toMatch(/RuleNumber: \d{5}/);
    expect(sim.state.count('Observation')).toBe(0);
  });
});
