// The stop of an import whose file cannot be used (shared by the readers and the ZIP guard).
import { AppError } from '../util/app-error.js';

/** The file cannot be read as a spreadsheet of this kind (AppError kind 'import-file'). */
export class ImportFileError extends AppError {
  /** `why`: the message key of messages/import.json saying what is wrong with the file. */
  constructor(readonly why: string, readonly params: Record<string, string | number> = {}) {
    super('import-file', why, { ref: { key: `import.${why}`, params: { ...params } } });
  }
}
