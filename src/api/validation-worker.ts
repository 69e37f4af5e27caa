// Worker-thread entry of the validation pool (validation-pool.ts): one validator per thread, built on its first task.
import { createValidator, type Validator } from '../validation/index.js';
import type { Issue } from '../validation/outcome.js';

export interface ValidationTask {
  resource: unknown;
  /** ISO instant: validation never reads the clock. */
  now: string;
  baseOnly?: boolean;
  expectedType?: string;
}

let validator: Validator | undefined;

export default function validateTask(task: ValidationTask): Issue[] {
  validator ??= createValidator();
  return validator.validate(task.resource, {
    now: new Date(task.now),
    ...(task.baseOnly ? { baseOnly: true } : {}),
    ...(task.expectedType ? { expectedType: task.expectedType } : {}),
  });
}
