// OperationOutcome is the one error shape of this service, end to end (api, cli, sync, simulator).
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

export type Severity = 'fatal' | 'error' | 'warning' | 'information';

/** A message as state: a catalogue key (`<area>.<key>`, messages/<area>.json) and its parameters (PII-free, as the text shows them). */
export interface MessageRef {
  key: string;
  params: Record<string, string | number>;
}

/** One finding. `expression` is a FHIRPath (FHIR payloads) or a source-field path like `measurements[2].unit` (visit records). */
export interface Issue {
  severity: Severity;
  /** FHIR issue-type code: invalid, required, value, code-invalid, structure, not-found, duplicate, processing, too-costly, ... */
  code: OperationOutcomeIssue['code'];
  /** Human-readable; ends with ` (RuleNumber: NNNNN)` when a Kamus Validasi rule applies. Never contains NIK, names or secrets. */
  diagnostics: string;
  expression?: string[];
  /** Kamus Validasi rule number, when one applies. */
  rule?: string;
  /** Id of the local rule (profiles/satusehat-rules.json) that produced this issue; internal, not put in the OperationOutcome. */
  ruleId?: string;
  /** The catalogue message `diagnostics` renders (in English), so the edge can say it in the reader's language (src/i18n/issues.ts). Internal. */
  message?: MessageRef;
}

export function issue(severity: Severity, code: Issue['code'], diagnostics: string, expression?: string | string[], rule?: string): Issue {
  const text = rule && !diagnostics.includes('RuleNumber') ? `${diagnostics} (RuleNumber: ${rule})` : diagnostics;
  const out: Issue = { severity, code, diagnostics: text };
  if (expression !== undefined) out.expression = Array.isArray(expression) ? expression : [expression];
  if (rule) out.rule = rule;
  return out;
}

export const hasErrors = (issues: readonly Issue[]): boolean =>
  issues.some((i) => i.severity === 'error' || i.severity === 'fatal');

/** Builds a FHIR OperationOutcome; an empty list becomes the single `information` issue that $validate returns for a valid resource. */
export function toOperationOutcome(issues: readonly Issue[], okMessage = 'Validation successful: no issues found'): OperationOutcome {
  const list: OperationOutcomeIssue[] = issues.length
    ? issues.map((i) => {
        const o: OperationOutcomeIssue = { severity: i.severity, code: i.code, diagnostics: i.diagnostics };
        if (i.rule) o.details = { text: i.diagnostics };
        if (i.expression?.length) o.expression = i.expression;
        return o;
      })
    : [{ severity: 'information', code: 'informational', diagnostics: okMessage }];
  return { resourceType: 'OperationOutcome', issue: list };
}

/** The single error type thrown across module boundaries; api maps `status` to the HTTP status. */
export class OperationOutcomeError extends Error {
  constructor(public readonly status: number, public readonly issues: Issue[]) {
    super(issues.map((i) => i.diagnostics).join('; '));
    this.name = 'OperationOutcomeError';
  }
  get outcome(): OperationOutcome {
    return toOperationOutcome(this.issues);
  }
}

// The platform writes both "(RuleNumber: 10117)" and "(Rule Number: 10109)" (recorded staging answers).
const RULE_RE = /Rule ?Number:\s*(\d+)/i;
/** Extracts a Kamus Validasi rule number from an issue text such as "... (RuleNumber: 10117)" or "(Rule Number: 10109)". */
export function ruleNumberOf(text: string | undefined): string | undefined {
  return text ? RULE_RE.exec(text)?.[1] : undefined;
}
