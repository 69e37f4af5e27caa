// Platform error texts can echo what we sent (a NIK, a name). Before an outcome is stored or shown, the record's
// personal values and any long digit run are masked, so lastError stays PII-free.
import type { OperationOutcome } from 'fhir/r4.js';
import type { VisitRecordLike } from './contracts.js';

const MASK = '[REDACTED]';
const DIGIT_RUN = /\d{10,}/g;

function personalValues(record: VisitRecordLike | undefined): string[] {
  if (!record) return [];
  const p = record.patient ?? {};
  const vals = [p.nik, p.motherNik, p.name, p.phone, record.practitioner?.nik, record.practitioner?.name];
  return vals.filter((v): v is string => typeof v === 'string' && v.trim().length >= 3);
}

export function scrubText(text: string, values: string[]): string {
  let out = text;
  for (const v of values) out = out.split(v).join(MASK);
  return out.replace(DIGIT_RUN, MASK);
}

export function scrubOutcome(outcome: OperationOutcome, record?: VisitRecordLike): OperationOutcome {
  const values = personalValues(record);
  const s = (t: string | undefined) => (t === undefined ? undefined : scrubText(t, values));
  return {
    resourceType: 'OperationOutcome',
    issue: (outcome.issue ?? []).slice(0, 50).map((i) => {
      const o: NonNullable<OperationOutcome['issue']>[number] = { severity: i.severity, code: i.code };
      if (i.diagnostics !== undefined) o.diagnostics = s(i.diagnostics);
      if (i.details?.text !== undefined) o.details = { text: s(i.details.text) };
      if (i.expression?.length) o.expression = i.expression.map((e) => scrubText(e, values));
      return o;
    }),
  };
}
