// Weighings kept between visits (KMS weight-gain status): the fact written at ingest and the lookup at delivery.
// The child is keyed by an HMAC of its NIK (or mother's NIK + birth order + birth date for a newborn without one), never
// the NIK itself; a child first weighed without a NIK and later with one is two keys (the earlier weighing is not found).
import { visitWeighing } from '../mapping/weighing.js';
import type { MappingTables, VisitRecord } from '../mapping/types.js';
import type { EarlierWeighing, Store, WeighingFact } from '../store/types.js';
import { hmacHex } from './hash.js';

export function childKey(record: VisitRecord, hmacKey: Buffer): string {
  const p = record.patient;
  return hmacHex(hmacKey, p.nik !== undefined
    ? `weighing|nik|${p.nik}`
    : `weighing|mother|${p.motherNik ?? ''}|${p.birthOrder ?? ''}|${p.birthDate}`);
}

/** What ingest stores for a record that weighed a child; undefined when it weighed none (or not a child under 5). */
export function weighingFact(record: VisitRecord, tables: MappingTables, hmacKey: Buffer): WeighingFact | undefined {
  const w = visitWeighing(record, tables);
  return w && { childKey: childKey(record, hmacKey), ...w };
}

/** The same child's latest weighing before this visit's, if the service holds one. */
export async function earlierWeighingOf(store: Store, record: VisitRecord, tables: MappingTables, hmacKey: Buffer): Promise<EarlierWeighing | undefined> {
  const w = visitWeighing(record, tables);
  if (!w) return undefined;
  return store.earlierWeighing(record.organizationId, childKey(record, hmacKey), w.measuredOn, record.visitId);
}
