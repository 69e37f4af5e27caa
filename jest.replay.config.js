// Replay contract suite over the recorded platform answers in ../shared/platform-responses (PLATFORM_RESPONSES_DIR), read in place.
import base from './jest.config.js';
export default { ...base, testPathIgnorePatterns: ['/node_modules/'], testMatch: ['<rootDir>/tests/replay/**/*.test.ts'] };
