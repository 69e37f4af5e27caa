// ILP visit record → one SATUSEHAT transaction Bundle: [Patient (only when its IHS number is unknown)], Encounter, one Observation per
// measurement, one Immunization per vaccine entry, one Condition per diagnosis (sent or derived; the platform refuses a finished
// Encounter without diagnosis, rule 10457). Pure: time comes from opts, codes from the tables, fullUrls are deterministic.
import type {
  Bundle, BundleEntry, Coding, Condition, Encounter, Immunization, ImmunizationPerformer, Observation, Patient, Reference, Resource,
} from 'fhir/r4.js';
import type { Issue } from '../validation/outcome.js';
import { messageIssue } from '../i18n/issues.js';
import { analyseVisit, type DiagnosisPlan, type ImmunizationPlan, type MeasurementPlan, type VisitPlan } from './check.js';
import { growthObservations } from './growth-observations.js';
import { derivedInterpretations } from './adult-interpretations.js';
import { visitFullUrls } from './uuid.js';
import { buildFindingObservation, interpretationElement, observationShell, type ObservationContext } from './finding-observations.js';
import { ownEntry } from '../util/own.js';
import type { MapOptions, MapResult, MappedEntry, MappingTables, ResolvedIds, SystemsTable, VisitRecord } from './types.js';

/** The code system URLs of the systems table last used, by key: one property read per coding instead of two (the second on
 *  entries of many shapes). The tables are not changed after loading; another tables object gets its own. */
let urlsOf: SystemsTable | undefined;
let codeSystemUrls: Record<string, string> = {};
function sysUrl(t: SystemsTable, k: keyof SystemsTable['codeSystems']): string {
  if (t !== urlsOf) {
    codeSystemUrls = Object.fromEntries(Object.entries(t.codeSystems).map(([key, v]) => [key, v.url]));
    urlsOf = t;
  }
  // A key the table lacks fails as it did (reading .url of undefined).
  return codeSystemUrls[k] ?? t.codeSystems[k].url;
}
const orgUrl = (template: string, organizationId: string) => template.replace('{organizationId}', organizationId);

function coding(system: string, code: string, display?: string): Coding {
  return display === undefined ? { system, code } : { system, code, display };
}

/** The pending-reference warnings have fixed parameters: each text is rendered once, then copied (rendering was a few % of mapping). */
const pendingTexts = new Map<string, Issue>();
function pendingWarning(key: string, params: Record<string, string>, expression: string): Issue {
  let rendered = pendingTexts.get(key);
  if (!rendered) pendingTexts.set(key, (rendered = messageIssue('warning', 'incomplete', key, params)));
  // Built field by field, in messageIssue's order, so the issue is the same object it would make.
  return { severity: rendered.severity, code: rendered.code, diagnostics: rendered.diagnostics, expression: [expression], message: { key, params: { ...params } } };
}

interface Refs {
  patient: string;
  practitioner: string;
  location: string;
  /** Whether the Bundle must carry the Patient (IHS number unknown). */
  createPatient: boolean;
}

/** Platform references, or visible placeholders (the Patient entry's urn:uuid, conditional references) with a warning each. */
function resolveRefs(r: VisitRecord, sys: SystemsTable, resolved: ResolvedIds | undefined, patientFullUrl: string, warnings: Issue[]): Refs {
  const ihsPatient = resolved?.patient ?? r.patient.ihsNumber;
  let patient: string;
  if (ihsPatient) patient = `Patient/${ihsPatient}`;
  else {
    patient = patientFullUrl;
    warnings.push(pendingWarning('source.ref.patient-pending', { ihs: '{IHS number}' }, r.patient.nik !== undefined ? 'patient.nik' : 'patient.motherNik'));
  }
  const ihsPract = resolved?.practitioner ?? r.practitioner.ihsNumber;
  let practitioner: string;
  if (ihsPract) practitioner = `Practitioner/${ihsPract}`;
  else {
    practitioner = `Practitioner?identifier=${sys.identifiers.practitionerNik.url}|${r.practitioner.nik}`;
    warnings.push(pendingWarning('source.ref.practitioner-pending', { ihs: '{IHS number}' }, 'practitioner.nik'));
  }
  let location: string;
  if (resolved?.location) location = `Location/${resolved.location}`;
  else {
    location = `Location?identifier=${orgUrl(sys.identifiers.location.url, r.organizationId)}|${r.locationCode}`;
    warnings.push(pendingWarning('source.ref.location-pending', { id: '{id}' }, 'locationCode'));
  }
  return { patient, practitioner, location, createPatient: !ihsPatient };
}

