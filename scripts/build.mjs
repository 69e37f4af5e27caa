// Build: compile TypeScript to dist/ and generate the precompiled FHIR R4 validators (and their fast path) and required bindings (generated/, gitignored).
// Runs on `npm ci` (prepare) so `npm start` and `npm test` work from a fresh clone.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import ts from 'typescript';

execFileSync(process.execPath, ['scripts/gen-r4-validators.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/gen-r4-bindings.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/gen-r4-fast-checks.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755);

// The benchmarks (bench/*.ts, outside src/ so that nothing of the service ships or imports them) land beside the service
// in dist/bench/, importing the compiled service: `../src/x.js` becomes `../x.js`. Each file on its own (the project is
// `isolatedModules`), with the compiler of the build; `npm run typecheck` checks their types with the rest.
rmSync('dist/bench', { recursive: true, force: true });
mkdirSync('dist/bench', { recursive: true });
for (const file of readdirSync('bench').filter((f) => f.endsWith('.ts'))) {
  const { outputText, diagnostics } = ts.transpileModule(readFileSync(`bench/${file}`, 'utf8'), {
    fileName: file,
    reportDiagnostics: true,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ES2022, esModuleInterop: true, isolatedModules: true },
  });
  if (diagnostics?.length) throw new Error(`bench/${file}: ${ts.flattenDiagnosticMessageText(diagnostics[0].messageText, '\n')}`);
  writeFileSync(`dist/bench/${file.replace(/\.ts$/, '.js')}`, outputText.replace(/(\bfrom\s*|\bimport\s*\(\s*)(['"])\.\.\/src\//g, '$1$2../'));
}
