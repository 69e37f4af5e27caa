import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  DataKeyConfigError, loadDataKeys, parseDataKeys, plainRecordCodec, recordAad, RecordKeyring, RecordSealError, sealedKeyId,
} from '../../src/store/record-codec.js';
import { renderRef } from '../../src/i18n/issues.js';

const key = () => randomBytes(32);
const AAD = recordAad('10000004', 'V1');
const BODY = JSON.stringify({ patient: { nik: '3273010508269931', name: 'Siti Aminah' } });

function sealError(run: () => unknown): RecordSealError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(RecordSealError);
    return e as RecordSealError;
  }
  throw new Error('expected a RecordSealError');
}

describe('record codec (AES-256-GCM keyring)', () => {
  const k1 = key();
  const ring = new RecordKeyring([['k1', k1]]);

  it('round-trips a body; the stored form names the key and holds no clear text; each seal uses a fresh IV', () => {
    const stored = ring.seal(BODY, AAD);
    expect(stored).toMatch(/^enc:v1:k1:[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/);
    expect(stored).not.toContain('3273010508269931');
    expect(sealedKeyId(stored)).toBe('k1');
    expect(ring.open(stored, AAD)).toBe(BODY);
    expect(ring.seal(BODY, AAD)).not.toBe(stored);
  });

  it('refuses a body altered anywhere (ciphertext, tag, IV, key id)', () => {
    const stored = ring.seal(BODY, AAD);
    const [, , , iv, body] = stored.split(':') as [string, string, string, string, string];
    const bytes = Buffer.from(body, 'base64');
    for (const i of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 1;
      expect(sealError(() => ring.open(`enc:v1:k1:${iv}:${flipped.toString('base64')}`, AAD)).fault).toBe('tampered');
    }
    const ivBytes = Buffer.from(iv, 'base64');
    ivBytes[0]! ^= 1;
    expect(sealError(() => ring.open(`enc:v1:k1:${ivBytes.toString('base64')}:${body}`, AAD)).fault).toBe('tampered');
    // Another key id of the same ring: the header is authenticated too.
    const two = new RecordKeyring([['k1', k1], ['k0', k1]]);
    expect(sealError(() => two.open(stored.replace('enc:v1:k1:', 'enc:v1:k0:'), AAD)).fault).toBe('tampered');
    expect(sealError(() => ring.open('enc:v1:k1:AAAA', AAD)).fault).toBe('format');
    expect(sealError(() => ring.open('enc:v9:k1:a:b', AAD)).fault).toBe('format');
  });

  it('refuses a body moved to another row (wrong associated data), naming the key id and nothing of the content', () => {
    const stored = ring.seal(BODY, AAD);
    for (const other of [recordAad('10000004', 'V2'), recordAad('10000005', 'V1'), recordAad('1000000', '4\u0000V1')]) {
      const err = sealError(() => ring.open(stored, other));
      expect(err).toMatchObject({ fault: 'tampered', keyId: 'k1' });
      expect(err.message).toContain('"k1"');
      expect(err.message).not.toContain('Siti');
    }
  });

  it('rotation: the newest key seals, older keys still open; a body under a key not in the ring names that key', () => {
    const old = ring.seal(BODY, AAD);
    const rotated = new RecordKeyring([['k2', key()], ['k1', k1]]);
    expect(rotated.currentKeyId).toBe('k2');
    expect(rotated.open(old, AAD)).toBe(BODY);
    const fresh = rotated.seal(BODY, AAD);
    expect(sealedKeyId(fresh)).toBe('k2');
    expect(sealError(() => ring.open(fresh, AAD))).toMatchObject({ fault: 'key-missing', keyId: 'k2' });
    // A body with the same key id but another key (a key file swapped by mistake) fails authentication.
    expect(sealError(() => new RecordKeyring([['k1', key()]]).open(old, AAD)).fault).toBe('tampered');
  });

  it('every way a body cannot be opened carries a catalogue message whose English is the error text, with the key id', () => {
    const stored = ring.seal(BODY, AAD);
    const iv = stored.split(':')[3]!;
    const cases: Array<[string, () => unknown]> = [
      ['unknown-format', () => ring.open('enc:v9:k1', AAD)],
      ['key-missing', () => new RecordKeyring([['k2', key()]]).open(stored, AAD)],
      ['truncated', () => ring.open(`enc:v1:k1:${iv}:AAAA`, AAD)],
      ['tampered', () => ring.open(stored, recordAad('10000004', 'V2'))],
      ['no-keys', () => plainRecordCodec.open(stored, AAD)],
    ];
    for (const [reason, run] of cases) {
      const err = sealError(run);
      expect(err.ref?.key).toBe(`store-open.record.${reason}`);
      expect(renderRef('en', err.ref!)).toBe(err.message);
      expect(renderRef('id', err.ref!)).not.toBe(err.message);
      if (reason !== 'unknown-format') expect(renderRef('id', err.ref!)).toContain('"k1"');
    }
  });

  it('opens plain bodies written before encryption; the plain codec refuses sealed ones', () => {
    expect(ring.open(BODY, AAD)).toBe(BODY);
    expect(plainRecordCodec.seal(BODY, AAD)).toBe(BODY);
    expect(sealError(() => plainRecordCodec.open(ring.seal(BODY, AAD), AAD))).toMatchObject({ fault: 'key-missing', keyId: 'k1' });
  });

  it('parses DATA_KEYS (commas or lines, # comments) newest first; bad entries are named without the key material', () => {
    const a = key().toString('base64');
    const b = key().toString('base64');
    expect(parseDataKeys(`new:${a},old:${b}`, 'DATA_KEYS').keyIds).toEqual(['new', 'old']);
    expect(parseDataKeys(`# keys, newest first\nnew:${a}  # added 2026-12\nold:${b}\n`, 'f').currentKeyId).toBe('new');
    const short = randomBytes(16).toString('base64');
    for (const [text, says] of [[`k1:${short}`, 'k1 must be 32 bytes'], [`k1:${a},k1:${b}`, 'listed twice'], [a, 'entry 1 is not'], ['', 'no data key'], [`bad id:${a}`, 'data key id']] as const) {
      let message = '';
      try {
        parseDataKeys(text, 'DATA_KEYS');
      } catch (e) {
        expect(e).toBeInstanceOf(DataKeyConfigError);
        message = (e as Error).message;
      }
      expect(message).toContain(says);
      expect(message).not.toContain(a);
      expect(message).not.toContain(short);
    }
  });

  describe('loadDataKeys', () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ilp-data-keys-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('generates <dataDir>/data-keys once (0600), then reads it', () => {
      const first = loadDataKeys({}, path.join(dir, 'data'));
      expect(first.origin).toBe('generated');
      expect(fs.statSync(first.file!).mode & 0o777).toBe(0o600);
      expect(fs.statSync(path.join(dir, 'data')).mode & 0o777).toBe(0o700);
      const again = loadDataKeys({}, path.join(dir, 'data'));
      expect(again).toMatchObject({ origin: 'file', file: first.file });
      expect(again.keyring.currentKeyId).toBe(first.keyring.currentKeyId);
      const stored = first.keyring.seal(BODY, AAD);
      expect(again.keyring.open(stored, AAD)).toBe(BODY);
    });

    it('DATA_KEYS wins over a key file; DATA_KEY_FILE names another file, refused when others may read it', () => {
      const file = path.join(dir, 'elsewhere.keys');
      fs.writeFileSync(file, `f1:${key().toString('base64')}\n`, { mode: 0o600 });
      expect(loadDataKeys({ DATA_KEYS: `e1:${key().toString('base64')}`, DATA_KEY_FILE: file }, dir)).toMatchObject({ origin: 'env' });
      expect(loadDataKeys({ DATA_KEY_FILE: file }, dir)).toMatchObject({ origin: 'file', file });
      expect(fs.existsSync(path.join(dir, 'data-keys'))).toBe(false);
      fs.chmodSync(file, 0o644);
      expect(() => loadDataKeys({ DATA_KEY_FILE: file }, dir)).toThrow(/readable by other local users \(mode 0644\); chmod 600/);
      expect(() => loadDataKeys({ DATA_KEY_FILE: path.join(dir, 'missing') }, dir)).toThrow(/cannot read the data key file \(ENOENT\)/);
    });
  });
});