function buildPatient(r: VisitRecord, sys: SystemsTable): Patient {
  const p = r.patient;
  const a = p.address;
  const identifier = p.nik !== undefined
    ? { use: 'official' as const, system: sys.identifiers.patientNik.url, value: p.nik }
    : { use: 'official' as const, system: sys.identifiers.patientNikIbu.url, value: p.motherNik! };
  const patient: Patient = {
    resourceType: 'Patient',
    meta: { profile: [sys.profiles.Patient.url] },
    identifier: [identifier],
    name: [{ use: 'official', text: p.name }],
  };
  if (p.phone !== undefined) patient.telecom = [{ system: 'phone', value: p.phone, use: 'mobile' }];
  patient.gender = p.gender;
  patient.birthDate = p.birthDate;
  patient.address = [{
    use: 'home',
    line: [a.line],
    country: 'ID',
    extension: [{
      url: sys.extensions.administrativeCode.url,
      extension: [
        { url: 'province', valueCode: a.provinceCode },
        { url: 'city', valueCode: a.cityCode },
        { url: 'district', valueCode: a.districtCode },
        { url: 'village', valueCode: a.villageCode },
        { url: 'rt', valueCode: a.rt },
        { url: 'rw', valueCode: a.rw },
      ],
    }],
  }];
  patient.multipleBirthInteger = p.birthOrder ?? 0;
  patient.extension = [{ url: sys.extensions.citizenshipStatus.url, valueCode: p.citizenship }];
  return patient;
}

function buildEncounter(plan: VisitPlan, sys: SystemsTable, refs: Refs, diagnosis: Encounter['diagnosis']): Encounter {
  const r = plan.record;
  const s = plan.start.utc;
  const e = plan.end.utc;
  const cls = plan.setting.encounterClass;
  const pt = sys.codes.participantType;
  const individual: Reference = { reference: refs.practitioner };
  if (r.practitioner.name !== undefined) individual.display = r.practitioner.name;
  return {
    resourceType: 'Encounter',
    // An ANC visit carries its K number as the second identifier, as the official ANC Encounter examples do.
    identifier: [{ system: orgUrl(sys.identifiers.encounter.url, r.organizationId), value: r.visitId }, ...(plan.ancVisit ? [plan.ancVisit] : [])],
    status: 'finished',
    class: coding(sysUrl(sys, 'actCode'), cls.code, cls.display),
    subject: { reference: refs.patient },
    participant: [{ type: [{ coding: [coding(sysUrl(sys, 'participationType'), pt.code, pt.display)] }], individual }],
    period: { start: s, end: e },
    location: [{ location: { reference: refs.location } }],
    // The record has only start and end, so the history is split at them: arrived and finished are instants, in-progress spans the visit.
    statusHistory: [
      { status: 'arrived', period: { start: s, end: s } },
      { status: 'in-progress', period: { start: s, end: e } },
      { status: 'finished', period: { start: e, end: e } },
    ],
    diagnosis,
    serviceProvider: { reference: `Organization/${r.organizationId}` },
  };
}

function observationContext(plan: VisitPlan, sys: SystemsTable, refs: Refs, encounterUrl: string): ObservationContext {
  const r = plan.record;
  return {
    identifierSystem: orgUrl(sys.identifiers.observation.url, r.organizationId), visitId: r.visitId,
    subject: refs.patient, performer: refs.practitioner, encounter: encounterUrl, issued: plan.end.utc,
  };
}

