// Types of the source record (mappings/ilp-visit.schema.json), of the code tables in mappings/, and of the mapping result.
import type { Bundle, Patient, Resource } from 'fhir/r4.js';
import type { Issue, MessageRef } from '../validation/outcome.js';
import type { GrowthTables } from '../growth/tables.js';

// ---------- source record ----------

export type Setting = 'puskesmas' | 'pustu' | 'posyandu' | 'home-visit';

export interface VisitAddress {
  line: string;
  provinceCode: string;
  cityCode: string;
  districtCode: string;
  villageCode: string;
  rt: string;
  rw: string;
}

export interface VisitPatient {
  nik?: string;
  motherNik?: string;
  birthOrder?: number;
  ihsNumber?: string;
  name: string;
  birthDate: string;
  gender: 'male' | 'female';
  phone?: string;
  address: VisitAddress;
  citizenship: 'WNI' | 'WNA';
}

export interface VisitPractitioner {
  ihsNumber?: string;
  nik?: string;
  name?: string;
}

export interface VisitMeasurement {
  code: string;
  value: number;
  unit: string;
  at?: string;
  /** A key of findings.json `interpretations` (the facility's own reading, e.g. low, kek). */
  interpretation?: string;
  /** body-length / body-height only: how it was measured (WHO's 0.7 cm rule applies when it does not match the age). */
  position?: 'lying' | 'standing';
}

/** A finding of any value kind (mappings/findings.json): an answer key, true/false, a whole number, a date or a number with unit. */
export interface VisitFinding {
  code: string;
  value: string | number | boolean;
  unit?: string;
  at?: string;
  interpretation?: string;
}

/** ANC pregnancy context; each field but ancVisit becomes the finding Observation findings.json `pregnancy.fields` names. */
export interface VisitPregnancy {
  lmp?: string;
  gestationalAgeWeeks?: number;
  edd?: string;
  gravida?: number;
  para?: number;
  abortus?: number;
  /** kg */
  prePregnancyWeight?: number;
  /** beats per minute */
  fetalHeartRate?: number;
  fetalPresentation?: string;
  fetuses?: number;
  /** K1A, K1M, K2 … K6: the Encounter's second identifier. */
  ancVisit?: string;
}

export type NotDoneReason = 'postponed' | 'not-given' | 'medical-precaution';

export interface VisitImmunization {
  vaccine: string;
  dose: number;
  status: 'completed' | 'not-done';
  notDoneReason?: NotDoneReason;
  notDoneNote?: string;
  productCode?: string;
  lotNumber?: string;
  expirationDate?: string;
  givenAt?: string;
  source: 'administered' | 'recall' | 'record';
  reason?: string;
  timing?: 'IM-Ideal' | 'IM-Kejar';
  funding?: 'program' | 'private';
}

export type ClinicalStatus = 'active' | 'recurrence' | 'relapse' | 'inactive' | 'remission' | 'resolved';

/** A diagnosis the facility sends (SIMPUS/RME ICD-10). */
export interface VisitDiagnosis {
  code: string;
  display?: string;
  /** 1 = primary. */
  rank?: number;
  clinicalStatus?: ClinicalStatus;
  onset?: string;
}

/** One ILP visit record, as validated by mappings/ilp-visit.schema.json. */
export interface VisitRecord {
  organizationId: string;
  visitId: string;
  setting: Setting;
  locationCode: string;
  start: string;
  end: string;
  patient: VisitPatient;
  practitioner: VisitPractitioner;
  kader?: { name: string };
  measurements?: VisitMeasurement[];
  findings?: VisitFinding[];
  pregnancy?: VisitPregnancy;
  immunizations?: VisitImmunization[];
  diagnoses?: VisitDiagnosis[];
  growth?: VisitGrowth;
}

/** Growth monitoring data beside the measurements (the z-scores themselves are computed by the adapter). */
export interface VisitGrowth {
  previousWeighing?: { date: string; weightKg: number };
  /** What the facility's calculator (e-PPGBM …) reported: kept, and compared with the computed values. */
  reported?: Array<{ indicator: string; zScore?: number; category?: string }>;
}

// ---------- code tables ----------

/** OFF official, OFF-copy copy of official docs, OFF-draft draft IG, COM community code, UNV unverified. */
export type Confidence = 'OFF' | 'OFF-copy' | 'OFF-draft' | 'COM' | 'UNV';

export interface Sourced {
  confidence: Confidence;
  source: string;
}

