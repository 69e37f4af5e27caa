// Builds a runnable copy of the service for child-process tests, without `npm run build`: every src/**/*.ts is
// transpiled (types stripped, no typecheck) to <outDir>/src/**/*.js, and the data folders and node_modules are
// symlinked beside it, so `packageRoot` (two levels above src/util/paths.js) resolves to <outDir> and bare imports
// resolve through <outDir>/node_modules exactly as in the repository.
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { packageRoot } from '../../../src/util/paths.js';

/** Folders and files the running service reads relative to the package root. */
const LINKED = ['node_modules', 'mappings', 'messages', 'profiles', 'config', 'generated', 'package.json'];

function transpileDir(srcDir: string, outDir: string): number {
  mkdirSync(outDir, { recursive: true });
  let n = 0;
  for (const entry of readdirSync(srcDir, { withFileTypes: true })) {
    const from = path.join(srcDir, entry.name);
    if (entry.isDirectory()) {
      n += transpileDir(from, path.join(outDir, entry.name));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
      const { outputText } = ts.transpileModule(readFileSync(from, 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, esModuleInterop: true, isolatedModules: true },
        fileName: entry.name,
      });
      writeFileSync(path.join(outDir, entry.name.replace(/\.ts$/, '.js')), outputText);
      n++;
    }
  }
  return n;
}

export interface CompiledService {
  root: string;
  /** Entry point of the service process (src/main.ts → startService(process.env)). */
  main: string;
  /** Entry point of the CLI (src/cli/main.ts). */
  cli: string;
}

/** Transpiles the whole of src/ into `outDir` (created) and links what the service needs at run time. */
export function compileService(outDir: string): CompiledService {
  const files = transpileDir(path.join(packageRoot, 'src'), path.join(outDir, 'src'));
  if (files === 0) throw new Error('compileService: no sources found');
  for (const name of LINKED) {
    const target = path.join(packageRoot, name);
    const link = path.join(outDir, name);
    if (existsSync(target) && !existsSync(link)) symlinkSync(target, link);
  }
  return { root: outDir, main: path.join(outDir, 'src', 'main.js'), cli: path.join(outDir, 'src', 'cli', 'main.js') };
}