function buildObservation(m: MeasurementPlan, ctx: ObservationContext, sys: SystemsTable, derived: Observation['interpretation']): Observation {
  const e = m.ix.entry;
  const category = [{ coding: [coding(sysUrl(sys, 'observationCategory'), e.category, ownEntry(sys.codes.observationCategories, e.category)?.display)] }];
  const obs = observationShell(ctx, m.m.code, m.n, category, [coding(sysUrl(sys, 'loinc'), e.loinc.code, e.loinc.display)], m.effective);
  obs.valueQuantity = { value: m.value, unit: e.ucum.unit, system: sysUrl(sys, 'ucum'), code: e.ucum.code };
  if (m.interpretation) obs.interpretation = interpretationElement(m.interpretation);
  else if (derived) obs.interpretation = derived;
  return obs;
}

/** Encounter.diagnosis item: the Condition by its urn:uuid, use DD and rank, as the official finished ANC Encounter. */
function encounterDiagnosis(d: DiagnosisPlan, conditionUrl: string, tables: MappingTables): NonNullable<Encounter['diagnosis']>[number] {
  const use = tables.diagnoses.defaults.use;
  const condition: Reference = { reference: conditionUrl };
  if (d.display !== undefined) condition.display = d.display;
  return { condition, use: { coding: [coding(sysUrl(tables.systems, 'diagnosisRole'), use.code, use.display)] }, rank: d.rank };
}

function buildCondition(d: DiagnosisPlan, plan: VisitPlan, tables: MappingTables, refs: Refs, encounterUrl: string): Condition {
  const sys = tables.systems;
  const r = plan.record;
  const dflt = tables.diagnoses.defaults;
  const res: Condition = {
    resourceType: 'Condition',
    identifier: [{ system: orgUrl(sys.identifiers.condition.url, r.organizationId), value: `${r.visitId}.dx.${d.code}` }],
    clinicalStatus: { coding: [coding(sysUrl(sys, 'conditionClinical'), d.clinicalStatus)] },
    verificationStatus: { coding: [coding(sysUrl(sys, 'conditionVerStatus'), dflt.verificationStatus.code, dflt.verificationStatus.display)] },
    category: [{ coding: [coding(sysUrl(sys, 'conditionCategory'), dflt.category.code, dflt.category.display)] }],
    code: { coding: [coding(sysUrl(sys, 'icd10'), d.code, d.display)] },
    subject: { reference: refs.patient },
    encounter: { reference: encounterUrl },
  };
  if (d.onset !== undefined) res.onsetDateTime = d.onset;
  res.recordedDate = plan.end.utc;
  res.recorder = { reference: refs.practitioner };
  return res;
}

function vaccineCodings(p: ImmunizationPlan, sys: SystemsTable): Coding[] {
  const kfa = sysUrl(sys, 'kfa');
  const v = p.ix.entry;
  const im = p.im;
  const groups = v.groups.map((g) => coding(kfa, g.code, g.display));
  // A product is named only when known: given in the record, or the default for a dose given here. Recalled/recorded doses,
  // not-done entries and vaccines without a confirmed programme product carry the vaccine groups (as the official Tunda
  // example), unless the table knows no group.
  const useDefault = v.defaultProduct !== undefined && ((im.status === 'completed' && im.source === 'administered') || !groups.length);
  const product = p.product ?? (useDefault ? p.ix.products.get(v.defaultProduct!) : undefined);
  const out: Coding[] = [];
  if (product) out.push(coding(kfa, product.code, product.display));
  for (const g of groups) out.push(g);
  const cvx = product?.cvx ?? v.cvx;
  if (cvx) out.push(coding(sysUrl(sys, 'cvx'), cvx.code, cvx.display));
  return out;
}