export interface UnitConversion {
  factor?: number;
  offset?: number;
}

export interface ObservationEntry extends Sourced {
  display: string;
  loinc: { code: string; display: string };
  category: string;
  ucum: { code: string; unit: string };
  units: Record<string, UnitConversion>;
  decimals: number;
  range: { min: number; max: number };
}

export interface ObservationsTable {
  version: string;
  entries: Record<string, ObservationEntry>;
}

export interface ReasonRule {
  /** `products`: the record's productCode is one of these KFA codes (e.g. a private product → IM-Pilihan). */
  when: { minDose?: number; maxDose?: number; minAgeMonths?: number; maxAgeMonths?: number; gender?: 'male' | 'female'; products?: string[] };
  reason: string;
}

export interface VaccineProduct {
  code: string;
  display?: string;
  cvx?: { code: string; display?: string };
  /** The product's own last dose when its series is shorter than the vaccine's (a 2-dose private rotavirus vaccine). */
  maxDose?: number;
  confidence: Confidence;
  note?: string;
}

export interface VaccineEntry extends Sourced {
  display: string;
  products: VaccineProduct[];
  /** Absent when no programme product is confirmed: a dose given here then carries the vaccine groups only. */
  defaultProduct?: string;
  groups: Array<{ code: string; display?: string; confidence: Confidence }>;
  cvx?: { code: string; display?: string };
  maxDose: number;
  /** A completed dose at an older age (completed months at the occurrence) is warned about (rotavirus: the last dose by 6 mo 29 d). */
  latestDoseAgeMonths?: number;
  reason: { default: string; rules?: ReasonRule[] };
}

export type FindingKind = 'coded' | 'boolean' | 'integer' | 'date' | 'quantity';

/** A coding in findings.json: `system` is a key of its `systems`. */
export interface TableCoding {
  system: string;
  code: string;
  display?: string;
}

export interface FindingEntry extends Sourced {
  display: string;
  code: TableCoding[];
  category: string[];
  kind: FindingKind;
  /** kind coded: answer key → coding. */
  answers?: Record<string, TableCoding & Sourced>;
  /** kind coded: the answer keys a true / false is mapped onto. */
  boolean?: { true: string; false: string };
  /** kind integer, quantity. */
  range?: { min: number; max: number };
  /** kind date: days from the visit date (negative = before). */
  dateRange?: { minDays: number; maxDays: number };
  /** kind quantity. */
  ucum?: { code: string; unit: string };
  units?: Record<string, UnitConversion>;
  decimals?: number;
  femaleOnly?: boolean;
  repeatable?: boolean;
}

export interface SourcedValue extends Sourced {
  value: number;
}

export interface FindingsTable {
  version: string;
  systems: Record<string, UrlEntry>;
  entries: Record<string, FindingEntry>;
  interpretations: Record<string, TableCoding & Sourced>;
  pregnancy: {
    /** pregnancy field → finding key. */
    fields: Record<string, string>;
    ancVisit: Sourced & { system: string; values: Record<string, Sourced>; settings: Setting[] };
    patient: Sourced & { gender: 'male' | 'female'; minAgeYears: number; maxAgeYears: number };
    eddDaysAfterLmp: SourcedValue;
    eddToleranceDays: SourcedValue;
    gestationalAgeToleranceWeeks: SourcedValue;
  };
}

export interface VaccinesTable {
  version: string;
  entries: Record<string, VaccineEntry>;
}

export interface SettingEntry extends Sourced {
  display: string;
  encounterClass: { code: string; display: string };
  locationPhysicalType: { code: string; display: string };
}

export interface SettingsTable {
  version: string;
  entries: Record<string, SettingEntry>;
}

export interface DiagnosisWhen {
  settings?: Setting[];
  gender?: 'male' | 'female';
  minAgeMonths?: number;
  belowAgeMonths?: number;
  measurementsAny?: string[];
  measurementsNone?: string[];
  /** Keys of findings.json the visit carries (from findings[] or the pregnancy context): any of / none of. */
  findingsAny?: string[];
  findingsNone?: string[];
  /** true: the visit has no measurements; false: at least one. */
  noMeasurements?: boolean;
  /** No earlier slot chose a diagnosis. */
  nothingChosen?: boolean;
  immunizations?: {
    status?: 'completed' | 'not-done';
    sources?: Array<VisitImmunization['source']>;
    notDoneReasons?: NotDoneReason[];
    /** Every matching immunization is of one of these vaccine keys. */
    vaccinesOnly?: string[];
  };
}

