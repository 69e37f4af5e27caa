// Platform error texts can echo what we sent (a NIK, a name). Before an outcome is stored or shown, the record's
// personal values and any long digit run are masked, so lastError stays PII-free.
import type { Extension, OperationOutcome } from 'fhir/r4.js';
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

function scrubExtension(e: Extension, values: string[]): Extension {
  const out: Extension = { ...e };
  if (typeof e.valueString === 'string') out.valueString = scrubText(e.valueString, values);
  if (e.extension) out.extension = e.extension.map((x) => scrubExtension(x, values));
  return out;
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
      // Coded details are state (our sync notes, the platform's codes); the display is text like any other.
      if (i.details?.coding?.length) o.details = { ...o.details, coding: i.details.coding.map((c) => (c.display === undefined ? { ...c } : { ...c, display: s(c.display)! })) };
      if (i.expression?.length) o.expression = i.expression.map((e) => scrubText(e, values));
      // Our catalogue messages (MESSAGE_EXTENSION) go along so the reader sees them in their language; their texts are scrubbed too.
      if (i.extension?.length) o.extension = i.extension.map((e) => scrubExtension(e, values));
      return o;
    }),
  };
}