function buildImmunization(p: ImmunizationPlan, plan: VisitPlan, sys: SystemsTable, refs: Refs, encounterUrl: string): Immunization {
  const r = plan.record;
  const im = p.im;
  const given = im.status === 'completed';
  const administered = im.source === 'administered';
  let statusReason: Immunization['statusReason'];
  if (!given) {
    const why = sys.codes.notDoneReasons[im.notDoneReason!];
    statusReason = { coding: [coding(sys.codeSystems[why.system as keyof SystemsTable['codeSystems']].url, why.code, why.display)] };
    if (im.notDoneNote !== undefined) statusReason.text = im.notDoneNote;
  }
  const vaccineCode = { coding: vaccineCodings(p, sys) };
  const patient = { reference: refs.patient };
  // Two literals rather than a spread (a slow generic copy); the same keys in the same order.
  const res: Immunization = statusReason
    ? { resourceType: 'Immunization', status: 'not-done', statusReason, vaccineCode, patient }
    : { resourceType: 'Immunization', status: given ? 'completed' : 'not-done', vaccineCode, patient };
  res.encounter = { reference: encounterUrl };
  res.occurrenceDateTime = p.occurrence;
  res.recorded = plan.end.utc;
  res.primarySource = administered;
  if (!administered) {
    const o = sys.codes.reportOrigins[im.source as 'recall' | 'record'];
    res.reportOrigin = { coding: [coding(sysUrl(sys, 'immunizationOrigin'), o.code, o.display)] };
  }
  // Kamus rule 10305 wants a location on every completed Immunization. For a recalled/recorded dose the only place the record
  // knows is where it was reported (this visit's location); whether the platform accepts that is to confirm in the sandbox.
  if (given) res.location = { reference: refs.location };
  if (given && im.lotNumber !== undefined) res.lotNumber = im.lotNumber;
  if (given && im.expirationDate !== undefined) res.expirationDate = im.expirationDate;
  res.performer = [performer(im.status, im.source, r, sys, refs)];
  const reasonCodings = [coding(sysUrl(sys, 'immunizationReason'), p.reason, ownEntry(sys.codes.immunizationReasons, p.reason)?.display)];
  if (im.timing !== undefined) reasonCodings.push(coding(sysUrl(sys, 'immunizationTiming'), im.timing, ownEntry(sys.codes.immunizationTimings, im.timing)?.display));
  res.reasonCode = [{ coding: reasonCodings }];
  if (im.funding !== undefined) {
    const f = ownEntry(sys.codes.fundingSources, im.funding);
    if (f) res.fundingSource = { coding: [coding(sysUrl(sys, 'immunizationFunding'), f.code, f.display)] };
  }
  res.protocolApplied = [{ doseNumberPositiveInt: im.dose }];
  return res;
}

/** AP: the nakes gave it here; OP: the nakes decided not to give it; EP: entered from a recall or record (by the kader when present). */
function performer(status: string, source: string, r: VisitRecord, sys: SystemsTable, refs: Refs): ImmunizationPerformer {
  const fs = sysUrl(sys, 'performerFunction');
  const f = sys.codes.performerFunctions;
  if (source === 'administered') {
    const fn = status === 'completed' ? f.administered : f.notDone;
    return { function: { coding: [coding(fs, fn.code, fn.display)] }, actor: { reference: refs.practitioner } };
  }
  if (r.kader) {
    // Kader are never Practitioners: the official kader example names them in function.text with the Organization as actor.
    return { function: { coding: [coding(fs, f.reported.code, f.reported.display)], text: r.kader.name }, actor: { reference: `Organization/${r.organizationId}` } };
  }
  return { function: { coding: [coding(fs, f.reported.code, f.reported.display)] }, actor: { reference: refs.practitioner } };
}

