// Turns the platform's (or our) OperationOutcome about a sent Bundle back into the source record's terms:
// which measurement / immunization / visit field an issue is about, so a facility operator knows what to fix.
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import type { VisitRecordLike } from './contracts.js';
import { messageExtension } from '../validation/outcome.js';
import { renderMessage } from '../i18n/issues.js';
import type { Params } from '../i18n/index.js';

/** Source path of a mapped entry key: 'observation/body-weight.1' → 'measurements[3]', 'condition/Z00.1' → 'diagnoses[0]', 'encounter' → 'visit'. */
export function sourcePathOfKey(key: string, record: VisitRecordLike): string | undefined {
  const p = sourceOfKey(key, record);
  return p && textOf(p);
}

/** The English text of a `{source}` parameter (a field path, or a fragment of messages/sync.json). */
const textOf = (p: Params): string => (p.source !== undefined ? String(p.source) : renderMessage('en', String(p['@source']), p));

/** sourcePathOfKey as the `{source}` parameter of message sync.at-source: a field path, or a fragment said in the reader's language. */
function sourceOfKey(key: string, record: VisitRecordLike): Params | undefined {
  const path = sourceFieldOfKey(key, record);
  return typeof path === 'string' ? { source: path } : path;
}

function sourceFieldOfKey(key: string, record: VisitRecordLike): string | Params | undefined {
  const [type, rest = ''] = key.split('/', 2) as [string, string?];
  const m = /^(.*?)(?:\.(\d+))?$/.exec(rest);
  const code = m?.[1] ?? rest;
  const nth = Number(m?.[2] ?? '1');
  const findNth = <T>(list: T[] | undefined, pred: (x: T) => boolean): number => {
    let seen = 0;
    for (let i = 0; i < (list?.length ?? 0); i++) if (pred(list![i]!) && ++seen === nth) return i;
    return -1;
  };
  switch (type) {
    case 'encounter':
      return { '@source': 'sync.source.visit' };
    case 'patient':
      return 'patient';
    case 'observation': {
      const i = findNth(record.measurements, (x) => x.code === code);
      if (i >= 0) return `measurements[${i}] (${code})`;
      // Findings are numbered like measurements: findings[] first, then the pregnancy fields (which carry no code of their own).
      const f = findNth(record.findings, (x) => x.code === code);
      if (f >= 0) return `findings[${f}] (${code})`;
      // Derived observations (e.g. blood pressure components) carry a code of their own: match by prefix.
      const j = (record.measurements ?? []).findIndex((x) => !!x.code && (code.startsWith(x.code) || x.code.startsWith(code)));
      if (j >= 0) return `measurements[${j}] (${record.measurements![j]!.code})`;
      return record.pregnancy ? `pregnancy (${code})` : `measurements (${code})`;
    }
    case 'immunization': {
      const i = findNth(record.immunizations, (x) => x.vaccine === code);
      return i >= 0 ? `immunizations[${i}] (${code})` : `immunizations (${code})`;
    }
    case 'condition': {
      // The key holds the whole ICD-10 code ('condition/Z00.1'): its dot is not an occurrence number.
      const i = (record.diagnoses ?? []).findIndex((x) => x.code === rest);
      return i >= 0 ? `diagnoses[${i}] (${rest})` : { '@source': 'sync.source.derived-diagnosis', code: rest };
    }
    default:
      return undefined;
  }
}

/** Elements whose value comes from one visit-level source field, whatever resource they sit in. */
const PATH_TO_SOURCE: Array<[RegExp, string]> = [
  [/\.(participant|performer)\b|\.performer\[/, 'practitioner'],
  [/\.(subject|patient)\b/, 'patient'],
  [/\.location\b/, 'locationCode'],
  [/^Encounter\.period\b|\.period\.(start|end)/, 'start, end'],
  [/^Encounter\.class\b/, 'setting'],
];

/**
 * The platform's Google-style `reference_not_found` carries no expression, only its text (`reference target(s) not found:
 * Practitioner/…`, error-400-reference-not-found.json): the referenced type says which source field supplied the id.
 */
const REFERENCE_TARGET_SOURCE: ReadonlyMap<string, string> = new Map([
  ['Practitioner', 'practitioner'],
  ['Patient', 'patient'],
  ['Location', 'locationCode'],
  ['Organization', 'organizationId'],
]);

function sourceOfMissingReference(i: OperationOutcomeIssue): string | undefined {
  if (i.details?.text?.trim() !== 'reference_not_found' || typeof i.diagnostics !== 'string') return undefined;
  // The id itself may already be scrubbed (`Practitioner/[REDACTED]`): the type is what matters.
  for (const m of i.diagnostics.matchAll(/\b([A-Z][A-Za-z]+)\/\S/g)) {
    const source = REFERENCE_TARGET_SOURCE.get(m[1]!);
    if (source) return source;
  }
  return undefined;
}

function refineByPath(expr: string[]): string | undefined {
  for (const e of expr) {
    const path = e.replace(/^Bundle\.entry\[\d+\]\.resource\./, '');
    for (const [re, source] of PATH_TO_SOURCE) if (re.test(path)) return source;
  }
  return undefined;
}

/**
 * Adds the source field to every issue it can place: by `Bundle.entry[n]` in the expression, or by resource type
 * when the Bundle held one resource of that type. `sentKeys[n]` is the key of the n-th entry sent.
 */
export function explainOutcome(
  outcome: OperationOutcome,
  sentKeys: string[],
  sentTypes: string[],
  record: VisitRecordLike,
): OperationOutcome {
  const issues: OperationOutcomeIssue[] = (outcome.issue ?? []).map((i) => {
    const expr = i.expression ?? [];
    let key: string | undefined;
    for (const e of expr) {
      const n = /entry\[(\d+)\]/.exec(e)?.[1];
      if (n !== undefined && sentKeys[Number(n)]) {
        key = sentKeys[Number(n)];
        break;
      }
      const type = /^([A-Z][A-Za-z]+)\./.exec(e)?.[1];
      if (type && type !== 'Bundle') {
        const idx = sentTypes.flatMap((t, k) => (t === type ? [k] : []));
        if (idx.length === 1) {
          key = sentKeys[idx[0]!];
          break;
        }
      }
    }
    const refined = refineByPath(expr) ?? sourceOfMissingReference(i);
    const sourceParams = refined !== undefined ? { source: refined } : key ? sourceOfKey(key, record) : undefined;
    if (!sourceParams) return i;
    const source = textOf(sourceParams);
    // The platform's own text stays as it wrote it, inside a frame said in the reader's language (sync.at-source).
    const text = i.diagnostics ?? i.details?.text ?? '';
    return {
      ...i, diagnostics: `${source}: ${text}`, expression: [...expr, source.split(' ')[0]!.replace(/,$/, '')],
      extension: [...(i.extension ?? []), messageExtension({ key: 'sync.at-source', params: { ...sourceParams, text } })],
    };
  });
  return { resourceType: 'OperationOutcome', issue: issues };
}
