// OperationOutcome in the platform's two recorded shapes: kemkes validator style (text with "(RuleNumber: NNNNN)" in
// details.text, plus expression) and Google Cloud Healthcare style (a machine code in details.text, the human text in
// diagnostics), which the platform passes through from its FHIR store (error-404-read-not-found.json and others).
import { AppError } from '../util/app-error.js';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from '../util/paths.js';
import { ownEntry } from '../util/own.js';
import type { Issue } from '../validation/outcome.js';
import type { NikRules } from './nik.js';

export interface PlatformIssue {
  /** The platform also sends the non-FHIR severity "invalid" on auth failures. */
  severity: 'fatal' | 'error' | 'warning' | 'information' | 'invalid';
  code: string;
  details: { text: string };
  /** Only in Google Healthcare style issues. */
  diagnostics?: string;
  expression?: string[];
}

export interface PlatformOutcome {
  resourceType: 'OperationOutcome';
  text?: { status: 'generated' };
  issue: PlatformIssue[];
}

/** The padded Apigee template the gateway answers a bad token with: these exact bytes (error-401-invalid-access-token.json). */
export const INVALID_TOKEN_BODY =
  '\n        {\n          "resourceType": "OperationOutcome",\n          "issue": [\n            {\n              "severity": "error",\n' +
  '              "code": "invalid-access-token",\n              "details": {\n                "text": "Invalid Access Token."\n' +
  '              }\n            }\n          ]\n        }\n        ';

interface MessagesFile {
  rules: Record<string, { text: string; code: string; source: string }>;
  auth: { badCredentials: string; rateLimited: string };
  dukcapil: { nikNotFound: { text: string }; nikInvalid: { text: string } };
  nik: NikRules;
}

/** Loaded once: texts per rule number, auth and Dukcapil messages, NIK plausibility rules. */
export const messages: MessagesFile = JSON.parse(
  readFileSync(path.join(mappingsDir, 'simulator', 'platform-messages.json'), 'utf8'),
) as MessagesFile;

/** Google style when every issue is (alphabetic keys, no narrative, as recorded); kemkes style otherwise. */
export function platformOutcome(issues: PlatformIssue[]): PlatformOutcome {
  if (issues.length && issues.every((i) => i.diagnostics !== undefined)) return { issue: issues, resourceType: 'OperationOutcome' };
  return { resourceType: 'OperationOutcome', text: { status: 'generated' }, issue: issues };
}

/** A Google Healthcare style issue; keys in the recorded (alphabetic) order. */
export function googleIssue(code: string, machineCode: string, diagnostics: string): PlatformIssue {
  return { code, details: { text: machineCode }, diagnostics, severity: 'error' };
}

/** An issue for a Kamus Validasi rule, text from the messages table with {placeholders} filled. */
export function ruleIssue(rule: string, vars: Record<string, string> = {}, expression?: string | string[]): PlatformIssue {
  const def = ownEntry(messages.rules, rule);
  const base = (def?.text ?? `Rule ${rule}`).replace(/\{(\w+)\}/g, (_m, k: string) => ownEntry(vars, k) ?? `{${k}}`);
  const out: PlatformIssue = { severity: 'error', code: def?.code ?? 'processing', details: { text: `${base} (RuleNumber: ${rule})` } };
  if (expression !== undefined) out.expression = Array.isArray(expression) ? expression : [expression];
  return out;
}

export function plainIssue(code: string, text: string, expression?: string | string[], severity: PlatformIssue['severity'] = 'error'): PlatformIssue {
  const out: PlatformIssue = { severity, code, details: { text } };
  if (expression !== undefined) out.expression = Array.isArray(expression) ? expression : [expression];
  return out;
}

/** The service validator's Issue → the platform's wire shape (rule number already inside the text). */
export function fromValidatorIssue(i: Issue): PlatformIssue {
  const out: PlatformIssue = { severity: i.severity, code: String(i.code), details: { text: i.diagnostics } };
  if (i.expression?.length) out.expression = [...i.expression];
  return out;
}

/** A failed request: HTTP status + platform outcome (+ headers such as Retry-After). Thrown inside handlers. */
export class SimHttpError extends AppError {
  declare readonly status: number;
  constructor(
    status: number,
    /** The answer in the platform's wire shape (what the simulator sends; `outcome` is its FHIR reading). */
    public readonly issues: PlatformIssue[],
    public readonly headers: Record<string, string> = {},
  ) {
    super('simulator-http', issues.map((i) => i.details.text).join('; '), {
      status,
      outcome: {
        resourceType: 'OperationOutcome',
        issue: issues.map((i) => ({ severity: i.severity === 'invalid' ? 'error' : i.severity, code: i.code as never, diagnostics: i.details.text })),
      },
    });
  }
}
