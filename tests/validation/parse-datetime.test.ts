// epochMsOf must be Date.parse, whatever the string: the hand-parsed shape and everything that falls back.
import { epochMsOf } from '../../src/validation/parse-datetime.js';

describe('epochMsOf = Date.parse', () => {
  test('a grid of full date-times (years, months, days, times, fractions, offsets)', () => {
    let n = 0;
    const wrong: string[] = [];
    for (const y of ['0999', '1000', '1970', '2000', '2022', '2024', '2099', '9999']) {
      for (const mo of ['00', '01', '02', '09', '12', '13']) {
        for (const d of ['00', '01', '15', '28', '29', '30', '31', '32']) {
          for (const t of ['00:00:00', '23:59:59', '12:34:56', '24:00:00', '23:60:00', '23:59:60', '1a:00:00']) {
            for (const frac of ['', '.0', '.123', '.1234', '.999', '.x12']) {
              for (const z of ['Z', '+00:00', '-00:00', '+07:00', '-03:30', '+14:00', '+14:59', '+15:00', '+23:59', '+24:00', '+07:60', '+0700', 'z', '']) {
                const s = `${y}-${mo}-${d}T${t}${frac}${z}`;
                if (!Object.is(epochMsOf(s), Date.parse(s))) wrong.push(s);
                n++;
              }
            }
          }
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(n).toBeGreaterThan(100_000);
  });

  test.each([
    '', 'x', '2024-01-01', '2024-01-01T00:00Z', '2024-01-01T00:00:00', '2024-01-01 00:00:00Z', '2024-01-01T00:00:00+07', ' 2024-01-01T00:00:00Z',
    '2024-01-01T00:00:00Z ', '+002024-01-01T00:00:00Z', '2024/01/01T00:00:00Z', '2024-01-01t00:00:00Z', '2024-01-01T00:00:00.12Z', '2024-01-01T00:00:00.123+07:00',
    '2024-01-01T00:00:00.123-07:00x', '٢٠٢٤-01-01T00:00:00Z', '2024-01-01T00:00:00\u0000Z', '2024-1-01T00:00:00+00:00',
  ])('%j', (s) => {
    expect(epochMsOf(s)).toEqual(Date.parse(s));
  });
});
