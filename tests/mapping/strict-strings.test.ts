// Strict strings and real offsets in source records: control characters (tab/CR/LF excepted), lone surrogates and bidi controls are
// rejected at the field that holds them, in every string field of every sample; messages name the code point and position, never the text.
import { checkVisit, mapVisit } from '../../src/mapping/index.js';
import { stringProblem, stringProblems } from '../../src/util/strict-strings.js';
import type { Issue } from '../../src/validation/outcome.js';
import { NOW, samples, sample, tables, walk } from './helpers.js';

type Mutable = Record<string, any>;

function errorsOf(record: unknown): Issue[] {
  const res = mapVisit(record, tables, { now: NOW });
  expect(res.bundle).toBeUndefined();
  expect(res.entries).toEqual([]);
  expect(checkVisit(record, tables, { now: NOW })).toEqual(res.issues);
  return res.issues.filter((i) => i.severity === 'error');
}

/** Sets the value at a helper path such as `patient.address.line` or `immunizations[0].lotNumber`. */
function setAt(record: Mutable, path: string, value: unknown): void {
  const keys = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  let cur = record;
  for (const k of keys.slice(0, -1)) cur = cur[k];
  cur[keys[keys.length - 1]] = value;
}

const BAD: Array<[string, string, RegExp]> = [
  ['NUL', '\u0000', /contains a control character \(U\+0000\) at position 5; remove it$/],
  ['a C0 control (ESC)', '\u001b', /contains a control character \(U\+001B\) at position 5/],
  ['DEL', '\u007f', /contains a control character \(U\+007F\) at position 5/],
  ['a C1 control', '\u0085', /contains a control character \(U\+0085\) at position 5/],
  ['a lone high surrogate', '\ud83d', /contains a broken character \(a lone UTF-16 surrogate, U\+D83D\) at position 5/],
  ['a lone low surrogate', '\ude00', /contains a broken character \(a lone UTF-16 surrogate, U\+DE00\) at position 5/],
  ['RLO (U+202E)', '\u202e', /contains a bidirectional control character \(U\+202E\) at position 5/],
  ['LRE (U+202A)', '\u202a', /contains a bidirectional control character \(U\+202A\) at position 5/],
  ['RLI (U+2067)', '\u2067', /contains a bidirectional control character \(U\+2067\) at position 5/],
  ['PDI (U+2069)', '\u2069', /contains a bidirectional control character \(U\+2069\) at position 5/],
  ['RLM (U+200F)', '\u200f', /contains a bidirectional control character \(U\+200F\) at position 5/],
  ['ALM (U+061C)', '\u061c', /contains a bidirectional control character \(U\+061C\) at position 5/],
];

