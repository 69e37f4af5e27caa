// Lint as a safety net, not a style pass: only the rules that catch a Promise used as if it were its value (a store call
// left without `await` would make `if (!store.getLedger(…))` always false). Type-aware, so it reads tsconfig.json.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Fixtures that must fail the lint: tests/lint/lint.test.ts lints them on purpose (ESLint's `ignore: false`).
  { ignores: ['tests/lint/fixtures/**'] },
  {
    files: ['src/**/*.ts', 'tests/**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
