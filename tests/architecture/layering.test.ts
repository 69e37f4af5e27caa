// Arrows point down: entry (main, service) → composition root (compose) → interfaces (api, console, cli) → use cases
// (app) → sync → platform / mapping / validation / store and the shared ground (config, i18n, util). Read from the
// import statements of src/ (static, dynamic and type-only alike), so a new upward import fails here, not in review.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve('src');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The area of a file under src/: its first folder, or its name for a top-level file (`service`, `compose`). */
const areaOf = (rel: string): string => (rel.includes('/') ? rel.split('/')[0]! : rel.replace(/\.(ts|js)$/, ''));

/** Files under src/ that `file` imports (relative specifiers; packages are not ours), as paths relative to src/ ending in .ts. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
  return specifiers.map((s) => path.relative(root, path.resolve(path.dirname(file), s)).replace(/\.js$/, '.ts'));
}

const GROUND = ['config', 'i18n', 'util', 'validation'];
/** What each area may import besides itself. */
const MAY_IMPORT: Record<string, readonly string[]> = {
  main: ['service', 'startup-text', ...GROUND],
  'startup-text': ['store', ...GROUND],
  service: ['compose', 'api', 'console', 'app', 'sync', 'simulator', 'platform', 'mapping', 'store', ...GROUND],
  compose: ['app', 'sync', 'simulator', 'platform', 'mapping', 'growth', 'store', ...GROUND],
  // startup-text: `sync --once` refuses to start in the same words as the service (it reaches only config, store and i18n).
  cli: ['compose', 'app', 'startup-text', 'simulator', 'platform', 'mapping', 'store', ...GROUND],
  api: ['app', 'sync', 'platform', 'mapping', 'store', ...GROUND],
  console: ['api', 'app', 'sync', 'platform', 'mapping', 'store', ...GROUND],
  app: ['sync', 'platform', 'mapping', 'growth', 'store', ...GROUND],
  sync: ['platform', 'mapping', 'growth', 'store', ...GROUND],
  simulator: ['platform', ...GROUND],
  platform: ['validation', 'util', 'i18n'],
  mapping: ['growth', 'validation', 'util', 'i18n'],
  growth: ['mapping', 'validation', 'util', 'i18n'],
  store: ['validation', 'util', 'i18n', 'config'],
  config: ['platform', 'store', ...GROUND],
  validation: ['util', 'i18n'],
  i18n: ['util', 'validation'],
  util: ['i18n', 'validation'],
};

const files = tsFiles(root).map((f) => path.relative(root, f));

describe('layering of src/', () => {
  it('reads the imports it checks', () => {
    expect(importsOf(path.join(root, 'app/visits.ts'))).toContain('store/types.ts');
    expect(importsOf(path.join(root, 'cli/commands/sync.ts'))).toContain('compose.ts');
    expect(files.map(areaOf)).toEqual(expect.arrayContaining(['compose', 'service', 'cli', 'api', 'app']));
  });

  it('knows every area of src/', () => {
    expect([...new Set(files.map(areaOf))].filter((a) => !(a in MAY_IMPORT))).toEqual([]);
  });

  it('has no import that points up or sideways', () => {
    const wrong = files.flatMap((rel) => {
      const from = areaOf(rel);
      return importsOf(path.join(root, rel))
        .filter((target) => !target.startsWith('..'))
        .filter((target) => areaOf(target) !== from && !MAY_IMPORT[from]!.includes(areaOf(target)))
        .map((target) => `${rel} → ${target}`);
    });
    expect(wrong).toEqual([]);
  });

  it('the CLI reaches nothing of the HTTP layer, not even through another module', () => {
    const seen = new Set<string>();
    const queue = files.filter((f) => f.startsWith('cli/'));
    while (queue.length) {
      const f = queue.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      queue.push(...importsOf(path.join(root, f)).filter((t) => !t.startsWith('..')));
    }
    expect([...seen].filter((f) => f.startsWith('api/') || f.startsWith('console/') || f === 'service.ts')).toEqual([]);
    expect(seen.has('compose.ts')).toBe(true);
  });

  it('the benchmarks live outside src/ and are wired through the composition root', () => {
    expect(files.filter((f) => f.startsWith('bench/'))).toEqual([]);
    const benchDir = path.resolve('bench');
    const benches = readdirSync(benchDir).filter((f) => f.endsWith('.ts'));
    expect(benches).toEqual(expect.arrayContaining(['sync.ts', 'read-retry.ts', 'map-validate.ts']));
    for (const b of ['sync.ts', 'read-retry.ts']) {
      const text = readFileSync(path.join(benchDir, b), 'utf8');
      expect(text).toContain("'../src/compose.js'");
      expect(text).not.toMatch(/new SyncRunner|createPlatformClient\(/);
    }
  });
});
