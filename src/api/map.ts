// POST /ilp/visits/$map: one ILP visit record → its transaction Bundle (dry run: nothing stored or sent).
// 200: the body IS the Bundle; warnings (references sync will resolve, unconfirmed rules) travel as a compact
//      OperationOutcome in the `X-ILP-Outcome` header, or, with `?_outcome=inline`, the body is a Parameters
//      resource with parts `bundle`, `outcome` (and `patient` when the mapping produced one).
// 422: the record is invalid (issues point at source fields), or the mapped resources fail validation — the
//      latter is a defect of this adapter and says so.
import { Router, type Request, type Response } from 'express';
import type { Parameters, Resource } from 'fhir/r4.js';
import type { ValidatorLike } from './contracts.js';
import { defectSummary, dryRun, type Mapper } from './dry-run.js';
import { apiError, requestLocale, methodNotAllowed, requireObjectBody, sendOutcome, sendResource } from './errors.js';
import { toOperationOutcome, type Issue } from '../validation/outcome.js';
import type { Logger } from '../util/logger.js';
import { localizeIssues, messageIssue } from '../i18n/issues.js';

export const OUTCOME_HEADER = 'X-ILP-Outcome';
/** Header budget: well under common proxy limits (8 KB per header line). */
const MAX_HEADER_CHARS = 6000;
const DIGIT_RUN = /\d{10,}/g;

export type { Mapper };

/** Compact, ASCII-only JSON (HTTP header values must be Latin-1) of an OperationOutcome, trimmed to the header budget. */
export function outcomeHeader(warnings: Issue[]): string {
  const encode = (list: Issue[]): string =>
    JSON.stringify(toOperationOutcome(list, 'No warnings'))
      // Defence in depth: warnings carry paths and codes only, but never let an identifier-like digit run into a header.
      .replace(DIGIT_RUN, '[REDACTED]')
      .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  let out = encode(warnings);
  if (out.length <= MAX_HEADER_CHARS) return out;
  let keep = warnings.length;
  while (keep > 0 && out.length > MAX_HEADER_CHARS) {
    keep = Math.floor(keep / 2);
    out = encode([
      ...warnings.slice(0, keep),
      messageIssue('information', 'informational', 'source.warnings.more', { count: warnings.length - keep }),
    ]);
  }
  return out;
}

export function mapRouter(deps: { validator: ValidatorLike; mapper: Mapper; clock: () => Date; logger: Logger }): Router {
  const router = Router();

  const handle = (req: Request, res: Response): void => {
    const mode = req.query._outcome;
    if (mode !== undefined && mode !== 'inline' && mode !== 'header') {
      throw apiError(400, 'not-supported', 'map.outcome-mode', {}, '_outcome');
    }
    const record = requireObjectBody(req, 'api.what.visit-record');
    const result = dryRun(record, { mapper: deps.mapper, validator: deps.validator, now: deps.clock() });
    if (result.status === 'invalid') {
      sendOutcome(res, 422, result.issues);
      return;
    }
    if (result.status === 'defect') {
      deps.logger.error({ defects: defectSummary(result.issues) }, 'mapped resources fail validation');
      sendOutcome(res, 422, result.issues);
      return;
    }
    // Warnings are said in the caller's language, like the 422 issues (sendOutcome).
    const warnings = localizeIssues(result.warnings, requestLocale(req));
    res.vary('Accept-Language');
    if (mode === 'inline') {
      const parameters: Parameters = {
        resourceType: 'Parameters',
        parameter: [
          { name: 'bundle', resource: result.bundle },
          { name: 'outcome', resource: toOperationOutcome(warnings, 'No warnings') },
          ...(result.patient ? [{ name: 'patient', resource: result.patient as Resource }] : []),
        ],
      };
      sendResource(res, 200, parameters);
      return;
    }
    sendResource(res, 200, result.bundle, { [OUTCOME_HEADER]: outcomeHeader(warnings) });
  };

  router.route('/ilp/visits/$map').post(handle).all(methodNotAllowed(['POST']));
  return router;
}
