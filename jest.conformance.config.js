// Conformance suite over the official examples in ../shared/conformance (CONFORMANCE_DIR), read in place.
import base from './jest.config.js';
export default { ...base, testPathIgnorePatterns: ['/node_modules/'], testMatch: ['<rootDir>/tests/conformance/**/*.test.ts'] };
