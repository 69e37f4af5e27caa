// The service's own validator (src/validation), created once per process, so the simulator enforces the same rules.
import { createValidator } from '../validation/index.js';
import type { PayloadValidator } from './options.js';

let cached: Promise<PayloadValidator> | undefined;

/** Resolves to `createValidator()` of the service; rejects with the reason when its data files cannot be loaded. */
export function loadServiceValidator(): Promise<PayloadValidator> {
  cached ??= new Promise<PayloadValidator>((resolve) => resolve(createValidator()));
  return cached;
}
