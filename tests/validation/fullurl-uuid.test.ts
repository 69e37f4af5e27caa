// Rule 20019 (fullUrl must be urn:uuid:{uuid}) is checked by hand for speed: it must accept exactly what the UUID pattern accepts.
import { checkBundle } from '../../src/validation/bundle-rules.js';

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const good = '0b8c7a52-3f1e-5d2a-9c4b-6e7f8a9b0c1d';

function flagged(uuid: string): boolean {
  const out: Parameters<typeof checkBundle>[2] = [];
  checkBundle({ resourceType: 'Bundle', type: 'transaction', entry: [{ fullUrl: `urn:uuid:${uuid}`, resource: { resourceType: 'Basic' }, request: { method: 'POST', url: 'Basic' } }] }, 'Bundle', out);
  return out.some((i) => i.rule === '20019');
}

it('flags a fullUrl UUID exactly when the 8-4-4-4-12 hex pattern (either case) rejects it', () => {
  const cases = [
    good, good.toUpperCase(), good.slice(0, 35), `${good}0`, `${good} `, '',
    good.replace('-', '0'), `${good.slice(0, 8)}0${good.slice(9)}`, good.replace('0b', 'g0'), good.replace('0b', '0/'), good.replace('0b', '0:'),
    good.replace('0b', '0@'), good.replace('0b', '0G'), good.replace('0b', '0`'), '--------------------------------1234', `${good.slice(0, 13)}-${good.slice(14)}`,
  ];
  // Every single-character change of the good UUID to each printable ASCII character, too.
  for (let i = 0; i < good.length; i++) for (let c = 32; c < 127; c++) cases.push(good.slice(0, i) + String.fromCharCode(c) + good.slice(i + 1));
  for (const u of cases) expect([u, flagged(u)]).toEqual([u, !UUID_PATTERN.test(u)]);
});
