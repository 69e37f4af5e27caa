// Data folders resolved relative to this file: src/util/*.ts and dist/util/*.js sit at the same depth under the package root.
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
export const mappingsDir = path.join(packageRoot, 'mappings');
export const profilesDir = path.join(packageRoot, 'profiles');
export const messagesDir = path.join(packageRoot, 'messages');
