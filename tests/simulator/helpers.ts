// Shared fixtures for the simulator tests: token helper and minimal SATUSEHAT-shaped payloads.
import request from 'supertest';
import type express from 'express';

export const ORG = '10000004';
export const PATIENT = 'P02478375538'; // sandbox dummy patient (NIK 9271060312000001)
export const PRACTITIONER = '10009880728'; // sandbox dummy practitioner dr. Alexander
export const FHIR = '/fhir-r4/v1';
export type Res = Record<string, unknown> & { resourceType: string };
export const NIK_SYS = 'https://fhir.kemkes.go.id/id/nik';

export async function tokenFor(app: express.Express, clientId = 'demo-client', secret = 'demo-secret'): Promise<string> {
  const res = await request(app)
    .post('/oauth2/v1/accesstoken?grant_type=client_credentials')
    .type('form')
    .send({ client_id: clientId, client_secret: secret });
  if (res.status !== 200) throw new Error(`token failed: ${res.status} ${res.text}`);
  return res.body.access_token as string;
}

export function location(org = ORG, code = 'POSY-1'): Res {
  return {
    resourceType: 'Location',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/location/${org}`, value: code }],
    status: 'active',
    name: `Posyandu ${code}`,
    mode: 'instance',
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'si', display: 'Site' }] },
    managingOrganization: { reference: `Organization/${org}` },
  };
}

export function encounter(visitId: string, locationId: string, org = ORG, patient = PATIENT): Res {
  return {
    resourceType: 'Encounter',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/encounter/${org}`, value: visitId }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject: { reference: `Patient/${patient}` },
    participant: [
      {
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'ATND' }] }],
        individual: { reference: `Practitioner/${PRACTITIONER}` },
      },
    ],
    period: { start: '2025-03-01T01:00:00+00:00', end: '2025-03-01T01:30:00+00:00' },
    location: [{ location: { reference: `Location/${locationId}` } }],
    statusHistory: [
      { status: 'arrived', period: { start: '2025-03-01T01:00:00+00:00', end: '2025-03-01T01:05:00+00:00' } },
      { status: 'in-progress', period: { start: '2025-03-01T01:05:00+00:00', end: '2025-03-01T01:25:00+00:00' } },
      { status: 'finished', period: { start: '2025-03-01T01:25:00+00:00', end: '2025-03-01T01:30:00+00:00' } },
    ],
    // A finished Encounter needs its diagnosis (10457). The simulator, like the platform as far as is known, does not check that a
    // referenced Condition exists, so a fixed id serves the tests that post an Encounter alone.
    diagnosis: [{ condition: { reference: 'Condition/3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f' }, use: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role', code: 'DD' }] }, rank: 1 }],
    serviceProvider: { reference: `Organization/${org}` },
  };
}

export function observation(obsId: string, encounterRef: string, org = ORG): Res {
  return {
    resourceType: 'Observation',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/observation/${org}`, value: obsId }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
    subject: { reference: `Patient/${PATIENT}` },
    encounter: { reference: encounterRef },
    performer: [{ reference: `Practitioner/${PRACTITIONER}` }],
    effectiveDateTime: '2025-03-01T01:10:00+00:00',
    issued: '2025-03-01T01:10:00+00:00',
    valueQuantity: { value: 12.5, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  };
}

export function immunization(encounterRef: string, locationId: string): Res {
  return {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: { coding: [{ system: 'http://sys-ids.kemkes.go.id/kfa', code: 'VG45', display: 'HepB' }] },
    patient: { reference: `Patient/${PATIENT}` },
    encounter: { reference: encounterRef },
    occurrenceDateTime: '2025-03-01T01:15:00+00:00',
    recorded: '2025-03-01T01:15:00+00:00',
    primarySource: true,
    location: { reference: `Location/${locationId}` },
    lotNumber: 'LOT1',
    expirationDate: '2026-01-01',
    performer: [{ actor: { reference: `Practitioner/${PRACTITIONER}` } }],
    protocolApplied: [{ doseNumberPositiveInt: 1 }],
  };
}

export function entry(fullUrl: string, resource: Record<string, unknown>, method: 'POST' | 'PUT' = 'POST', url?: string): Record<string, unknown> {
  return { fullUrl, resource, request: { method, url: url ?? String(resource.resourceType) } };
}

export const uuid = (n: number): string => `urn:uuid:00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
