// Moved to the use-case layer (src/app/contracts.ts); re-exported so that api, cli and sync imports stay as they are.
export * from '../app/contracts.js';
