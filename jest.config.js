// Unit, integration and end-to-end tests; self-contained (no files outside the repository).
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/tests/conformance/', '<rootDir>/tests/replay/', '<rootDir>/tests/screenshots/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Type checking is done once by `npm run typecheck`; jest only transpiles.
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  // A bound on hangs only: no test waits on time, so a slow (loaded) machine must not fail one.
  testTimeout: 120000,
};
