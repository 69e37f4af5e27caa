// OperationOutcome is the one error shape of this service, end to end (api, cli, sync, simulator).
import type { Extension, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';
import { AppError, MESSAGE_EXTENSION, messageExtension, type MessageRef } from '../util/app-error.js';

export { MESSAGE_EXTENSION, messageExtension, type MessageRef };

export type Severity = 'fatal' | 'error' | 'warning' | 'information';

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

/** The message a stored issue carries in MESSAGE_EXTENSION; undefined when none (or malformed: the stored text then stands). */
export function messageOfExtension(extensions: readonly Extension[] | undefined): MessageRef | undefined {
  const ext = extensions?.find((e) => e.url === MESSAGE_EXTENSION);
  if (!ext) return undefined;
  const key = ext.extension?.find((e) => e.url === 'key')?.valueString;
  const raw = ext.extension?.find((e) => e.url === 'params')?.valueString;
  if (typeof key !== 'string') return undefined;
  try {
    const params: unknown = raw === undefined ? {} : JSON.parse(raw);
    if (!params || typeof params !== 'object' || Array.isArray(params)) return undefined;
    return { key, params: params as MessageRef['params'] };
  } catch {
    return undefined;
  }
}

/**
 * Builds a FHIR OperationOutcome; an empty list becomes the single `information` issue that $validate returns for a valid resource.
 * `keepMessages`: each issue's catalogue message goes along in MESSAGE_EXTENSION (for outcomes that are stored and rendered later).
 */
export function toOperationOutcome(issues: readonly Issue[], okMessage = 'Validation successful: no issues found', keepMessages = false): OperationOutcome {
  const list: OperationOutcomeIssue[] = issues.length
    ? issues.map((i) => {
        const o: OperationOutcomeIssue = { severity: i.severity, code: i.code, diagnostics: i.diagnostics };
        if (i.rule) o.details = { text: i.diagnostics };
        if (i.expression?.length) o.expression = i.expression;
        if (keepMessages && i.message) o.extension = [messageExtension(i.message)];
        return o;
      })
    : [{ severity: 'information', code: 'informational', diagnostics: okMessage }];
  return { resourceType: 'OperationOutcome', issue: list };
}

/** A request refused with an HTTP status and its issues (AppError kind 'request'); api answers `status` with the outcome. */
export class OperationOutcomeError extends AppError {
  declare readonly status: number;
  constructor(status: number, public readonly issues: Issue[]) {
    super('request', issues.map((i) => i.diagnostics).join('; '), { status, outcome: toOperationOutcome(issues) });
  }
}

// The platform writes both "(RuleNumber: 10117)" and "(Rule Number: 10109)" (recorded staging answers).
const RULE_RE = /Rule ?Number:\s*(\d+)/i;
/** Extracts a Kamus Validasi rule number from an issue text such as "... (RuleNumber: 10117)" or "(Rule Number: 10109)". */
export function ruleNumberOf(text: string | undefined): string | undefined {
  return text ? RULE_RE.exec(text)?.[1] : undefined;
}
