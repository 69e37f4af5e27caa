// Compiles src/store/*.ts to plain ESM in a temp folder so a child `node` process can run the real store without a build.
// Bare `better-sqlite3` and `pg` are rewritten to their absolute URLs because the temp folder has no node_modules above it.
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
  for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) {
    const { outputText } = ts.transpileModule(readFileSync(path.join(srcDir, f), 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: f,
    });
    const linked = packages.reduce((text, p) => text.replace(p.from, `from '${p.url}'`), outputText);
    writeFileSync(path.join(outDir, f.replace(/\.ts$/, '.js')), linked);
  }
  return path.join(outDir, 'index.js');
}
