// The logging surface the platform module needs; a pino logger fits it. Callers log only method, resource type, status,
// duration and error class: never URLs (they carry NIKs), bodies, tokens or secrets.
export interface PlatformLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

const noop = (): void => undefined;
export const silentLogger: PlatformLogger = { debug: noop, info: noop, warn: noop };
