// CSV export of the lists: RFC 4180 quoting, a header row, formula-injection safe cells, asked for by Accept or _format.
import { csvCell, toCsv, VISIT_COLUMNS } from '../../src/app/csv.js';
import { A, harness, visits } from './harness.js';

describe('csvCell / toCsv', () => {
  it('quotes commas, quotes and line breaks, and prefixes formula starts with an apostrophe', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell(3)).toBe('3');
    expect(csvCell(undefined)).toBe('');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${start}1+1`).startsWith(`'${start}`) || csvCell(`${start}1+1`).startsWith(`"'${start}`)).toBe(true);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('2026/10/0001')).toBe('2026/10/0001');
    expect(toCsv([{ key: 'a', value: (r: { a: string }) => r.a }], [{ a: 'x' }, { a: '-2' }])).toBe("a\r\nx\r\n'-2\r\n");
  });
});

describe('CSV over HTTP', () => {
  it('answers a list as CSV for Accept: text/csv and for ?_format=csv, with the next page in X-Next-Cursor', async () => {
    const h = harness();
    await h.push(A, visits(A, 3)).expect(202);
    await h.push(A, { ...visits(A, 1)[0], visitId: '2026/10/0001', setting: 'kapal' }).expect(422);
    const byAccept = await h.get('/ilp/visits?_count=2', A).set('Accept', 'text/csv').expect(200);
    expect(byAccept.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(byAccept.headers['content-disposition']).toBe('attachment; filename="visits.csv"');
    const lines = byAccept.text.split('\r\n');
    expect(lines[0]).toBe(VISIT_COLUMNS.map((c) => c.key).join(','));
    expect(lines).toHaveLength(4); // header, 2 rows, and the empty string after the last CRLF
    expect(lines[1]).toMatch(new RegExp(`^${A},V-${A}-\\d+,1,queued,0,`));
    expect(byAccept.text).not.toMatch(/3273\d{12}|Pasien Uji/);
    const next = await h.get(`/ilp/visits?_count=2&_format=csv&cursor=${byAccept.headers['x-next-cursor']}`, A).expect(200);
    expect(next.text.split('\r\n')).toHaveLength(3);
    expect(next.headers).not.toHaveProperty('x-next-cursor');

    const rejections = await h.get('/ilp/rejections?_format=csv', A).expect(200);
    expect(rejections.text.split('\r\n')[0]).toBe('organizationId,visitId,at,issues');
    expect(rejections.text).toContain(`${A},2026/10/0001,`);
    expect(rejections.text).toMatch(/setting: value: /);
    const facilities = await h.get('/ilp/facilities', 'admin').set('Accept', 'text/csv;q=1, application/json;q=0.5').expect(200);
    expect(facilities.text.split('\r\n')[0]).toBe('organizationId,name,status,queued,sending,sent,needs-correction,blocked,dead-letter,oldestWaitingSince,lastSentAt,quotaLastHour,explanation');
    // JSON stays the default, also for */*.
    expect((await h.get('/ilp/visits', A).set('Accept', '*/*').expect(200)).body.items).toHaveLength(3);
  });

  it('keeps JSON-only routes JSON-only: CSV asked elsewhere is 406', async () => {
    const h = harness();
    await h.get(`/ilp/facilities/${A}?_format=csv`, A).expect(406);
    await h.get(`/ilp/facilities/${A}`, A).set('Accept', 'text/csv').expect(406);
    await h.get('/ilp/visits?_format=xml', A).expect(406);
  });
});
