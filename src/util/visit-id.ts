// The contract's visitId rule (mappings/ilp-visit.schema.json), for places that show or keep a visitId from a record
// that may have failed validation: a value breaking it is not shown (it could hold anything, e.g. a name typed there).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { mappingsDir } from './paths.js';

const schema = JSON.parse(readFileSync(path.join(mappingsDir, 'ilp-visit.schema.json'), 'utf8')) as {
  properties: { visitId: { pattern: string; maxLength: number } };
};
const VISIT_ID = new RegExp(schema.properties.visitId.pattern);
export const VISIT_ID_MAX_LENGTH = schema.properties.visitId.maxLength;

export const isWellFormedVisitId = (v: unknown): v is string => typeof v === 'string' && v.length <= VISIT_ID_MAX_LENGTH && VISIT_ID.test(v);
