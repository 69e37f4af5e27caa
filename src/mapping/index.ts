// Public API of the mapping module: ILP visit record → SATUSEHAT transaction Bundle.
export { loadMappingTables, checkTables } from './tables.js';
export { checkVisit } from './check.js';
export { mapVisit } from './map-visit.js';
export { deterministicUuid } from './uuid.js';
export { unconfirmedValues, type Unconfirmed } from './confidence.js';
export { formatUtc, parseDateTime } from './datetime.js';
export type {
  MappingTables, ResolvedIds, MapOptions, MappedEntry, MapResult, VisitRecord, VisitPatient, VisitPractitioner, VisitMeasurement,
  VisitImmunization, VisitDiagnosis, ObservationsTable, VaccinesTable, SettingsTable, SystemsTable, DiagnosesTable, DiagnosisRule, Confidence,
} from './types.js';
