// The safety net of the async Store contract: a store call whose `await` was forgotten compiles, so the lint in
// `npm test` (eslint.config.js: no-floating-promises, no-misused-promises) must refuse it. Lints a fixture with every
// shape of the mistake, through the ESLint Node API and the project's own config.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixture = 'tests/lint/fixtures/forgotten-await.ts';

it('refuses every forgotten await of the fixture, each at its line with the rule that catches it', async () => {
  // ignore: false — the project lint skips the fixture; here it is the point.
  const eslint = new ESLint({ cwd: root, ignore: false });
  const [result] = await eslint.lintFiles([fixture]);
  const source = readFileSync(path.join(root, fixture), 'utf8');
  const lineOf = (marker: string) => source.split('\n').findIndex((l) => l.includes(`// ${marker}`)) + 1;
  const found = result!.messages.map((m) => [m.line, m.ruleId]);
  expect(found).toEqual([
    [lineOf('FLOATING'), '@typescript-eslint/no-floating-promises'],
    [lineOf('CONDITIONAL'), '@typescript-eslint/no-misused-promises'],
    [lineOf('PREDICATE'), '@typescript-eslint/no-misused-promises'],
    [lineOf('VOID-RETURN'), '@typescript-eslint/no-misused-promises'],
  ]);
});
