// Build: compile TypeScript to dist/. Runs on `npm ci` (prepare) so `npm start` works from a fresh clone.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';

execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
if (existsSync('dist/cli/main.js')) chmodSync('dist/cli/main.js', 0o755);
