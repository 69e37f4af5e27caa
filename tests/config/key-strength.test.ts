import { createHash } from 'node:crypto';
import { keyWeakness } from '../../src/config/key-strength.js';
import { loadServiceConfig } from '../../src/config/index.js';

// ADMIN_API_KEY of the service tests (tests/e2e, tests/metrics, tests/security, tests/sync).
const TEST_ADMIN_KEYS = [
  '8RLvUE0dDt1vyLDJ6cWSeD3NMGK4Jobs', 'A8007IqKmhQm9TCqo-3WWQP6y7KQrMDf', 'F1k8FYhJmeKU2fgzuUkXk3L0SUXz3ZeB', 'JM2Y-Ox5gvnWUobd0nQFPLaCmbMaSbYh',
  'eaa1gC_taVtYkdPgFosXH7QH7HLNgwOE', 'mGRcMAc4vB63FkbQfEJ01WnU6ZHxI02T', 'owe2rIFjx9WqQFAcS6kCZPPM5cJlGeZQ',
];

describe('key-strength rule for keys a person gives (ADMIN_API_KEY, keys hash)', () => {
  it('accepts random output like openssl rand -base64 24, -base64 16, -hex 16 and -hex 24 (2,000 fixed samples each)', () => {
    // Fixed pseudo-random bytes (a sha256 chain), not randomBytes: the rule refuses about one random key in 10^5, and a
    // test must not fail once in a while.
    let seed = createHash('sha256').update('key-strength samples').digest();
    const bytes = (n: number) => {
      seed = createHash('sha256').update(seed).digest();
      return seed.subarray(0, n);
    };
    const refused: string[] = [];
    for (let i = 0; i < 2000; i++) {
      for (const key of [bytes(24).toString('base64'), bytes(16).toString('base64url'), bytes(16).toString('hex'), bytes(24).toString('hex')]) {
        if (keyWeakness(key)) refused.push(`${key}: ${keyWeakness(key)}`);
      }
    }
    expect(refused).toEqual([]);
    // The admin keys of the service tests are held to the same rule.
    for (const k of TEST_ADMIN_KEYS) expect(keyWeakness(k)).toBeUndefined();
  });

  it.each([
    ['short-secret', 'too-short'],
    ['0123456789abcdef0123456789', 'too-short'], // hex needs 32 digits for 128 bits
    ['aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'too-few-distinct'],
    ['xyxyxyxyxyxyxyxyxyxyxyxyxyxyxy', 'too-few-distinct'],
    ['xxxxxxxxxxxxxxxxxxxxABCDEFGHIJKL', 'repetitive'],
    ['abcdefghijklmnopqrstuvwxyz0123', 'sequence'],
    ['my super secret key with spaces', 'bad-characters'],
    ['kunci-rahasia-puskesmas-2026!', 'common-word'],
    ['Hx7-admin-Qp2Lm9Zt4Rw8Vy', 'common-word'],
    ['admin-key-0123456789abcdef-xyz', 'sequence'],
    ['Hx7-Password-Qp2Lm9Zt4Rw8Vy', 'common-word'],
    ['demo-admin-key', 'too-short'],
  ])('refuses %s (%s)', (key, why) => {
    expect(keyWeakness(key)).toBe(why);
  });

  it('ADMIN_API_KEY that fails the rule stops the start with the reason, never the key', () => {
    expect(() => loadServiceConfig({ ADMIN_API_KEY: 'Hx7-Password-Qp2Lm9Zt4Rw8Vy' })).toThrow(/ADMIN_API_KEY: contains an easily guessed word/);
    try {
      loadServiceConfig({ ADMIN_API_KEY: 'Hx7-Password-Qp2Lm9Zt4Rw8Vy' });
    } catch (e) {
      expect(String(e)).not.toContain('Qp2Lm9Zt4Rw8Vy');
    }
    expect(loadServiceConfig({ ADMIN_API_KEY: 'q3K9vT2xLw8RbN5mZc7HdJ4s' }).adminApiKey).toBeDefined();
  });
});
