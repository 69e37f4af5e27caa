// Valid base resources for the validation tests (self-contained: nothing is read from outside the repository).
// Every dateTime is UTC, after 2022-08-31 and before NOW.
export const NOW = new Date('2025-06-01T00:00:00Z');
export const ORG = '10000004';

type Json = Record<string, any>;
export const clone = <T>(x: T): T => structuredClone(x);

export function encounter(): Json {
  return {
    resourceType: 'Encounter',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/encounter/${ORG}`, value: 'V-2025-0001' }],
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB', display: 'ambulatory' },
    subject: { reference: 'Patient/P02478375538' },
    participant: [
      {
        type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'ATND', display: 'attender' }] }],
        individual: { reference: 'Practitioner/10009880728' },
      },
    ],
    period: { start: '2025-03-01T01:00:00+00:00', end: '2025-03-01T02:00:00+00:00' },
    location: [
      {
        location: { reference: 'Location/ef011065-38c9-46f8-9c35-d1fe68966a3e' },
        period: { start: '2025-03-01T01:00:00+00:00', end: '2025-03-01T02:00:00+00:00' },
      },
    ],
    statusHistory: [
      { status: 'arrived', period: { start: '2025-03-01T01:00:00+00:00', end: '2025-03-01T01:10:00+00:00' } },
      { status: 'in-progress', period: { start: '2025-03-01T01:10:00+00:00', end: '2025-03-01T01:55:00+00:00' } },
      { status: 'finished', period: { start: '2025-03-01T01:55:00+00:00', end: '2025-03-01T02:00:00+00:00' } },
    ],
    // Rule 10457: a finished Encounter needs its diagnosis.
    diagnosis: [{
      condition: { reference: 'Condition/2bffcd6e-15b0-45d1-87f4-30425a1eac8f', display: 'Routine child health examination' },
      use: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role', code: 'DD', display: 'Discharge diagnosis' }] },
      rank: 1,
    }],
    serviceProvider: { reference: `Organization/${ORG}` },
  };
}

/** The visit diagnosis as our mapper emits it (Condition, encounter-diagnosis, ICD-10). */
export function condition(): Json {
  return {
    resourceType: 'Condition',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/condition/${ORG}`, value: 'V-2025-0001.dx.Z00.1' }],
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed', display: 'Confirmed' }] },
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code: { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'Z00.1', display: 'Routine child health examination' }] },
    subject: { reference: 'Patient/P02478375538' },
    encounter: { reference: 'Encounter/2823ed1d-3e3e-434e-9a5b-9c579d192787' },
    onsetDateTime: '2025-03-01T01:00:00+00:00',
    recordedDate: '2025-03-01T02:00:00+00:00',
    recorder: { reference: 'Practitioner/10009880728' },
  };
}