/** Checks and maps one visit record. With errors: no bundle, no entries. */
export function mapVisit(record: unknown, tables: MappingTables, opts: MapOptions): MapResult {
  const { issues, plan } = analyseVisit(record, tables, opts.now);
  if (!plan) return { issues, entries: [] };
  const r = plan.record;
  const sys = tables.systems;
  const url = visitFullUrls(r.organizationId, r.visitId);

  const warnings: Issue[] = [];
  const patientUrl = url('patient');
  const refs = resolveRefs(r, sys, opts.resolved, patientUrl, warnings);
  const patient = buildPatient(r, sys);
  const entries: MappedEntry[] = [];
  if (refs.createPatient) entries.push({ key: 'patient', fullUrl: patientUrl, resource: patient });
  const encounterUrl = url('encounter');
  // Keyed by code, not rank: a re-ranked diagnosis stays the same Condition (ledger, retraction).
  const conditions = plan.diagnoses.map((d) => {
    const key = `condition/${d.code}`;
    return { d, key, fullUrl: url(key) };
  });
  const diagnosis = conditions.map(({ d, fullUrl }) => encounterDiagnosis(d, fullUrl, tables));
  entries.push({ key: 'encounter', fullUrl: encounterUrl, resource: buildEncounter(plan, sys, refs, diagnosis) });
  const obsCtx = observationContext(plan, sys, refs, encounterUrl);
  const derived = derivedInterpretations(plan, tables);
  // The growth Observations' derivedFrom name these entries again: their fullUrls are kept, not hashed twice.
  const measurementUrls = new Map<MeasurementPlan, string>();
  for (const m of plan.measurements) {
    const key = `observation/${m.m.code}.${m.n}`;
    const fullUrl = url(key);
    measurementUrls.set(m, fullUrl);
    entries.push({ key, fullUrl, resource: buildObservation(m, obsCtx, sys, derived.get(m)) });
  }
  // Finding keys never equal measurement keys (checked at load), so the keys and identifiers stay unique.
  for (const f of plan.findings) {
    const key = `observation/${f.ix.key}.${f.n}`;
    entries.push({ key, fullUrl: url(key), resource: buildFindingObservation(f, obsCtx, sysUrl(sys, 'ucum')) });
  }
  const previous = opts.previousWeighing && { weighing: opts.previousWeighing, from: opts.previousWeighing.from };
  const growth = growthObservations(plan, tables, { patient: refs.patient, practitioner: refs.practitioner, encounter: encounterUrl }, url, previous, (m) => measurementUrls.get(m)!);
  entries.push(...growth.entries);
  warnings.push(...growth.issues);
  for (const p of plan.immunizations) {
    const key = `immunization/${p.im.vaccine}.${p.n}`;
    entries.push({ key, fullUrl: url(key), resource: buildImmunization(p, plan, sys, refs, encounterUrl) });
  }
  // Last, so adding them kept the order (and ids) of the entries before; the Encounter refers forward to them within the transaction.
  for (const { d, key, fullUrl } of conditions) entries.push({ key, fullUrl, resource: buildCondition(d, plan, tables, refs, encounterUrl) });
  const bundle: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries.map((e) => bundleEntry(e, r, sys)) };
  return { bundle, patient, entries, issues: [...issues, ...warnings] };
}

function bundleEntry(e: MappedEntry, r: VisitRecord, sys: SystemsTable): BundleEntry {
  const type = (e.resource as Resource).resourceType;
  const request: BundleEntry['request'] = { method: 'POST', url: type };
  if (type === 'Patient') {
    // Conditional create on the identifier. Not documented by SATUSEHAT (platform doc 1.8): sync searches first and drops this entry.
    const p = r.patient;
    request.ifNoneExist = p.nik !== undefined
      ? `identifier=${sys.identifiers.patientNik.url}|${p.nik}`
      // Twins share the mother's NIK: narrow by birth date and name so one twin never matches the other's record.
      : `identifier=${sys.identifiers.patientNikIbu.url}|${p.motherNik}&birthdate=${p.birthDate}&name=${encodeURIComponent(p.name)}`;
  }
  return { fullUrl: e.fullUrl, resource: e.resource, request };
}
