// Build: compile TypeScript to dist/ and generate the precompiled FHIR R4 validators and required bindings (generated/, gitignored).
// Runs on `npm ci` (prepare) so `npm start` and `npm test` work from a fresh clone.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';

execFileSync(process.execPath, ['scripts/gen-r4-validators.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['scripts/gen-r4-bindings.mjs'], { stdio: 'inherit' });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755);
