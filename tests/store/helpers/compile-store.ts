// Compiles src/store/*.ts to plain ESM in a temp folder so a child `node` process can run the real store without a build.
// Bare `better-sqlite3` and `pg` are rewritten to their absolute URLs because the temp folder has no node_modules above it.
// The store imports nothing of ours outside src/store but src/util modules that import nothing themselves (the error
// type): those are compiled beside it, into util/.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from 'typescript';
import { packageRoot } from '../../../src/util/paths.js';

export function compileStore(outDir: string): string {
  const srcDir = path.join(packageRoot, 'src', 'store');
  const resolve = createRequire(path.join(packageRoot, 'package.json')).resolve;
  const packages = ['better-sqlite3', 'pg'].map((name) => ({ from: new RegExp(`from ['"]${name}['"]`, 'g'), url: pathToFileURL(resolve(name)).href }));
  mkdirSync(outDir, { recursive: true });
  writeFileSync(path.join(outDir, 'package.json'), '{"type":"module"}\n');
  const utilities = new Set<string>();
  const transpile = (file: string, to: string) => {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: path.basename(file),
    });
    const linked = packages.reduce((text, p) => text.replace(p.from, `from '${p.url}'`), outputText)
      .replace(/from '\.\.\/util\/([\w-]+)\.js'/g, (_m, name: string) => {
        utilities.add(name);
        return `from './util/${name}.js'`;
      });
    writeFileSync(to, linked);
  };
  for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) transpile(path.join(srcDir, f), path.join(outDir, f.replace(/\.ts$/, '.js')));
  mkdirSync(path.join(outDir, 'util'), { recursive: true });
  for (const name of utilities) transpile(path.join(packageRoot, 'src', 'util', `${name}.ts`), path.join(outDir, 'util', `${name}.js`));
  return path.join(outDir, 'index.js');
}