describe('strict strings', () => {
  it.each([
    ['patient.name'], ['patient.address.line'], ['kader.name'], ['practitioner.name'], ['immunizations[0].lotNumber'], ['patient.address.rt'],
  ])('rejects every forbidden character class in %s, at the field, without echoing the text', (path) => {
    for (const [, ch, text] of BAD) {
      const r = sample('infant-posyandu-immunization') as unknown as Mutable;
      const secret = `Budi${ch}Santoso`;
      setAt(r, path, secret);
      const errors = errorsOf(r);
      const at = errors.filter((e) => e.expression?.[0] === path);
      expect(at).toHaveLength(1);
      // rt has a digits pattern: the schema error stands for it; free-text fields get the character's own message.
      if (path !== 'patient.address.rt') expect(at[0].diagnostics).toMatch(new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')} ${text.source}`));
      expect(JSON.stringify(errors)).not.toMatch(/Budi|Santoso/);
    }
  });

  it('rejects a NUL in every string field of every sample, at that field', () => {
    let fields = 0;
    for (const s of samples) {
      for (const [path, v] of walk(s.record)) {
        if (typeof v !== 'string') continue;
        fields++;
        const r = structuredClone(s.record) as unknown as Mutable;
        setAt(r, path, `${v}\u0000`);
        const errors = errorsOf(r);
        expect({ path, at: errors.filter((e) => e.expression?.[0] === path).length }).toEqual({ path, at: 1 });
        for (const e of errors) {
          expect(e.diagnostics).not.toContain('\u0000');
          // Personal text (names, NIKs, address lines) is never repeated.
          if (/name|nik|Nik|line|ihsNumber/.test(path)) expect(e.diagnostics).not.toContain(v);
        }
      }
    }
    expect(fields).toBeGreaterThan(200);
  });

  it('accepts tab, CR and LF (FHIR strings allow them), paired surrogates and ordinary non-ASCII text', () => {
    const r = sample('infant-posyandu-immunization') as unknown as Mutable;
    r.patient.address.line = 'Jl. Cikutra No. 12\r\nGang\tMawar';
    r.patient.name = 'Ñoman Dewi Ayu 😀 Ş';
    r.kader.name = 'محمد';
    const res = mapVisit(r, tables, { now: NOW });
    expect(res.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(res.bundle).toBeDefined();
  });

  it('reports a control character only once when the schema already faults the field (a code with a pattern)', () => {
    const r = sample('infant-posyandu-immunization') as unknown as Mutable;
    r.locationCode = 'POSY\u0000';
    const errors = errorsOf(r).filter((e) => e.expression?.[0] === 'locationCode');
    expect(errors).toHaveLength(1);
  });

  it('does not look inside unknown fields (they are reported once, unnamed)', () => {
    const r = sample('infant-posyandu-immunization') as unknown as Mutable;
    r.patient['Budi Santoso'] = 'x\u0000';
    const errors = errorsOf(r);
    expect(errors.map((e) => e.expression?.[0])).toEqual(['patient']);
    expect(JSON.stringify(errors)).not.toContain('Budi');
  });

  it('counts positions in characters, not UTF-16 units', () => {
    expect(stringProblem('😀😀\u0000')).toBe('contains a control character (U+0000) at position 3');
    expect(stringProblem('ab\ud800')).toBe('contains a broken character (a lone UTF-16 surrogate, U+D800) at position 3');
    expect(stringProblem('plain text\t\r\n')).toBeUndefined();
  });
});

describe('UTC offsets', () => {
  it.each([['+14:59'], ['+15:00'], ['-13:00'], ['-12:01'], ['+07:60'], ['+99:00']])('rejects %s at the field', (offset) => {
    const r = sample('infant-posyandu-immunization') as unknown as Mutable;
    r.start = `2026-10-05T08:30:00${offset}`;
    const errors = errorsOf(r).filter((e) => e.expression?.[0] === 'start');
    expect(errors).toHaveLength(1);
    expect(errors[0].diagnostics).toMatch(/from -12:00 to \+14:00/);
  });

  it('rejects an out-of-range offset in diagnoses[].onset too', () => {
    const r = { ...sample('elderly-screening'), diagnoses: [{ code: 'I10', onset: '2026-01-05T08:00:00+14:30' }] };
    expect(errorsOf(r).map((e) => e.expression?.[0])).toEqual(['diagnoses[0].onset']);
  });

  it.each([['+14:00'], ['-12:00'], ['+05:45'], ['Z']])('accepts %s', (offset) => {
    const r = sample('infant-posyandu-immunization') as unknown as Mutable;
    const t = offset === '+14:00' ? '2026-10-05T14:30:00+14:00' : `2026-10-05T08:30:00${offset}`;
    r.start = t;
    r.end = '2026-10-06T09:10:00+07:00';
    for (const im of r.immunizations) delete im.givenAt;
    const errors = mapVisit(r, tables, { now: NOW }).issues.filter((i) => i.severity === 'error' && i.expression?.[0] === 'start');
    expect(errors).toEqual([]);
  });
});

describe('stringProblems (the quick walk first asks whether anything is suspect)', () => {
  it('finds a problem deeper than the quick walk goes, in arrays and objects, and none in clean text of any depth', () => {
    let deep: unknown = { name: 'x\u0000y' };
    for (let d = 0; d < 120; d++) deep = d % 2 ? [deep, 'ok'] : { a: deep, b: 'é ok' };
    const found = stringProblems({ top: deep });
    expect(found).toHaveLength(1);
    expect(found[0][0]).toMatch(/^\/top(\/0\/a){60}\/name$/);
    expect(found[0][1].key).toBe('source.string.control');
    let clean: unknown = 'fine';
    for (let d = 0; d < 120; d++) clean = d % 2 ? [clean] : { a: clean, n: 1, t: true, z: null };
    expect(stringProblems({ top: clean })).toEqual([]);
  });

  it('still skips the pointers it is told to skip, with the suspect string there and elsewhere', () => {
    const value = { known: 'ok', unknown: { x: 'bad\u202e' }, list: ['fine', 'bad\ud800'] };
    expect(stringProblems(value, new Set(['/unknown'])).map(([pointer]) => pointer)).toEqual(['/list/1']);
    expect(stringProblems(value).map(([pointer]) => pointer)).toEqual(['/unknown/x', '/list/1']);
  });
});
