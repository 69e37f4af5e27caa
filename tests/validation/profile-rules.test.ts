// One failing and one passing case per profile rule, table-driven from the valid base resources in fixtures.ts.
import { createValidator, type ValidateOptions } from '../../src/validation/index.js';
import type { Issue } from '../../src/validation/outcome.js';
import * as F from './fixtures.js';

type Json = Record<string, any>;
interface Case {
  /** rule id in profiles/satusehat-rules.json */
  id: string;
  base: () => Json;
  fail: (r: Json) => void;
  /** FHIRPath the issue must point at */
  expr: string;
  /** optional variant that must NOT trigger the rule (default: the base resource itself) */
  pass?: (r: Json) => void;
  opts?: Partial<ValidateOptions>;
}

const v = createValidator();
const run = (r: unknown, o: Partial<ValidateOptions> = {}): Issue[] => v.validate(r, { now: F.NOW, ...o });
const ruleOf = (id: string) => {
  const r = v.rules.find((x) => x.id === id);
  if (!r) throw new Error(`no rule ${id}`);
  return r;
};

const PAST = '2022-08-30T23:59:59+00:00';
const FUTURE = '2025-06-02T00:00:00+00:00';

const LOINC = 'http://loinc.org';
const SNOMED = 'http://snomed.info/sct';
const CLINICAL_TERM = 'http://terminology.kemkes.go.id/CodeSystem/clinical-term';
const LOCAL = 'http://example.org/fhir/CodeSystem/local';
const cc = (system: string, code: string) => ({ coding: [{ system, code }] });
/** A blood-pressure Observation with components (SNOMED-coded, so that no component rule fires on the base). */
function bloodPressure(): Json {
  const r = F.observation();
  r.code = cc(LOINC, '85354-9');
  delete r.valueQuantity;
  r.component = [
    { code: cc(SNOMED, '271649006'), valueQuantity: { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
    { code: cc(SNOMED, '271650006'), valueQuantity: { value: 80, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' } },
  ];
  return r;
}
/** A coded finding (valueCodeableConcept instead of the base's valueQuantity). */
const coded = (system: string, code: string) => (r: Json) => {
  delete r.valueQuantity;
  r.valueCodeableConcept = cc(system, code);
};

const cases: Case[] = [
  // base-R4 cardinality the JSON schema does not express
  { id: 'r4-observation-status', base: F.observation, fail: (r) => delete r.status, expr: 'Observation.status' },
  { id: 'r4-encounter-status', base: F.encounter, fail: (r) => delete r.status, expr: 'Encounter.status' },
  { id: 'r4-immunization-status', base: F.immunization, fail: (r) => delete r.status, expr: 'Immunization.status' },
  { id: 'r4-immunization-occurrence', base: F.immunization, fail: (r) => delete r.occurrenceDateTime, expr: 'Immunization.occurrence' },
  { id: 'r4-bundle-type', base: F.bundle, fail: (r) => delete r.type, expr: 'Bundle.type' },
  // http vs https
  { id: 'system-uri-scheme', base: F.encounter, fail: (r) => (r.identifier[0].system = `https://sys-ids.kemkes.go.id/encounter/${F.ORG}`), expr: 'Encounter.identifier[0].system' },
  // Encounter
  { id: 'encounter-identifier-org', base: F.encounter, fail: (r) => (r.serviceProvider.reference = 'Organization/1000004'), expr: 'Encounter.identifier[0].system' },
  { id: 'encounter-subject', base: F.encounter, fail: (r) => delete r.subject, expr: 'Encounter.subject' },
  { id: 'encounter-subject-patient', base: F.encounter, fail: (r) => (r.subject.reference = 'Group/123'), expr: 'Encounter.subject.reference', pass: (r) => (r.subject.reference = 'Patient?identifier=https://fhir.kemkes.go.id/id/nik|9271060312000001') },
  { id: 'encounter-participant-individual', base: F.encounter, fail: (r) => delete r.participant[0].individual, expr: 'Encounter.participant[0].individual' },
  { id: 'encounter-participant-practitioner', base: F.encounter, fail: (r) => (r.participant[0].individual.reference = 'RelatedPerson/kader-1'), expr: 'Encounter.participant[0].individual.reference' },
  { id: 'encounter-participant-atnd', base: F.encounter, fail: (r) => (r.participant[0].type[0].coding[0].code = 'PPRF'), expr: 'Encounter.participant' },
  { id: 'encounter-location', base: F.encounter, fail: (r) => delete r.location, expr: 'Encounter.location.location' },
  { id: 'encounter-location-target', base: F.encounter, fail: (r) => (r.location[0].location.reference = 'Organization/1'), expr: 'Encounter.location[0].location.reference' },
  { id: 'encounter-finished-period-end', base: F.encounter, fail: (r) => delete r.period.end, expr: 'Encounter.period.end', pass: (r) => { r.status = 'in-progress'; delete r.period.end; } },
  { id: 'encounter-finished-period-order', base: F.encounter, fail: (r) => (r.period.end = r.period.start), expr: 'Encounter.period.end' },
  { id: 'encounter-status-history', base: F.encounter, fail: (r) => delete r.statusHistory, expr: 'Encounter.statusHistory' },
  { id: 'encounter-period-start', base: F.encounter, fail: (r) => delete r.period.start, expr: 'Encounter.period.start' },
  { id: 'encounter-service-provider', base: F.encounter, fail: (r) => delete r.serviceProvider, expr: 'Encounter.serviceProvider' },
  { id: 'encounter-service-provider-target', base: F.encounter, fail: (r) => (r.serviceProvider.reference = 'Location/1'), expr: 'Encounter.serviceProvider.reference' },
  { id: 'encounter-period-end-format', base: F.encounter, fail: (r) => (r.period.end = '2025-03-01'), expr: 'Encounter.period.end' },
  { id: 'encounter-period-end-range', base: F.encounter, fail: (r) => (r.period.end = FUTURE), expr: 'Encounter.period.end' },
  { id: 'encounter-period-end-order', base: F.encounter, fail: (r) => { r.status = 'in-progress'; r.period.end = '2025-03-01T00:30:00+00:00'; }, expr: 'Encounter.period.end' },
  { id: 'encounter-period-end-utc', base: F.encounter, fail: (r) => (r.period.end = '2025-03-01T09:00:00+07:00'), expr: 'Encounter.period.end' },
  { id: 'encounter-period-start-format', base: F.encounter, fail: (r) => (r.period.start = '2025-03-01T01:00+00:00'), expr: 'Encounter.period.start' },
  { id: 'encounter-period-start-range', base: F.encounter, fail: (r) => (r.statusHistory[0].period.start = PAST), expr: 'Encounter.statusHistory[0].period.start' },
  { id: 'encounter-period-start-utc', base: F.encounter, fail: (r) => (r.period.start = '2025-03-01T08:00:00+07:00'), expr: 'Encounter.period.start' },
  { id: 'encounter-location-period-start-format', base: F.encounter, fail: (r) => (r.location[0].period.start = '2025-03-01'), expr: 'Encounter.location[0].period.start' },
  { id: 'encounter-location-period-end-format', base: F.encounter, fail: (r) => (r.location[0].period.end = '2025-03-01'), expr: 'Encounter.location[0].period.end' },
  { id: 'encounter-finished-status-history', base: F.encounter, fail: (r) => r.statusHistory.splice(1, 1), expr: 'Encounter.statusHistory' },
  // Observation
  { id: 'observation-subject', base: F.observation, fail: (r) => delete r.subject, expr: 'Observation.subject' },
  { id: 'observation-subject-patient', base: F.observation, fail: (r) => (r.subject.reference = 'Practitioner/1'), expr: 'Observation.subject.reference' },
  { id: 'observation-encounter', base: F.observation, fail: (r) => delete r.encounter, expr: 'Observation.encounter' },
  { id: 'observation-encounter-target', base: F.observation, fail: (r) => (r.encounter.reference = 'EpisodeOfCare/1'), expr: 'Observation.encounter.reference' },
  { id: 'observation-performer-practitioner', base: F.observation, fail: (r) => (r.performer = [{ reference: `Organization/${F.ORG}` }]), expr: 'Observation.performer[0].reference', pass: (r) => r.performer.push({ reference: `Organization/${F.ORG}` }) },
  // 10010: a valid LOINC code our tables never use is fine; a non-allowed system alone is not.
  { id: 'observation-code-system', base: F.observation, fail: (r) => (r.code.coding = [{ system: 'http://hl7.org/fhir/location-type', code: 'LO000003' }]), expr: 'Observation.code.coding', pass: (r) => (r.code.coding = [{ system: 'http://loinc.org', code: '8331-1' }, { system: 'http://fhir.org/guides/who/anc-cds/CodeSystem/anc-custom-codes', code: 'ANC.B8.DE3' }]) },
  { id: 'observation-loinc-format', base: F.observation, fail: (r) => (r.code.coding[0].code = '398192003'), expr: 'Observation.code.coding[0].code' },
  { id: 'observation-category-system', base: F.observation, fail: (r) => (r.category[0].coding[0] = { system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD' }), expr: 'Observation.category[0].coding' },
  { id: 'observation-category-required', base: F.observation, fail: (r) => delete r.category, expr: 'Observation.category' },
  { id: 'observation-effective-required', base: F.observation, fail: (r) => delete r.effectiveDateTime, expr: 'Observation.effective' },
  { id: 'observation-effective-format', base: F.observation, fail: (r) => (r.effectiveDateTime = '2025-03-01'), expr: 'Observation.effectiveDateTime' },
  { id: 'observation-effective-range', base: F.observation, fail: (r) => (r.effectiveDateTime = FUTURE), expr: 'Observation.effectiveDateTime', pass: (r) => (r.effectiveDateTime = '2022-08-31T00:00:00+00:00') },
  { id: 'observation-effective-utc', base: F.observation, fail: (r) => (r.effectiveDateTime = '2025-03-01T08:20:00+07:00'), expr: 'Observation.effectiveDateTime' },
  { id: 'observation-issued-required', base: F.observation, fail: (r) => delete r.issued, expr: 'Observation.issued' },
  { id: 'observation-issued-format', base: F.observation, fail: (r) => (r.issued = '2025-03-01T01:21:00'), expr: 'Observation.issued' },
  { id: 'observation-issued-range', base: F.observation, fail: (r) => (r.issued = PAST), expr: 'Observation.issued' },
  { id: 'observation-issued-utc', base: F.observation, fail: (r) => (r.issued = '2025-03-01T09:21:00+08:00'), expr: 'Observation.issued' },
  { id: 'observation-value-datetime-format', base: F.observation, fail: (r) => { delete r.valueQuantity; r.valueDateTime = '2024-12-01'; }, expr: 'Observation.valueDateTime', pass: (r) => { delete r.valueQuantity; r.valueDateTime = '2024-12-01T00:00:00+00:00'; } },
  { id: 'observation-identifier-system', base: F.observation, fail: (r) => (r.identifier[0].system = `http://sys-ids.kemkes.go.id/encounter/${F.ORG}`), expr: 'Observation.identifier[0].system', pass: (r) => (r.identifier[0].system = `http://sys-ids.kemkes.go.id/sitb/${F.ORG}`) },
  { id: 'observation-quantity-ucum-system', base: F.observation, fail: (r) => delete r.valueQuantity.system, expr: 'Observation.valueQuantity.system' },
  { id: 'observation-quantity-ucum-code', base: F.observation, fail: (r) => (r.valueQuantity.code = 'kilo gram'), expr: 'Observation.valueQuantity.code', pass: (r) => (r.valueQuantity = { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' }) },
  { id: 'observation-quantity-value', base: F.observation, fail: (r) => delete r.valueQuantity.value, expr: 'Observation.valueQuantity.value', pass: coded(SNOMED, '165746003') }, // a coded finding has no valueQuantity to miss
  // Observation terminology for coded findings, interpretations, methods and components (10010/10297/10398/10416/10434/10435)
  { id: 'observation-code-unlisted', base: F.observation, fail: (r) => (r.code = cc(CLINICAL_TERM, 'OC000010')), expr: 'Observation.code.coding[0].system', pass: (r) => r.code.coding.push({ system: CLINICAL_TERM, code: 'OC000010' }) },
  { id: 'observation-value-cc-system', base: F.observation, fail: coded(LOCAL, 'positive'), expr: 'Observation.valueCodeableConcept.coding', pass: coded(LOINC, 'LA6576-8') },
  { id: 'observation-value-cc-unlisted', base: F.observation, fail: coded(LOINC, 'LA6576-8'), expr: 'Observation.valueCodeableConcept.coding[0].system', pass: coded(SNOMED, '165746003') },
  { id: 'observation-interpretation-system', base: F.observation, fail: (r) => (r.interpretation = [cc(LOCAL, 'normal')]), expr: 'Observation.interpretation[0].coding', pass: (r) => (r.interpretation = [cc(CLINICAL_TERM, 'OI000009')]) },
  { id: 'observation-interpretation-unlisted', base: F.observation, fail: (r) => (r.interpretation = [cc('http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', 'N'), cc(CLINICAL_TERM, 'OI000009')]), expr: 'Observation.interpretation[1].coding[0].system', pass: (r) => (r.interpretation = [cc('http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation', 'N')]) },
  { id: 'observation-method-system', base: F.observation, fail: (r) => (r.method = cc(SNOMED, '258104002')), expr: 'Observation.method.coding', pass: (r) => (r.method = cc(CLINICAL_TERM, 'OC000014')) },
  { id: 'observation-component-code-system', base: bloodPressure, fail: (r) => (r.component[1].code = cc('http://hl7.org/fhir/ValueSet/age-units', 'a')), expr: 'Observation.component[1].code.coding', pass: (r) => (r.component[1].code = cc(LOINC, '8462-4')) },
  { id: 'observation-component-code-unlisted', base: bloodPressure, fail: (r) => (r.component[0].code = cc(LOINC, '8480-6')), expr: 'Observation.component[0].code.coding[0].system' },
  { id: 'observation-component-value-cc-system', base: bloodPressure, fail: (r) => { delete r.component[0].valueQuantity; r.component[0].valueCodeableConcept = cc(LOCAL, 'x'); }, expr: 'Observation.component[0].valueCodeableConcept.coding', pass: (r) => { delete r.component[0].valueQuantity; r.component[0].valueCodeableConcept = cc(LOINC, 'LA6576-8'); } },
  { id: 'observation-component-value-cc-unlisted', base: bloodPressure, fail: (r) => { delete r.component[0].valueQuantity; r.component[0].valueCodeableConcept = cc(LOINC, 'LA6576-8'); }, expr: 'Observation.component[0].valueCodeableConcept.coding[0].system', pass: (r) => { delete r.component[0].valueQuantity; r.component[0].valueCodeableConcept = cc(CLINICAL_TERM, 'OV000002'); } },
  { id: 'observation-component-quantity-ucum-system', base: bloodPressure, fail: (r) => delete r.component[1].valueQuantity.system, expr: 'Observation.component[1].valueQuantity.system' },
  { id: 'observation-component-quantity-ucum-code', base: bloodPressure, fail: (r) => (r.component[0].valueQuantity.code = 'mmHg'), expr: 'Observation.component[0].valueQuantity.code' },
  { id: 'observation-component-quantity-value', base: bloodPressure, fail: (r) => delete r.component[0].valueQuantity.value, expr: 'Observation.component[0].valueQuantity.value' },
  { id: 'observation-derived-from-target', base: F.observation, fail: (r) => (r.derivedFrom = [{ reference: 'Patient/P02478375538' }]), expr: 'Observation.derivedFrom[0].reference', pass: (r) => (r.derivedFrom = [{ reference: 'Observation/2f5bd2b4-2d0c-4d46-9a0c-2d1f7a6c1b11' }]) },
  { id: 'observation-has-member-target', base: F.observation, fail: (r) => (r.hasMember = [{ reference: 'MolecularSequence/1' }]), expr: 'Observation.hasMember[0].reference', pass: (r) => (r.hasMember = [{ reference: 'QuestionnaireResponse/1' }]) },
  { id: 'observation-body-site-system', base: F.observation, fail: (r) => (r.bodySite = cc(LOINC, '8480-6')), expr: 'Observation.bodySite.coding', pass: (r) => (r.bodySite = cc(SNOMED, '368209003')) },
  // Immunization
  { id: 'immunization-vaccine-code', base: F.immunization, fail: (r) => r.vaccineCode.coding.push({ system: 'http://snomed.info/sct', code: '1119349007' }), expr: 'Immunization.vaccineCode.coding[3].system' },
  { id: 'immunization-kfa-code-format', base: F.immunization, fail: (r) => (r.vaccineCode.coding[1].code = 'HIB'), expr: 'Immunization.vaccineCode.coding[1].code' },
  { id: 'immunization-performer-function', base: F.immunization, fail: (r) => (r.performer[0].function.coding[0].code = 'XX'), expr: 'Immunization.performer[0].function.coding[0].code', pass: (r) => (r.performer[0].function.coding[0].code = 'EP') },
  { id: 'immunization-reason-system', base: F.immunization, fail: (r) => (r.reasonCode[0].coding[0].system = 'http://terminology.kemkes.go.id/CodeSystem/immunization-reasons'), expr: 'Immunization.reasonCode[0].coding[0].system' },
  { id: 'immunization-reason-codes', base: F.immunization, fail: (r) => (r.reasonCode[0].coding[0].code = 'IM-Lain'), expr: 'Immunization.reasonCode[0].coding[0].code' },
  { id: 'immunization-report-origin-required', base: F.immunizationRecall, fail: (r) => delete r.reportOrigin, expr: 'Immunization.reportOrigin' },
  { id: 'immunization-report-origin-system', base: F.immunizationRecall, fail: (r) => (r.reportOrigin.coding[0].code = 'kader'), expr: 'Immunization.reportOrigin.coding[0].code' },
  { id: 'immunization-status-reason-system', base: F.notDoneImmunization, fail: (r) => (r.statusReason.coding[0].system = 'http://terminology.kemkes.go.id/CodeSystem/immunization-status-reason'), expr: 'Immunization.statusReason.coding[0].system' },
  { id: 'immunization-status-reason-codes', base: F.notDoneImmunization, fail: (r) => (r.statusReason.coding[0].code = 'IS000009'), expr: 'Immunization.statusReason.coding[0].code' },
  { id: 'immunization-status-reason-required', base: F.notDoneImmunization, fail: (r) => delete r.statusReason, expr: 'Immunization.statusReason' },
  { id: 'immunization-patient', base: F.immunization, fail: (r) => delete r.patient, expr: 'Immunization.patient' },
  { id: 'immunization-patient-target', base: F.immunization, fail: (r) => (r.patient.reference = 'not a reference'), expr: 'Immunization.patient.reference' },
  { id: 'immunization-occurrence', base: F.immunization, fail: (r) => delete r.occurrenceDateTime, expr: 'Immunization.occurrence' },
  { id: 'immunization-primary-source', base: F.immunization, fail: (r) => delete r.primarySource, expr: 'Immunization.primarySource' },
  { id: 'immunization-encounter', base: F.immunization, fail: (r) => delete r.encounter, expr: 'Immunization.encounter' },
  { id: 'immunization-encounter-target', base: F.immunization, fail: (r) => (r.encounter.reference = 'Patient/1'), expr: 'Immunization.encounter.reference' },
  { id: 'immunization-performer-actor', base: F.immunization, fail: (r) => delete r.performer[0].actor, expr: 'Immunization.performer[0].actor' },
  { id: 'immunization-performer-actor-target', base: F.immunization, fail: (r) => (r.performer[0].actor.reference = 'Patient/1'), expr: 'Immunization.performer[0].actor.reference', pass: (r) => (r.performer[0].actor.reference = `Organization/${F.ORG}`) },
  { id: 'immunization-location', base: F.immunization, fail: (r) => delete r.location, expr: 'Immunization.location', pass: (r) => { r.status = 'not-done'; r.statusReason = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'MEDPREC' }] }; delete r.location; } },
  { id: 'immunization-location-target', base: F.immunization, fail: (r) => (r.location.reference = 'Organization/1'), expr: 'Immunization.location.reference' },
  { id: 'immunization-lot-number', base: F.immunization, fail: (r) => delete r.lotNumber, expr: 'Immunization.lotNumber', pass: (r) => { r.primarySource = false; r.reportOrigin = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/immunization-origin', code: 'record' }] }; delete r.lotNumber; } },
  { id: 'immunization-expiration-date', base: F.immunization, fail: (r) => delete r.expirationDate, expr: 'Immunization.expirationDate' },
  { id: 'immunization-expiration-after-occurrence', base: F.immunization, fail: (r) => (r.expirationDate = '2025-02-28'), expr: 'Immunization.expirationDate', pass: (r) => (r.expirationDate = '2025-03-02') },
  { id: 'immunization-funding-source', base: F.immunization, fail: (r) => (r.fundingSource.coding[0].code = 'IF000003'), expr: 'Immunization.fundingSource.coding[0].code' },
  { id: 'immunization-recorded', base: F.immunization, fail: (r) => delete r.recorded, expr: 'Immunization.recorded' },
  { id: 'immunization-dose-number', base: F.immunization, fail: (r) => delete r.protocolApplied, expr: 'Immunization.protocolApplied.doseNumberPositiveInt', pass: (r) => { Object.assign(r, F.notDoneImmunization()); } },
  { id: 'immunization-dose-number-positive', base: F.immunization, fail: (r) => (r.protocolApplied[0].doseNumberPositiveInt = 0), expr: 'Immunization.protocolApplied[0].doseNumberPositiveInt' },
  { id: 'immunization-datetime-format', base: F.immunization, fail: (r) => (r.occurrenceDateTime = '2025-03-01'), expr: 'Immunization.occurrenceDateTime' },
  { id: 'immunization-datetime-range', base: F.immunization, fail: (r) => (r.recorded = FUTURE), expr: 'Immunization.recorded' },
  { id: 'immunization-datetime-utc', base: F.immunization, fail: (r) => (r.recorded = '2025-03-01T10:35:00+09:00'), expr: 'Immunization.recorded' },
  // Location
  { id: 'location-identifier-org', base: F.location, fail: (r) => (r.managingOrganization.reference = 'Organization/1000001'), expr: 'Location.identifier[0].system' },
  // Patient
  { id: 'patient-identifier', base: F.patient, fail: (r) => delete r.identifier, expr: 'Patient.identifier' },
  { id: 'patient-identifier-system', base: F.patient, fail: (r) => (r.identifier[0].system = 'http://fhir.kemkes.go.id/id/nik'), expr: 'Patient.identifier', pass: (r) => (r.identifier[0].system = 'https://fhir.kemkes.go.id/id/nik-ibu') },
  { id: 'patient-nik-format', base: F.patient, fail: (r) => (r.identifier[0].value = '92710603120000'), expr: 'Patient.identifier[0].value' },
  { id: 'patient-multiple-birth', base: F.patient, fail: (r) => delete r.multipleBirthInteger, expr: 'Patient.multipleBirth' },
  { id: 'patient-name-text', base: F.patient, fail: (r) => (r.name[0].text = ''), expr: 'Patient.name[0].text' },
  { id: 'patient-address', base: F.patient, fail: (r) => delete r.address, expr: 'Patient.address' },
  { id: 'patient-birth-date', base: F.patient, fail: (r) => delete r.birthDate, expr: 'Patient.birthDate' },
  { id: 'patient-gender', base: F.patient, fail: (r) => delete r.gender, expr: 'Patient.gender' },
  // Encounter diagnosis (10457 from the recorded staging answer; 10317 Kamus)
  { id: 'encounter-finished-diagnosis', base: F.encounter, fail: (r) => delete r.diagnosis, expr: 'Encounter.diagnosis', pass: (r) => { r.status = 'in-progress'; delete r.diagnosis; } },
  { id: 'encounter-diagnosis-condition', base: F.encounter, fail: (r) => (r.diagnosis[0].condition.reference = 'Observation/1'), expr: 'Encounter.diagnosis[0].condition.reference', pass: (r) => (r.diagnosis[0].condition.reference = 'Procedure/1') },
  { id: 'encounter-diagnosis-use', base: F.encounter, fail: (r) => (r.diagnosis[0].use.coding[0].system = 'http://snomed.info/sct'), expr: 'Encounter.diagnosis[0].use.coding[0].system' },
  { id: 'encounter-diagnosis-rank', base: F.encounter, fail: (r) => (r.diagnosis[0].rank = 0), expr: 'Encounter.diagnosis[0].rank' },
  // Condition
  { id: 'condition-subject', base: F.condition, fail: (r) => delete r.subject, expr: 'Condition.subject' },
  { id: 'condition-subject-patient', base: F.condition, fail: (r) => (r.subject.reference = 'Group/1'), expr: 'Condition.subject.reference' },
  { id: 'condition-encounter', base: F.condition, fail: (r) => delete r.encounter, expr: 'Condition.encounter' },
  { id: 'condition-encounter-target', base: F.condition, fail: (r) => (r.encounter.reference = 'EpisodeOfCare/1'), expr: 'Condition.encounter.reference' },
  { id: 'condition-code-system', base: F.condition, fail: (r) => (r.code.coding[0].system = 'http://hl7.org/fhir/sid/icd-9-cm'), expr: 'Condition.code.coding', pass: (r) => r.code.coding.unshift({ system: 'http://snomed.info/sct', code: '243788004' }) },
  { id: 'condition-icd10-format', base: F.condition, fail: (r) => (r.code.coding[0].code = 'z00.1'), expr: 'Condition.code.coding[0].code', pass: (r) => (r.code.coding[0].code = 'I10') },
  { id: 'condition-evidence-code-system', base: F.condition, fail: (r) => (r.evidence = [{ code: [{ coding: [{ system: 'http://loinc.org', code: '8302-2' }] }] }]), expr: 'Condition.evidence[0].code[0].coding[0].system', pass: (r) => (r.evidence = [{ code: [{ coding: [{ system: 'http://hl7.org/fhir/sid/icd-10', code: 'R50.9' }] }] }]) },
  { id: 'condition-clinical-status', base: F.condition, fail: (r) => (r.clinicalStatus.coding[0].code = 'confirmed'), expr: 'Condition.clinicalStatus.coding[0].code' },
  { id: 'condition-verification-status', base: F.condition, fail: (r) => (r.verificationStatus.coding[0].system = 'http://terminology.hl7.org/CodeSystem/condition-clinical'), expr: 'Condition.verificationStatus.coding[0].system', pass: (r) => { r.verificationStatus.coding[0].code = 'entered-in-error'; delete r.clinicalStatus; } },
  { id: 'condition-category', base: F.condition, fail: (r) => (r.category[0].coding[0].system = 'http://hl7.org/fhir/condition-category'), expr: 'Condition.category[0].coding' },
  { id: 'condition-identifier-system', base: F.condition, fail: (r) => (r.identifier[0].system = `http://sys-ids.kemkes.go.id/observation/${F.ORG}`), expr: 'Condition.identifier[0].system' },
  { id: 'condition-recorder-practitioner', base: F.condition, fail: (r) => (r.recorder.reference = 'Patient/P02478375538'), expr: 'Condition.recorder.reference' },
  { id: 'condition-onset-format', base: F.condition, fail: (r) => (r.onsetDateTime = '2025-03-01'), expr: 'Condition.onsetDateTime' },
  { id: 'condition-recorded-date-format', base: F.condition, fail: (r) => (r.recordedDate = '2025-03-01T02:00+00:00'), expr: 'Condition.recordedDate' },
  { id: 'condition-recorded-date-range', base: F.condition, fail: (r) => (r.recordedDate = FUTURE), expr: 'Condition.recordedDate' },
  { id: 'condition-datetime-utc', base: F.condition, fail: (r) => (r.onsetDateTime = '2025-03-01T08:00:00+07:00'), expr: 'Condition.onsetDateTime' },
];

describe('valid base resources', () => {
  test.each([
    ['Encounter', F.encounter],
    ['Observation', F.observation],
    ['Immunization (nakes)', F.immunization],
    ['Immunization (recall)', F.immunizationRecall],
    ['Immunization (not-done)', F.notDoneImmunization],
    ['Patient', F.patient],
    ['Location', F.location],
    ['Condition', F.condition],
    ['transaction Bundle', F.bundle],
  ])('%s has no issues at all', (_name, make) => {
    expect(run(make(), { organizationId: F.ORG })).toEqual([]);
  });
});

describe('profile rules (one failing, one passing case each)', () => {
  test('every rule in profiles/satusehat-rules.json has a case here', () => {
    const covered = new Set(cases.map((c) => c.id));
    expect(v.rules.map((r) => r.id).filter((id) => !covered.has(id))).toEqual([]);
  });

  test.each(cases.map((c) => [c.id, c] as const))('%s', (id, c) => {
    const rule = ruleOf(id);
    const bad = F.clone(c.base());
    c.fail(bad);
    const hits = run(bad, c.opts).filter((i) => i.ruleId === id);
    expect(hits.length).toBeGreaterThan(0);
    for (const h of hits) {
      expect(h.severity).toBe(rule.severity);
      expect(h.rule).toBe(rule.rule);
      if (rule.rule) expect(h.diagnostics).toMatch(new RegExp(`\\(RuleNumber: ${rule.rule}\\)$`));
      else expect(h.diagnostics).not.toMatch(/RuleNumber/);
    }
    expect(hits.map((h) => h.expression?.[0])).toContain(c.expr);
    // each finding once
    expect(new Set(hits.map((h) => h.expression?.[0])).size).toBe(hits.length);

    const good = F.clone(c.base());
    c.pass?.(good);
    expect(run(good, c.opts).filter((i) => i.ruleId === id)).toEqual([]);
  });

  test('rules the docs mark unconfirmed (UNV) are warnings, never errors', () => {
    const unv = v.rules.filter((r) => r.confidence === 'UNV');
    expect(unv.length).toBeGreaterThan(5);
    for (const r of unv) expect(r.severity).toBe('warning');
    // and in practice: a payload breaking only UNV rules has no error
    const o = F.observation();
    delete o.category;
    delete o.issued;
    o.effectiveDateTime = '2025-03-01T08:20:00+07:00';
    const issues = run(o);
    expect(issues.length).toBe(3);
    expect(issues.every((i) => i.severity === 'warning')).toBe(true);
  });
});

describe('organization id consistency', () => {
  test('10117: the caller organization must own the Encounter identifier system', () => {
    const hits = run(F.encounter(), { organizationId: '10000005' }).filter((i) => i.rule === '10117');
    expect(hits).toHaveLength(1);
    expect(hits[0].expression).toEqual(['Encounter.identifier[0].system']);
    expect(hits[0].diagnostics).toContain('10000005');
  });
  test('10441: the caller organization must own the Observation identifier system', () => {
    expect(run(F.observation(), { organizationId: '999' }).map((i) => i.rule)).toEqual(['10441']);
  });
  test('an extra sys-ids identifier (e.g. MPDN) next to the encounter one is accepted', () => {
    const e = F.encounter();
    e.identifier.push({ system: `http://sys-ids.kemkes.go.id/mpdn/${F.ORG}`, value: 'MPDN-1' });
    expect(run(e)).toEqual([]);
  });
  test('http vs https is reported on the exact element, for fhir.kemkes.go.id identifiers too', () => {
    const p = F.patient();
    p.identifier[0].system = 'http://fhir.kemkes.go.id/id/nik';
    const hit = run(p).find((i) => i.ruleId === 'system-uri-scheme');
    expect(hit?.expression).toEqual(['Patient.identifier[0].system']);
    expect(hit?.diagnostics).toContain('https://fhir.kemkes.go.id/');
  });
});

describe('datetime checks use opts.now, never the clock', () => {
  test('the same payload is in the future for one `now` and fine for a later one', () => {
    const o = F.observation();
    o.effectiveDateTime = '2030-01-01T00:00:00+00:00';
    o.issued = '2030-01-01T00:00:00+00:00';
    expect(run(o).some((i) => i.rule === '10295' && i.severity === 'error')).toBe(true);
    expect(v.validate(o, { now: new Date('2030-06-01T00:00:00Z') })).toEqual([]);
  });
});

describe('review findings (issue 3)', () => {
  test('10012: a common non-UCUM unit code (mmHg, bpm) is an error that names the UCUM code', () => {
    const o = F.observation();
    o.valueQuantity = { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mmHg' };
    const hits = run(o).filter((i) => i.rule === '10012');
    expect(hits).toHaveLength(1);
    expect(hits[0].severity).toBe('error');
    expect(hits[0].expression).toEqual(['Observation.valueQuantity.code']);
    expect(hits[0].diagnostics).toContain('mm[Hg]');
    o.valueQuantity = { value: 80, unit: 'bpm', system: 'http://unitsofmeasure.org', code: 'bpm' };
    expect(run(o).filter((i) => i.rule === '10012')[0]?.diagnostics).toContain("'/min'");
    o.valueQuantity = { value: 120, unit: 'mmHg', system: 'http://unitsofmeasure.org', code: 'mm[Hg]' };
    expect(run(o)).toEqual([]);
  });

  test('rule data: an unconfirmed (UNV) rule can never be an error', async () => {
    const { compileRules } = await import('../../src/validation/rule-engine.js');
    const rule = { id: 'x', resourceType: 'Patient', path: 'gender', check: { kind: 'required' as const }, severity: 'error' as const, confidence: 'UNV' as const, message: 'x' };
    expect(() => compileRules({ version: '1', rules: [rule] })).toThrow(/UNV/);
    expect(() => compileRules({ version: '1', rules: [{ ...rule, severity: 'warning' }] })).not.toThrow();
    expect(v.rules.filter((r) => r.confidence === 'UNV').every((r) => r.severity !== 'error')).toBe(true);
  });
});

describe('review findings, second round (issue 3)', () => {
  test('10010: an Observation.code with text only (no coding) is an error, located at code.coding', () => {
    const o = F.observation();
    o.code = { text: 'Berat badan' };
    const hits = run(o).filter((i) => i.rule === '10010');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ severity: 'error', code: 'required', expression: ['Observation.code.coding'], ruleId: 'observation-code-system' });
    expect(hits[0]?.diagnostics).toMatch(/allowed code system.*\(RuleNumber: 10010\)$/);
    // an empty coding list is no better than none
    o.code = { text: 'Berat badan', coding: [] };
    expect(run(o).filter((i) => i.rule === '10010')).toHaveLength(1);
    // the text may stay as long as one coding is from an allowed system
    o.code = { text: 'Berat badan', coding: [{ system: 'http://loinc.org', code: '29463-7' }] };
    expect(run(o)).toEqual([]);
  });

  test('10010 does not apply in base-only mode (text-only code is valid base FHIR R4)', () => {
    const o = F.observation();
    o.code = { text: 'Berat badan' };
    expect(run(o, { baseOnly: true })).toEqual([]);
  });

  test('10307: an expirationDate on the day of vaccination is an error (Kamus: expirationDate after the occurrence)', () => {
    const im = F.immunization(); // occurrenceDateTime 2025-03-01T01:30:00+00:00
    im.expirationDate = '2025-03-01';
    const hits = run(im).filter((i) => i.ruleId === 'immunization-expiration-after-occurrence');
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({ severity: 'error', rule: '10307', expression: ['Immunization.expirationDate'] });
    im.expirationDate = '2025-03-02';
    expect(run(im)).toEqual([]);
  });

  test('10307 compares calendar dates as written: a later time on the next day is fine, the day before is not', () => {
    const im = F.immunization();
    im.occurrenceDateTime = '2025-03-01T23:59:59+00:00';
    im.expirationDate = '2025-03-02';
    expect(run(im)).toEqual([]);
    im.expirationDate = '2025-02-28';
    expect(run(im).filter((i) => i.rule === '10307')).toHaveLength(1);
  });

  test('10307 strictness is kept visible as "to confirm in the SATUSEHAT sandbox" in the rule data', () => {
    const rule = ruleOf('immunization-expiration-after-occurrence');
    expect(rule.check).toEqual({ kind: 'dateAfter', other: 'occurrenceDateTime' });
    expect(rule.toConfirm).toMatch(/sandbox/i);
    expect(rule.severity).toBe('error'); // Kamus wording is official (OFF-copy); only its enforcement on the expiry day is unconfirmed
  });

  test('dateAfter with allowSameDay accepts the same calendar day, not the day before', async () => {
    const { compileRules } = await import('../../src/validation/rule-engine.js');
    const rules = compileRules({
      version: '1',
      rules: [{ id: 'x', resourceType: 'Immunization', path: 'expirationDate', check: { kind: 'dateAfter', other: 'occurrenceDateTime', allowSameDay: true }, severity: 'error', confidence: 'OFF', message: 'x' }],
    });
    const check = (exp: string) => {
      const out: Issue[] = [];
      rules.run({ resourceType: 'Immunization', expirationDate: exp, occurrenceDateTime: '2025-03-01T01:30:00+00:00' }, 'Immunization', { nowMs: 0 }, out, 'profile');
      return out.length;
    };
    expect(check('2025-03-01')).toBe(0);
    expect(check('2025-02-28')).toBe(1);
    expect(check('not a date')).toBe(0); // the format is another rule's business
  });
});

describe('Observation shapes of the whole visit (coded findings, counts, dates, z-scores)', () => {
  const errorsOf = (issues: Issue[]) => issues.filter((i) => i.severity === 'error');
  test('a coded finding with a LOINC answer and a clinical-term interpretation: accepted, each unlisted system warned once', () => {
    const r = F.observation();
    coded(LOINC, 'LA6576-8')(r);
    r.interpretation = [cc(CLINICAL_TERM, 'OI000018')];
    const issues = run(r);
    expect(errorsOf(issues)).toEqual([]);
    expect(issues.map((i) => i.ruleId).sort()).toEqual(['observation-interpretation-unlisted', 'observation-value-cc-unlisted']);
  });

  test('valueInteger, valueDateTime (10429 format) and valueBoolean findings pass', () => {
    for (const value of [{ valueInteger: 2 }, { valueDateTime: '2025-01-10T00:00:00+00:00' }, { valueBoolean: true }]) {
      const r = F.observation();
      delete r.valueQuantity;
      Object.assign(r, value);
      expect(run(r)).toEqual([]);
    }
  });

  test('a z-score Observation ({Zscore}, clinical-term OI000008, derivedFrom the weight) has warnings only', () => {
    const r = F.observation();
    r.code = cc(LOINC, '77606-2');
    r.valueQuantity = { value: -2.4, unit: '{Zscore}', system: 'http://unitsofmeasure.org', code: '{Zscore}' };
    r.interpretation = [cc(CLINICAL_TERM, 'OI000008')];
    r.derivedFrom = [{ reference: 'Observation/2f5bd2b4-2d0c-4d46-9a0c-2d1f7a6c1b11' }];
    const issues = run(r);
    expect(errorsOf(issues)).toEqual([]);
    expect(issues.map((i) => [i.ruleId, i.expression?.[0]])).toEqual([['observation-interpretation-unlisted', 'Observation.interpretation[0].coding[0].system']]);
  });

  test('a component code given as text only fails 10434 (a coding is required)', () => {
    const r = bloodPressure();
    r.component[0].code = { text: 'Sistolik' };
    expect(run(r).filter((i) => i.ruleId === 'observation-component-code-system').map((i) => [i.code, i.expression?.[0]])).toEqual([['required', 'Observation.component[0].code.coding']]);
  });

  test('each unlisted-system warning rule sits next to an error rule accepting exactly its listed + unlisted systems', () => {
    const warns = v.rules.filter((r) => r.check.kind === 'codeableSystems' && r.check.unlisted);
    expect(warns.length).toBe(5);
    for (const w of warns) {
      const c = w.check as { systems: string[]; unlisted: string[] };
      const partner = v.rules.find((r) => r !== w && r.resourceType === w.resourceType && r.rule === w.rule && r.severity === 'error'
        && (r.path === w.path || r.path === `${w.path}.coding`));
      expect(partner).toBeDefined();
      const pc = partner!.check as { systems: string[] | Record<string, unknown> };
      const accepted = Array.isArray(pc.systems) ? pc.systems : Object.keys(pc.systems);
      expect([...accepted].sort()).toEqual([...c.systems, ...c.unlisted].sort());
      expect(w.confidence).toBe('UNV');
      expect(w.message).toContain('to confirm in the SATUSEHAT sandbox');
    }
  });
});
