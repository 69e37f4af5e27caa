// Moved to the use-case layer (src/app/dry-run.ts), shared by POST /ilp/visits, $map, the CLI and the spreadsheet import.
export * from '../app/dry-run.js';
