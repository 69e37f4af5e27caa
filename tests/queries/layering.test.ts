// Arrows point down: the use cases (src/app) never reach up into the HTTP layer or the CLI, and the query commands
// of the CLI use the use cases, never src/api.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve('src');
const importsOf = (file: string) => [...readFileSync(file, 'utf8').matchAll(/from '([^']+)'/g)].map((m) => path.relative(root, path.resolve(path.dirname(file), m[1]!)));

describe('layering of the query code', () => {
  it('reads the imports it checks', () => {
    expect(importsOf(path.join(root, 'app/visits.ts'))).toContain('store/types.js');
  });

  it.each([
    ...readdirSync(path.join(root, 'app')).map((f) => path.join('app', f)),
    'cli/queries.ts', 'cli/commands/visits.ts', 'cli/commands/facilities.ts',
  ])('%s imports nothing from src/api (and src/app nothing from src/cli)', (rel) => {
    const targets = importsOf(path.join(root, rel)).filter((t) => !t.startsWith('..'));
    expect(targets.filter((t) => t.startsWith('api/') || (rel.startsWith('app/') && t.startsWith('cli/')))).toEqual([]);
  });
});
