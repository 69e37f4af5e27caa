// deterministicUuid computes SHA-1 itself (speed); these pin it to node:crypto's sha1 byte for byte, across block boundaries and
// non-ASCII input, so every fullUrl stays what it was.
import { createHash } from 'node:crypto';
import { deterministicUuid, visitFullUrls } from '../../src/mapping/uuid.js';

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

describe('visitFullUrls (one visit\'s fullUrls, the prefix encoded once, each key hashed once)', () => {
  const keys = ['patient', 'encounter', 'condition/Z00.1', 'observation/body-weight.1', 'observation/weight-for-age.1', 'observation/body-weight.1', 'immunization/BCG.1', 'é-key', '😀', ''];

  it('gives urn:uuid: + deterministicUuid for every prefix length around the block boundaries, non-ASCII ids and keys included', () => {
    const wrong: string[] = [];
    for (let n = 0; n <= 140; n++) {
      for (const visit of ['V'.repeat(n), `${'é'.repeat(n >> 2)}-${n}`]) {
        const url = visitFullUrls('10000004', visit);
        for (const key of keys) if (url(key) !== `urn:uuid:${reference('10000004', visit, key)}`) wrong.push(`${visit}/${key}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('stays right when namers of two visits and deterministicUuid take turns on the shared scratch, and after a long key', () => {
    const a = visitFullUrls('10000004', 'VISIT-A-2026-0001');
    const b = visitFullUrls('10000005', 'VISIT-B');
    const expected = (org: string, visit: string, key: string) => `urn:uuid:${reference(org, visit, key)}`;
    expect(a('observation/body-weight.1')).toBe(expected('10000004', 'VISIT-A-2026-0001', 'observation/body-weight.1'));
    expect(b('observation/body-weight.1')).toBe(expected('10000005', 'VISIT-B', 'observation/body-weight.1'));
    expect(deterministicUuid('x', 'y')).toBe(reference('x', 'y'));
    expect(a('observation/body-height.1')).toBe(expected('10000004', 'VISIT-A-2026-0001', 'observation/body-height.1'));
    expect(a('k'.repeat(3000))).toBe(expected('10000004', 'VISIT-A-2026-0001', 'k'.repeat(3000)));
    expect(a('encounter')).toBe(expected('10000004', 'VISIT-A-2026-0001', 'encounter'));
    expect(b('encounter')).toBe(expected('10000005', 'VISIT-B', 'encounter'));
    // Asked again: the same string, not hashed again.
    expect(a('observation/body-weight.1')).toBe(expected('10000004', 'VISIT-A-2026-0001', 'observation/body-weight.1'));
  });
});
