// deterministicUuid computes SHA-1 itself (speed); these pin it to node:crypto's sha1 byte for byte, across block boundaries and
// non-ASCII input, so every fullUrl stays what it was.
import { createHash } from 'node:crypto';
import { deterministicUuid } from '../../src/mapping/uuid.js';

const NAMESPACE = Buffer.from('4f0c7b1e9a3d4c58b2e61d7f3a9c0e25', 'hex');

/** The reference: RFC 4122 v5 layout over node:crypto's sha1 of namespace ‖ parts joined by U+001F. */
function reference(...parts: string[]): string {
  const h = createHash('sha1').update(NAMESPACE).update(parts.join('\u001f'), 'utf8').digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

describe('deterministicUuid', () => {
  it('equals the node:crypto sha1 construction for every name length from 0 to 300 bytes (one to six SHA-1 blocks)', () => {
    for (let n = 0; n <= 300; n++) {
      const visitId = 'V'.repeat(n);
      expect(deterministicUuid(visitId)).toBe(reference(visitId));
    }
  });

  it('equals it for the ids a Bundle uses and for non-ASCII text (UTF-8, surrogate pairs)', () => {
    const cases: string[][] = [
      ['10000004', 'V1', 'encounter'],
      ['10000004', 'PKM-2026-000123', 'observation', 'body-weight', '0'],
      ['10000004', 'kunjungan-ibu-é', 'patient'],
      ['10000004', 'Ω≈ç√∫', 'immunization', '2'],
      ['org', '😀 visit', 'retraction'],
      ['x'.repeat(40), 'é'.repeat(30), 'z'],
      [],
      [''],
    ];
    for (const parts of cases) expect(deterministicUuid(...parts)).toBe(reference(...parts));
  });

  it('gives the same id after a long name (the scratch buffer is reused)', () => {
    const a = deterministicUuid('10000004', 'V1', 'encounter');
    deterministicUuid('y'.repeat(5000));
    expect(deterministicUuid('10000004', 'V1', 'encounter')).toBe(a);
  });

  it('stays equal when consecutive names share their first SHA-1 block (the state after it is reused) and when they do not', () => {
    const wrong: string[] = [];
    for (let n = 20; n <= 60; n++) {
      const visit = 'V'.repeat(n);
      for (const key of ['observation/body-weight.1', 'observation/body-height.1', 'observation/x', 'observatio', 'observation', 'patient', 'observation/body-weight.1']) {
        if (deterministicUuid('10000004', visit, key) !== reference('10000004', visit, key)) wrong.push(`${n}/${key}`);
      }
    }
    expect(wrong).toEqual([]);
  });
});
