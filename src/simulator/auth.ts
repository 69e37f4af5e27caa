// Token endpoint behaviour: client-credentials tokens, expiry, and the 1 request/min lockout after a failed attempt.
import { randomBytes } from 'node:crypto';
import type { SimulatorClient } from './options.js';

const LOCKOUT_MS = 60_000;

export interface IssuedToken {
  token: string;
  client: SimulatorClient;
  issuedAt: number;
  expiresAt: number;
}

export type TokenAttempt =
  | { kind: 'ok'; issued: IssuedToken; body: Record<string, unknown> }
  | { kind: 'bad-credentials' }
  | { kind: 'locked'; retryAfterS: number };

export type BearerCheck = { kind: 'ok'; token: IssuedToken } | { kind: 'missing' | 'unknown' | 'expired' };

export class TokenService {
  private readonly clients = new Map<string, SimulatorClient>();
  private readonly tokens = new Map<string, IssuedToken>();
  /** client_id → epoch ms until which further attempts are refused. */
  private readonly lockedUntil = new Map<string, number>();
  issuedCount = 0;

  constructor(clients: SimulatorClient[], private readonly expiryS: number, private readonly clock: () => number) {
    for (const c of clients) this.clients.set(c.clientId, c);
  }

  isClient(clientId: string): boolean {
    return this.clients.has(clientId);
  }

  attempt(clientId: string, clientSecret: string): TokenAttempt {
    const now = this.clock();
    const until = this.lockedUntil.get(clientId);
    if (until !== undefined) {
      if (now < until) return { kind: 'locked', retryAfterS: Math.max(1, Math.ceil((until - now) / 1000)) };
      this.lockedUntil.delete(clientId);
    }
    const client = this.clients.get(clientId);
    if (!client || client.clientSecret !== clientSecret) {
      this.lockedUntil.set(clientId, now + LOCKOUT_MS);
      return { kind: 'bad-credentials' };
    }
    if (this.tokens.size > 10_000) this.purgeExpired(now);
    const token = randomBytes(21).toString('base64url');
    const issued: IssuedToken = { token, client, issuedAt: now, expiresAt: now + this.expiryS * 1000 };
    this.tokens.set(token, issued);
    this.issuedCount++;
    // Every value a string, as the platform (Apigee) sends it.
    const body = {
      refresh_token_expires_in: '0',
      api_product_list: '[api-simulator]',
      api_product_list_json: ['api-simulator'],
      organization_name: 'ilp-adapter-simulator',
      'developer.email': 'simulator@localhost',
      token_type: 'BearerToken',
      issued_at: String(now),
      client_id: clientId,
      access_token: token,
      application_name: `simulator-${client.organizationId}`,
      scope: '',
      expires_in: String(this.expiryS),
      refresh_count: '0',
      status: 'approved',
    };
    return { kind: 'ok', issued, body };
  }

  checkBearer(header: string | undefined): BearerCheck {
    const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!m) return { kind: 'missing' };
    const t = this.tokens.get(m[1]);
    if (!t) return { kind: 'unknown' };
    if (this.clock() >= t.expiresAt) return { kind: 'expired' };
    return { kind: 'ok', token: t };
  }

  private purgeExpired(now: number): void {
    for (const [k, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(k);
  }
}