export interface DiagnosisRule extends Sourced {
  id: string;
  slot: string;
  when: DiagnosisWhen;
  /** ICD-10 code. */
  code: string;
}

export interface DiagnosesTable {
  version: string;
  defaults: {
    clinicalStatus: CodeEntry;
    verificationStatus: CodeEntry;
    category: CodeEntry;
    use: CodeEntry;
  };
  /** Evaluation and rank order of the rule slots. */
  slots: string[];
  rules: DiagnosisRule[];
  /** Known ICD-10 displays. */
  codes: Record<string, DisplayEntry>;
}

export interface UrlEntry extends Sourced {
  url: string;
}
export interface CodeEntry extends Sourced {
  code: string;
  display?: string;
}
export interface DisplayEntry extends Sourced {
  display?: string;
}

export interface SystemsTable {
  version: string;
  earliestDateTime: Sourced & { value: string };
  identifiers: Record<'patientNik' | 'patientNikIbu' | 'patientIhs' | 'practitionerNik' | 'practitionerIhs' | 'encounter' | 'observation' | 'condition' | 'location', UrlEntry>;
  codeSystems: Record<
    | 'loinc' | 'ucum' | 'observationCategory' | 'actCode' | 'participationType' | 'performerFunction' | 'immunizationOrigin'
    | 'immunizationReason' | 'immunizationTiming' | 'immunizationStatusReason' | 'actReason' | 'immunizationFunding' | 'kfa' | 'cvx'
    | 'icd10' | 'conditionCategory' | 'conditionClinical' | 'conditionVerStatus' | 'diagnosisRole',
    UrlEntry
  >;
  profiles: { Patient: UrlEntry };
  extensions: { administrativeCode: UrlEntry; citizenshipStatus: UrlEntry };
  codes: {
    participantType: CodeEntry;
    observationCategories: Record<string, DisplayEntry>;
    performerFunctions: Record<'administered' | 'notDone' | 'reported', CodeEntry>;
    reportOrigins: Record<'recall' | 'record', CodeEntry>;
    /** `system` names a key of codeSystems. */
    notDoneReasons: Record<NotDoneReason, CodeEntry & { system: string }>;
    immunizationReasons: Record<string, DisplayEntry>;
    immunizationTimings: Record<string, DisplayEntry>;
    fundingSources: Record<'program' | 'private', CodeEntry>;
  };
}

/** All tables of mappings/, loaded once. Treat as immutable: derived lookups are cached per tables object. */
export interface MappingTables {
  observations: ObservationsTable;
  findings: FindingsTable;
  vaccines: VaccinesTable;
  settings: SettingsTable;
  systems: SystemsTable;
  diagnoses: DiagnosesTable;
  /** The source-record JSON Schema (mappings/ilp-visit.schema.json). */
  schema: Record<string, unknown>;
  /** WHO LMS data and mappings/growth-status.json. */
  growth: GrowthTables;
}

// ---------- mapping result ----------

/** Platform ids known at sync time; each replaces a conditional reference (and the Patient entry). */
export interface ResolvedIds {
  patient?: string;
  practitioner?: string;
  location?: string;
}

export interface MapOptions {
  /** The clock, passed in: times after it are rejected. */
  now: Date;
  resolved?: ResolvedIds;
  /** The child's previous weighing known to the caller (e.g. an earlier visit in the store), for the KMS weight-gain status when the
   *  record carries none; `from` names where it came from (said in the issue that gives the basis). */
  previousWeighing?: PreviousWeighing;
}

export interface PreviousWeighing {
  /** YYYY-MM-DD, local date. */
  date: string;
  weightKg: number;
  /** Where it came from: a catalogue message (source.growth.gain.from.*), or a text said as is in every language. */
  from: MessageRef | string;
}

export interface MappedEntry {
  /** Stable local key: 'patient', 'encounter', 'observation/body-weight.1', 'immunization/DPT-HB-Hib.1', 'condition/Z00.1'. */
  key: string;
  fullUrl: string;
  resource: Resource;
}

export interface MapResult {
  /** Undefined when `issues` has errors. */
  bundle?: Bundle;
  /** The Patient built from the record (for search-then-create at sync); in the Bundle only when its IHS number is unknown. */
  patient?: Patient;
  entries: MappedEntry[];
  issues: Issue[];
}
