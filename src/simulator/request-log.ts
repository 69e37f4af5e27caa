// Request log without PII: identifier values, names and any 16-digit run (NIK) are redacted before anything is kept.
export interface RequestLogEntry {
  at: string;
  method: string;
  /** Path and query with identifier values, names, birth dates and NIK-like numbers redacted. */
  path: string;
  clientId?: string;
  /** HTTP status sent; 0 when the socket was destroyed without an answer. */
  status: number;
  /** Fault or limit that shaped the answer, if any. */
  fault?: 'error5xx' | 'throttled' | 'timeout' | 'drop-after-commit' | 'quota' | 'auth-lockout';
  durationMs: number;
}

const NIK_RE = /\d{16}/g;
const REDACT_PARAMS = new Set(['name', 'birthdate', 'given', 'family', 'telecom', 'phone', 'address']);

export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const pathPart = (q < 0 ? url : url.slice(0, q)).replace(NIK_RE, '#'.repeat(16));
  if (q < 0) return pathPart;
  const params = new URLSearchParams(url.slice(q + 1));
  const out: string[] = [];
  for (const [k, v] of params) {
    let val: string;
    if (k === 'identifier') {
      const bar = v.indexOf('|');
      val = bar >= 0 ? `${v.slice(0, bar)}|***` : '***';
    } else if (REDACT_PARAMS.has(k)) val = '***';
    else val = v.replace(NIK_RE, '#'.repeat(16));
    out.push(`${k}=${val}`);
  }
  return `${pathPart}?${out.join('&')}`;
}

/** Fixed-size ring buffer, so a long benchmark run does not grow memory. */
export class RequestLog {
  private readonly buf: RequestLogEntry[] = [];
  private next = 0;
  constructor(private readonly size: number) {}
  push(e: RequestLogEntry): void {
    if (this.size <= 0) return;
    if (this.buf.length < this.size) this.buf.push(e);
    else this.buf[this.next] = e;
    this.next = (this.next + 1) % this.size;
  }
  entries(): RequestLogEntry[] {
    return this.buf.length < this.size ? [...this.buf] : [...this.buf.slice(this.next), ...this.buf.slice(0, this.next)];
  }
}