export function observation(): Json {
  return {
    resourceType: 'Observation',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/observation/${ORG}`, value: 'V-2025-0001-bw' }],
    status: 'final',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [{ system: 'http://loinc.org', code: '29463-7', display: 'Body weight' }] },
    subject: { reference: 'Patient/P02478375538' },
    encounter: { reference: 'Encounter/2823ed1d-3e3e-434e-9a5b-9c579d192787' },
    effectiveDateTime: '2025-03-01T01:20:00+00:00',
    issued: '2025-03-01T01:21:00+00:00',
    performer: [{ reference: 'Practitioner/10009880728' }],
    valueQuantity: { value: 12.4, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  };
}

export function immunization(): Json {
  return {
    resourceType: 'Immunization',
    status: 'completed',
    vaccineCode: {
      coding: [
        { system: 'http://sys-ids.kemkes.go.id/kfa', code: '93001282', display: 'Vaksin DTP - HB - Hib 0,5 mL (PENTABIO, 1)' },
        { system: 'http://sys-ids.kemkes.go.id/kfa', code: 'VG17', display: 'HIB' },
        { system: 'http://hl7.org/fhir/sid/cvx', code: '198', display: 'DTP-hepB-Hib Pentavalent Non-US' },
      ],
    },
    patient: { reference: 'Patient/P02478375538' },
    encounter: { reference: 'Encounter/2823ed1d-3e3e-434e-9a5b-9c579d192787' },
    occurrenceDateTime: '2025-03-01T01:30:00+00:00',
    recorded: '2025-03-01T01:35:00+00:00',
    primarySource: true,
    location: { reference: 'Location/ef011065-38c9-46f8-9c35-d1fe68966a3e' },
    lotNumber: '202009007',
    expirationDate: '2026-08-17',
    performer: [
      {
        function: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0443', code: 'AP', display: 'Administering Provider' }] },
        actor: { reference: 'Practitioner/10009880728' },
      },
    ],
    reasonCode: [
      {
        coding: [
          { system: 'http://terminology.kemkes.go.id/CodeSystem/immunization-reason', code: 'IM-Dasar' },
          { system: 'http://terminology.kemkes.go.id/CodeSystem/immunization-routine-timing', code: 'IM-Ideal' },
        ],
      },
    ],
    fundingSource: { coding: [{ system: 'http://terminology.kemkes.go.id/CodeSystem/immunization-fundingSource', code: 'IF000001' }] },
    protocolApplied: [{ doseNumberPositiveInt: 1 }],
  };
}

/** A recalled/recorded immunization (primarySource false): no lot number needed, reportOrigin needed. */
export function immunizationRecall(): Json {
  const r = immunization();
  r.primarySource = false;
  r.reportOrigin = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/immunization-origin', code: 'recall' }] };
  delete r.lotNumber;
  delete r.expirationDate;
  return r;
}

export function notDoneImmunization(): Json {
  const r = immunization();
  r.status = 'not-done';
  r.statusReason = { coding: [{ system: 'http://terminology.kemkes.go.id/CodeSystem/immunization-statusReason', code: 'IS000001', display: 'Tunda' }] };
  delete r.lotNumber;
  delete r.expirationDate;
  delete r.protocolApplied;
  return r;
}

export function patient(): Json {
  return {
    resourceType: 'Patient',
    identifier: [{ use: 'official', system: 'https://fhir.kemkes.go.id/id/nik', value: '9271060312000001' }],
    active: true,
    name: [{ use: 'official', text: 'Pasien Contoh' }],
    gender: 'female',
    birthDate: '2024-11-17',
    multipleBirthInteger: 0,
    address: [
      {
        use: 'home',
        line: ['Jl. Contoh 1'],
        country: 'ID',
        extension: [
          {
            url: 'https://fhir.kemkes.go.id/r4/StructureDefinition/administrativeCode',
            extension: [
              { url: 'province', valueCode: '31' },
              { url: 'city', valueCode: '3171' },
            ],
          },
        ],
      },
    ],
  };
}

export function location(): Json {
  return {
    resourceType: 'Location',
    identifier: [{ system: `http://sys-ids.kemkes.go.id/location/${ORG}`, value: 'POSYANDU-MAWAR' }],
    status: 'active',
    name: 'Posyandu Mawar',
    mode: 'instance',
    physicalType: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/location-physical-type', code: 'si', display: 'Site' }] },
    managingOrganization: { reference: `Organization/${ORG}` },
  };
}

export const U = {
  enc: 'urn:uuid:0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2e01',
  obs: 'urn:uuid:0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2e02',
  imm: 'urn:uuid:0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2e03',
  dx: 'urn:uuid:0b6e2c1e-8d7a-4c3b-9a52-0c8f3b1d2e04',
};

/** A transaction Bundle as our mapper emits it before sync: urn:uuid links, conditional references to platform ids. */
export function bundle(): Json {
  const e = encounter();
  e.subject = { reference: 'Patient?identifier=https://fhir.kemkes.go.id/id/nik|9271060312000001' };
  e.location[0].location = { reference: `Location?identifier=http://sys-ids.kemkes.go.id/location/${ORG}|POSYANDU-MAWAR` };
  const o = observation();
  o.subject = e.subject;
  o.encounter = { reference: U.enc };
  const i = immunization();
  i.patient = e.subject;
  i.encounter = { reference: U.enc };
  i.location = e.location[0].location;
  e.diagnosis[0].condition = { reference: U.dx };
  const c = condition();
  c.subject = e.subject;
  c.encounter = { reference: U.enc };
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: U.enc, resource: e, request: { method: 'POST', url: 'Encounter' } },
      { fullUrl: U.obs, resource: o, request: { method: 'POST', url: 'Observation' } },
      { fullUrl: U.imm, resource: i, request: { method: 'POST', url: 'Immunization' } },
      { fullUrl: U.dx, resource: c, request: { method: 'POST', url: 'Condition' } },
    ],
  };
}
