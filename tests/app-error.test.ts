// The one error type: every error class is an AppError of a fixed kind, with its state in fields and an outcome.
import { AppError, MESSAGE_EXTENSION } from '../src/util/app-error.js';
import { PlatformError } from '../src/platform/types.js';
import { BlockedError, LocalValidationError } from '../src/sync/policy.js';
import { OperationOutcomeError, issue, messageOfExtension } from '../src/validation/outcome.js';
import { QueryParameterError } from '../src/app/params.js';
import { ConfigError, configProblem } from '../src/config/errors.js';
import { ImportFileError } from '../src/app/import-errors.js';
import { TemplateError } from '../src/app/import-template.js';
import { CliInputError } from '../src/cli/ndjson.js';
import { PoolBusyError } from '../src/api/validation-pool.js';
import { NotReady } from '../src/api/health.js';
import { toStorageError } from '../src/store/storage-error.js';
import { schemaTooNew } from '../src/store/open-checks.js';
import { DataKeyConfigError, RecordSealError } from '../src/store/record-codec.js';
import { SimHttpError } from '../src/simulator/platform-outcome.js';

const oo = (diagnostics: string) => ({ resourceType: 'OperationOutcome' as const, issue: [{ severity: 'error' as const, code: 'processing' as const, diagnostics }] });

describe('AppError', () => {
  it.each<[string, AppError, string]>([
    ['PlatformError', new PlatformError('rate-limited', 429, oo('slow down'), [], 5_000), 'rate-limited'],
    ['BlockedError', new BlockedError(oo('no location')), 'blocked'],
    ['LocalValidationError', new LocalValidationError(oo('mapping: x'), ['10117']), 'local-validation'],
    ['OperationOutcomeError', new OperationOutcomeError(422, [issue('error', 'invalid', 'bad')]), 'request'],
    ['QueryParameterError', new QueryParameterError('limit', 'param.count', { max: 500 }), 'query-parameter'],
    ['ConfigError', new ConfigError([configProblem('text', { text: 'x' })]), 'config'],
    ['ImportFileError', new ImportFileError('file.xlsx-broken'), 'import-file'],
    ['TemplateError', new TemplateError('posyandu.json: not a JSON object'), 'import-template'],
    ['CliInputError', new CliInputError('a.json: no such file', 'a.json', 'no-such-file'), 'cli-input'],
    ['PoolBusyError', new PoolBusyError(), 'busy'],
    ['NotReady', new NotReady('store'), 'not-ready'],
    ['StorageError', toStorageError({ code: 'SQLITE_FULL' })!, 'storage'],
    ['StoreSchemaError', schemaTooNew(99, 12, 'sqlite'), 'store-schema'],
    ['RecordSealError', new RecordSealError('cannot open', 'tampered', 'k1', 'tampered'), 'record-seal'],
    ['DataKeyConfigError', new DataKeyConfigError('bad DATA_KEYS'), 'data-key-config'],
    ['SimHttpError', new SimHttpError(400, [{ severity: 'invalid', code: 'value', details: { text: 'x (RuleNumber: 10117)' } }]), 'simulator-http'],
  ])('%s is an AppError of its kind, with an OperationOutcome and its name', (name, err, kind) => {
    expect(err).toBeInstanceOf(AppError);
    expect(err).toBeInstanceOf(Error);
    expect(err.kind).toBe(kind);
    expect(err.name).toBe(name);
    expect(err.outcome.resourceType).toBe('OperationOutcome');
    expect(err.outcome.issue.length).toBeGreaterThan(0);
    for (const i of err.outcome.issue) expect(['fatal', 'error', 'warning', 'information']).toContain(i.severity);
  });

  it('machine state is in fields: status, wait, rules, the message as a catalogue reference', () => {
    const platform = new PlatformError('rate-limited', 429, oo('slow down'), ['20002'], 5_000);
    expect(platform).toMatchObject({ status: 429, retryAfterMs: 5_000, rules: ['20002'] });
    expect(new LocalValidationError(oo('x'), ['10117']).rules).toEqual(['10117']);
    expect(new QueryParameterError('organization', 'param.own-organization', {}, 403)).toMatchObject({ status: 403, ref: { key: 'queries.param.own-organization' } });
    expect(schemaTooNew(99, 12, 'postgres').ref).toEqual({ key: 'store-open.schema-too-new.postgres', params: { have: 99, latest: 12, '@recovery': 'store-open.recovery' } });
    expect(new ImportFileError('file.zip-limits', { reason: 'r' })).toMatchObject({ why: 'file.zip-limits', ref: { key: 'import.file.zip-limits', params: { reason: 'r' } } });
  });

  it('an outcome built from a message carries it in MESSAGE_EXTENSION, so it can be said in the reader\'s language', () => {
    const err = new AppError('import-file', 'file.xlsx-broken', { ref: { key: 'import.file.xlsx-broken', params: {} } });
    const [only] = err.outcome.issue;
    expect(only).toMatchObject({ severity: 'error', code: 'invalid', diagnostics: 'file.xlsx-broken' });
    expect(only!.extension![0]!.url).toBe(MESSAGE_EXTENSION);
    expect(messageOfExtension(only!.extension)).toEqual({ key: 'import.file.xlsx-broken', params: {} });
  });

  it('a ConfigError has one outcome issue per problem, each with its message; a query parameter error is at its parameter', () => {
    const cfg = new ConfigError([configProblem('text', { text: 'one' }), configProblem('text', { text: 'two' })]);
    expect(cfg.outcome.issue.map((i) => messageOfExtension(i.extension)?.params.text)).toEqual(['one', 'two']);
    expect(new QueryParameterError('limit', 'param.count', { max: 500 }).outcome.issue[0]!.expression).toEqual(['limit']);
  });
});
