// `npm run screenshots`: renders the console's main pages in Chromium into docs/screenshots/*.png (for the README).
import base from './jest.config.js';
export default { ...base, testPathIgnorePatterns: ['/node_modules/'], testMatch: ['<rootDir>/tests/screenshots/**/*.test.ts'] };
