// The one error type of this service: what went wrong as state — a closed `kind`, an OperationOutcome, and the fields a
// caller acts on (HTTP status, Retry-After, Kamus Validasi rules, the catalogue message). Callers decide on these fields,
// never on the message text, which is English for logs only. Every layer may import this module: it imports nothing of
// ours (the store is compiled alone in tests, so no catalogue code here either; rendering a message happens at the edge,
// src/i18n).
//
// The classes that existed before (PlatformError, StorageError, ConfigError, …) are thin subclasses: each fixes its kind
// (or its family of kinds) and keeps the typed fields particular to it, so `instanceof` at a catch site and the throw
// sites read as before. Control flow that never carries an outcome stays outside (CliStop: exit code and text).
import type { Extension, OperationOutcome, OperationOutcomeIssue } from 'fhir/r4.js';

/** A message as state: a catalogue key (`<area>.<key>`, messages/<area>.json) and its parameters (PII-free, as the text shows them). */
export interface MessageRef {
  key: string;
  params: Record<string, string | number>;
}

/** Extension of a stored OperationOutcome issue (a visit's lastError) carrying its catalogue message, so it is said later in the reader's language. */
export const MESSAGE_EXTENSION = 'urn:ilp-adapter:message';

export const messageExtension = (m: MessageRef): Extension => ({
  url: MESSAGE_EXTENSION,
  extension: [{ url: 'key', valueString: m.key }, { url: 'params', valueString: JSON.stringify(m.params) }],
});

/** Why a platform call failed, classified for the retry policy (src/platform/errors.ts). */
export type PlatformErrorKind =
  | 'validation' // 400/422 with an OperationOutcome: needs correction, no retry
  | 'duplicate' // rule 20002
  | 'auth' // credentials rejected / 401 after one refresh: facility auth-failed
  | 'forbidden' // 403, rules 20003/20004/10117: facility configuration error
  | 'not-found' // 404 / rule 20007
  | 'rate-limited' // 429 (retryAfterMs set)
  | 'transient'; // 408, 5xx, network error, timeout

/** Everything else that can fail, one kind per situation a caller tells apart. */
export type LocalErrorKind =
  | 'blocked' // sync: an identity or location gap only an operator can close (record blocked)
  | 'local-validation' // sync: our own mapping/validation refused the record at send time (needs-correction)
  | 'request' // api / use cases: a request refused with an HTTP status and its issues
  | 'query-parameter' // a list parameter that cannot be used (400, or 403 for what the caller may not see)
  | 'config' // start-up configuration problems
  | 'data-key-config' // data keys for record bodies at rest cannot be used
  | 'storage' // the storage itself failed (disk full, I/O, locked, damaged, read-only)
  | 'store-schema' // the store refuses to open a database (newer schema, another application's file, damaged)
  | 'record-seal' // a sealed record body cannot be opened (key missing, tampered, format)
  | 'import-file' // a spreadsheet that cannot be read as one of its kind
  | 'import-template' // an import template table that is malformed
  | 'cli-input' // an input file of a CLI command cannot be read
  | 'busy' // validation workers and their queue are full (503)
  | 'not-ready' // a readiness check says why the service is not ready
  | 'simulator-http'; // the bundled simulator refusing a request (its answer is the platform's wire shape)

export type ErrorKind = PlatformErrorKind | LocalErrorKind;

export interface AppErrorFields {
  /** The outcome to report; absent ⇒ one issue holding the message (and `ref`, in MESSAGE_EXTENSION). */
  outcome?: OperationOutcome;
  /** The HTTP status that goes with it (the platform's answer, or the one our API answers). */
  status?: number;
  /** How long to wait before trying again (429, Retry-After on a 5xx). */
  retryAfterMs?: number;
  /** Kamus Validasi rule numbers the outcome names. */
  rules?: readonly string[];
  /** The catalogue message saying this in the operator's language. */
  ref?: MessageRef;
  cause?: unknown;
}

/** The FHIR issue type of an outcome we build ourselves from a message. */
const ISSUE_CODE: Readonly<Record<ErrorKind, OperationOutcomeIssue['code']>> = {
  'validation': 'invalid',
  'duplicate': 'duplicate',
  'auth': 'login',
  'forbidden': 'forbidden',
  'not-found': 'not-found',
  'rate-limited': 'throttled',
  'transient': 'transient',
  'blocked': 'processing',
  'local-validation': 'invalid',
  'request': 'invalid',
  'query-parameter': 'invalid',
  'config': 'invalid',
  'data-key-config': 'security',
  'storage': 'exception',
  'store-schema': 'not-supported',
  'record-seal': 'security',
  'import-file': 'invalid',
  'import-template': 'invalid',
  'cli-input': 'not-found',
  'busy': 'transient',
  'not-ready': 'transient',
  'simulator-http': 'processing',
};

export class AppError extends Error {
  readonly kind: ErrorKind;
  readonly outcome: OperationOutcome;
  readonly status: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly rules: readonly string[];
  readonly ref: MessageRef | undefined;

  constructor(kind: ErrorKind, message: string, fields: AppErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = new.target.name;
    this.kind = kind;
    this.status = fields.status;
    this.retryAfterMs = fields.retryAfterMs;
    this.rules = fields.rules ?? [];
    this.ref = fields.ref;
    this.outcome = fields.outcome ?? {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: ISSUE_CODE[kind], diagnostics: message, ...(fields.ref ? { extension: [messageExtension(fields.ref)] } : {}) }],
    };
  }
}
