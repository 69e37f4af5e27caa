// Console sessions, in memory: a random id (the cookie value) → who signed in, a CSRF token for every state-changing
// form, and the last time it was used. The API key itself is never kept: it is resolved to a principal at login.
// A session unused for `idleMs` is gone; a restart signs everyone out (acceptable for an operator page).
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const DEFAULT_IDLE_MS = 30 * 60_000;
/** Bound on live sessions: the oldest is dropped beyond it (a flood of logins cannot exhaust memory). */
export const MAX_SESSIONS = 5_000;

export interface Session {
  /** sha256 of the key signed in with (resolved again on every request: a revoked key ends its sessions). */
  keyHash: string;
  csrf: string;
  lastSeen: number;
  /** One message shown on the next page (after a requeue, a pause…). */
  flash?: string;
}

const token = () => randomBytes(32).toString('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  constructor(private readonly now: () => number, private readonly idleMs = DEFAULT_IDLE_MS, private readonly max = MAX_SESSIONS) {}

  /** A new session for this key hash; its id is the cookie value. */
  create(keyHash: string): { id: string; session: Session } {
    this.sweep();
    while (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const id = token();
    const session: Session = { keyHash, csrf: token(), lastSeen: this.now() };
    this.sessions.set(id, session);
    return { id, session };
  }

  /** The live session of this id (its idle clock restarted), or undefined (unknown or expired: then forgotten). */
  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.sessions.get(id);
    if (!s) return undefined;
    const now = this.now();
    if (now - s.lastSeen > this.idleMs) {
      this.sessions.delete(id);
      return undefined;
    }
    s.lastSeen = now;
    // Re-insert: the map's order stays oldest-used first, which the bound above relies on.
    this.sessions.delete(id);
    this.sessions.set(id, s);
    return s;
  }

  destroy(id: string | undefined): void {
    if (id) this.sessions.delete(id);
  }

  get size(): number {
    return this.sessions.size;
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.sessions) if (now - s.lastSeen > this.idleMs) this.sessions.delete(id);
  }
}

/** Constant-time comparison of a form's CSRF token with the session's. */
export function csrfMatches(session: Session, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
