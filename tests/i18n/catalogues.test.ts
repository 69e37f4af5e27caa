import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { catalogueAreas, DEFAULT_LOCALE, loadCatalogue, LOCALES, messages, negotiateLocale, placeholdersOf, translate } from '../../src/i18n/index.js';

describe('message catalogues', () => {
  const areas = catalogueAreas();

  it('exist, and every message of every area has Bahasa Indonesia and English with the same placeholders', () => {
    expect(areas).toContain('visit-state');
    for (const area of areas) {
      const cat = loadCatalogue(area);
      expect(cat.size).toBeGreaterThan(0);
      for (const [key, text] of cat) {
        for (const l of LOCALES) expect(text[l].trim()).not.toBe('');
        expect({ area, key, placeholders: placeholdersOf(text.en) }).toEqual({ area, key, placeholders: placeholdersOf(text.id) });
      }
    }
  });

  it('a file missing a language is refused when loaded (a build defect, not a blank text)', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ilp-msg-'));
    writeFileSync(path.join(dir, 'x.json'), JSON.stringify({ a: { id: 'satu' } }));
    expect(() => loadCatalogue('x', dir)).toThrow(/a has no en text/);
  });

  it('fills placeholders and refuses a missing key or parameter', () => {
    const cat = loadCatalogue('visit-state');
    expect(translate(cat, 'id', 'hold.quota', { at: '2026-12-01T00:00:00.000Z' })).toBe('Kunjungan ini menunggu karena kuota SATUSEHAT fasilitas ini habis sampai 2026-12-01T00:00:00.000Z.');
    expect(translate(cat, 'en', 'hold.quota', { at: 'X' })).toBe("It waits because this facility's SATUSEHAT quota is used up until X.");
    expect(() => translate(cat, 'id', 'hold.quota')).toThrow(/parameter at missing/);
    expect(() => messages('visit-state')('id', 'no.such.key')).toThrow(/no message no.such.key/);
  });

  it('negotiates Accept-Language: Indonesian by default, English when preferred, q-values honoured', () => {
    expect(DEFAULT_LOCALE).toBe('id');
    expect(negotiateLocale(undefined)).toBe('id');
    expect(negotiateLocale('')).toBe('id');
    expect(negotiateLocale('fr-FR, de')).toBe('id');
    expect(negotiateLocale('en')).toBe('en');
    expect(negotiateLocale('en-GB')).toBe('en');
    expect(negotiateLocale('id-ID,id;q=0.9,en;q=0.8')).toBe('id');
    expect(negotiateLocale('id;q=0.3, en;q=0.7')).toBe('en');
    expect(negotiateLocale('en;q=0, id')).toBe('id');
    expect(negotiateLocale('en;q=abc')).toBe('id');
    expect(negotiateLocale('x'.repeat(600))).toBe('id');
  });
});
