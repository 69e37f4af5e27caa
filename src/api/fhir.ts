// POST /fhir/$validate and POST /fhir/{type}/$validate (FHIR R4 Resource-validate).
// 200 + OperationOutcome whether the resource is valid or not; 400 only when the request cannot be processed:
// no JSON object, no (or an empty or non-string) resourceType, a URL type or a profile for another real type, or a
// profile we do not offer. A resourceType string that is unknown ('Foo') or malformed ('patient', a NIK typed in by
// mistake) *is* processed: the validator reports it as an error issue (200), as the CLI does, without echoing a name
// that may be personal data.
import { Router, type Request } from 'express';
import type { ValidatorLike } from './contracts.js';
import { httpError, methodNotAllowed, requireObjectBody, sendResource } from './errors.js';
import { bodyBytesOf } from './body.js';
import { PoolBusyError, type ValidationPool } from './validation-pool.js';
import type { ValidateOptions } from '../validation/index.js';
import { toOperationOutcome } from '../validation/outcome.js';

const TYPE_RE = /^[A-Z][A-Za-z]{0,63}$/;
const BASE_PROFILE_RE = /^http:\/\/hl7\.org\/fhir\/StructureDefinition\/([A-Za-z]+)(?:\|4\.0\.[0-9]+)?$/;

interface ValidateRequest {
  resource: Record<string, unknown>;
  profile?: string;
}

/** The resource to validate and the profile asked for, from the body (resource or Parameters) and the query. */
function readRequest(req: Request): ValidateRequest {
  const body = requireObjectBody(req, 'api.what.fhir-resource');
  let resource = body;
  let profile: string | undefined;
  // FHIR also allows a Parameters body with parts `resource` and `profile`.
  if (body.resourceType === 'Parameters' && Array.isArray(body.parameter)) {
    const params = body.parameter as Array<Record<string, unknown>>;
    const resParam = params.find((p) => p && p.name === 'resource');
    if (resParam) {
      const inner = resParam.resource;
      if (!inner || typeof inner !== 'object' || Array.isArray(inner)) {
        throw httpError(400, 'required', "Parameters.parameter 'resource' has no resource", 'Parameters.parameter.resource');
      }
      resource = inner as Record<string, unknown>;
      const p = params.find((x) => x && x.name === 'profile');
      const v = p?.valueUri ?? p?.valueCanonical ?? p?.valueString;
      if (typeof v === 'string') profile = v;
    }
  }
  const q = req.query.profile;
  if (Array.isArray(q)) throw httpError(400, 'not-supported', 'Give at most one profile', 'profile');
  if (q !== undefined && typeof q !== 'string') throw httpError(400, 'invalid', 'profile must be a canonical URL', 'profile');
  if (typeof q === 'string') profile = q;
  return { resource, profile };
}

export function fhirRouter(deps: { validator: ValidatorLike; clock: () => Date; pool?: ValidationPool }): Router {
  const router = Router();

  /** Inline for small bodies; on a worker from `pool.minBytes` on, 503 + Retry-After when the workers are saturated. */
  const runValidation = async (resource: Record<string, unknown>, opts: ValidateOptions, res: import('express').Response) => {
    const pool = deps.pool;
    if (!pool || bodyBytesOf(res) < pool.minBytes) return deps.validator.validate(resource, opts);
    try {
      return await pool.validate(resource, opts);
    } catch (e) {
      if (!(e instanceof PoolBusyError)) throw e;
      res.set('Retry-After', '1');
      throw httpError(503, 'transient', 'Every validation worker is busy with large payloads; retry shortly');
    }
  };

  const validate = async (req: Request, res: import('express').Response): Promise<void> => {
    const urlType = typeof req.params.type === 'string' ? req.params.type : undefined;
    if (urlType !== undefined && !TYPE_RE.test(urlType)) {
      // Not echoed: a path segment that is not a type name may be anything, a NIK included.
      throw httpError(400, 'not-supported', 'The type in the URL (/fhir/{type}/$validate) is not a resource type name');
    }
    const { resource, profile } = readRequest(req);
    const rt = resource.resourceType;
    if (rt === undefined || rt === '') throw httpError(400, 'required', 'The body has no resourceType: it is not a FHIR resource', 'resourceType');
    if (typeof rt !== 'string') {
      throw httpError(400, 'structure', 'resourceType must be a resource type name such as "Patient"', 'resourceType');
    }
    // Only a well-formed name may appear in a 400 message; a malformed one goes to the validator, which never echoes it.
    const named = TYPE_RE.test(rt);
    if (named && urlType !== undefined && urlType !== rt) {
      throw httpError(400, 'invalid', `$validate was called on type ${urlType} but the body is a ${rt}`, 'resourceType');
    }
    let baseOnly = false;
    if (profile !== undefined) {
      const m = BASE_PROFILE_RE.exec(profile);
      if (!m) {
        throw httpError(
          400,
          'not-supported',
          `Unsupported profile '${profile.slice(0, 200)}': use http://hl7.org/fhir/StructureDefinition/${named ? rt : '{type}'} for base FHIR R4 only, ` +
            'or omit profile to check the SATUSEHAT rules as well',
          'profile',
        );
      }
      if (named && m[1] !== rt) {
        throw httpError(400, 'invalid', `The profile is for ${m[1]} but the resource is a ${rt}`, 'profile');
      }
      baseOnly = true;
    }
    const issues = await runValidation(resource, { now: deps.clock(), baseOnly, ...(urlType ? { expectedType: urlType } : {}) }, res);
    sendResource(res, 200, toOperationOutcome(issues));
  };

  router.route('/fhir/$validate').post(validate).all(methodNotAllowed(['POST']));
  router.route('/fhir/:type/$validate').post(validate).all(methodNotAllowed(['POST']));
  return router;
}
