// Console sessions, in the store (ConsoleSessionStore), so an operator stays signed in whichever instance answers and
// through a restart: a random id (the cookie value) → who signed in, a CSRF token for every state-changing form, and the
// last time it was used. The store keeps only the sha256 of the id (a database reader cannot take a session over) and
// the hash of the API key, never the key: it is resolved to a principal again on every request.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ConsoleSessionStore } from '../store/types.js';

export const DEFAULT_IDLE_MS = 30 * 60_000;
/** Bound on live sessions over every instance: the least recently seen is dropped beyond it (a flood of logins cannot fill the store). */
export const MAX_SESSIONS = 5_000;
/**
 * How old the written last use must be before a request rewrites it. Every console request reads its session; writing
 * it on each would make every page view a database write (and on SQLite take the file's write lock). The price: a
 * session may end up to this much earlier than the idle time after its real last use.
 */
export const TOUCH_MS = 30_000;

export interface Session {
  /** sha256 of the key signed in with (resolved again on every request: a revoked key ends its sessions). */
  keyHash: string;
  csrf: string;
  lastSeen: number;
  /** One message shown on the next page (after a requeue, a pause…). */
  flash?: string;
}

const token = () => randomBytes(32).toString('base64url');
/** What the store keys a session by: the cookie value's sha256. */
const idHashOf = (id: string) => createHash('sha256').update(id).digest('hex');

export class SessionStore {
  private readonly touchMs: number;

  constructor(private readonly store: ConsoleSessionStore, private readonly now: () => number, private readonly idleMs = DEFAULT_IDLE_MS,
    private readonly max = MAX_SESSIONS) {
    // A short idle time (tests, a strict site) still gets its clock restarted well before it runs out.
    this.touchMs = Math.max(1, Math.min(TOUCH_MS, Math.floor(idleMs / 2)));
  }

  /** A new session for this key hash; its id (fresh at every sign-in) is the cookie value. */
  async create(keyHash: string): Promise<{ id: string; session: Session }> {
    const id = token();
    const session: Session = { keyHash, csrf: token(), lastSeen: this.now() };
    await this.store.createConsoleSession(idHashOf(id), session, this.idleMs, this.max, session.lastSeen);
    return { id, session };
  }

  /**
   * The live session of this id (its idle clock restarted), or undefined (unknown or expired: then forgotten). Its flash
   * is taken: cleared in the store, handed back here once for the page about to be shown.
   */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id) return undefined;
    const idHash = idHashOf(id);
    const s = await this.store.getConsoleSession(idHash, this.idleMs, this.touchMs, this.now());
    if (s?.flash !== undefined) await this.store.clearConsoleFlash(idHash, s.flash);
    return s;
  }

  /** The message the session's next page shows. */
  async flash(id: string, text: string): Promise<void> {
    await this.store.setConsoleFlash(idHashOf(id), text);
  }

  /** Ends the session on every instance. */
  async destroy(id: string | undefined): Promise<void> {
    if (id) await this.store.deleteConsoleSession(idHashOf(id));
  }

  /** Live sessions over every instance. */
  count(): Promise<number> {
    return this.store.countConsoleSessions(this.idleMs, this.now());
  }
}

/** Constant-time comparison of a form's CSRF token with the session's. */
export function csrfMatches(session: Session, given: unknown): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(given);
  return a.length === b.length && timingSafeEqual(a, b);
}
