// The stop of an import whose file cannot be used (shared by the readers and the ZIP guard).

/** The file cannot be read as a spreadsheet of this kind: `kind` is a message key of messages/import.json. */
export class ImportFileError extends Error {
  constructor(readonly kind: string, readonly params: Record<string, string | number> = {}) {
    super(kind);
  }
}
