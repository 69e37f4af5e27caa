// Lint as a safety net, not a style pass: only the rules that catch a Promise used as if it were its value (a store call
// left without `await` would make `if (!store.getLedger(…))` always false). Type-aware, so it reads tsconfig.json.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // Fixtures that must fail the lint: tests/lint/lint.test.ts lints them on purpose (ESLint's `ignore: false`).
  { ignores: ['tests/lint/fixtures/**'] },
  {
    files: ['src/**/*.ts', 'tests/**/*.ts', 'bench/**/*.ts'],
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
  // Arrows point down (tests/architecture/layering.test.ts checks every edge; this says it in the editor): the CLI and
  // the use cases never reach the HTTP layer, the service or the composition root above them.
  {
    files: ['src/cli/**/*.ts', 'src/app/**/*.ts', 'src/compose.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api/*', '**/console/*', '../service.js', '../../service.js'], message: 'src/cli, src/app and src/compose.ts never import the HTTP layer (src/api, src/console, src/service.ts).' }] }],
    },
  },
  {
    files: ['src/app/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/api/*', '**/console/*', '**/cli/*', '../service.js', '../compose.js'], message: 'src/app (use cases) imports only what lies below it: sync, platform, mapping, validation, store, config, i18n, util.' }] }],
    },
  },
);
