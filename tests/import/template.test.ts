// The template table: header aliases, cell parsing (dates, decimal comma, units, value maps, vaccines), the derived
// visitId, and that a new template is only a table.
import { derivedVisitId, FORMULA, utcOffsetOn, loadTemplate, parseTemplate, resolveHeader, rowToRecord, TemplateError, type HeaderMap, type ImportTemplate } from '../../src/app/import-template.js';
import { HEADER, ID_KEY, ORG, row } from './helpers.js';

const posyandu = loadTemplate('posyandu');
const ctx = { organizationId: ORG, idKey: ID_KEY };
const headerOf = (t: ImportTemplate, cells: string[]) => {
  const h = resolveHeader(t, cells);
  if ('kind' in h) throw new Error(h.kind);
  return h;
};
const recordOf = (t: ImportTemplate, h: HeaderMap, cells: (string | number | Date | null | typeof FORMULA)[]) => {
  const r = rowToRecord(t, h, cells, ctx);
  if (r.status !== 'record') throw new Error(JSON.stringify(r.problems));
  return r.record as Record<string, any>;
};
const problemsOf = (h: HeaderMap, cells: unknown[]) => {
  const r = rowToRecord(posyandu, h, cells as never, ctx);
  return r.status === 'problems' ? r.problems : [];
};
const H = headerOf(posyandu, HEADER);

describe('posyandu template', () => {
  it('reads a register row into a visit record', () => {
    const rec = recordOf(posyandu, H, row(0));
    expect(rec).toMatchObject({
      organizationId: ORG, setting: 'posyandu', locationCode: 'POSY-MAWAR-01', start: '2026-10-05T09:15:00+07:00', end: '2026-10-05T09:30:00+07:00',
      patient: { nik: '3273016712240003', name: 'Aisyah Putri Ramadhani', birthDate: '2024-12-27', gender: 'female', citizenship: 'WNI',
        address: { line: 'Jl. Cikutra No. 12', provinceCode: '32', cityCode: '3273', districtCode: '327301', villageCode: '3273011001', rt: '3', rw: '7' } },
      practitioner: { ihsNumber: '10014058550', name: 'Sheila, A.Md.Kep' }, kader: { name: 'Ibu Sri Mulyani' },
      findings: [{ code: 'tb-symptom-screening', value: 'bukan-terduga' }],
    });
    expect(rec.measurements).toEqual([
      { code: 'body-weight', value: 9.8, unit: 'kg' }, { code: 'body-length', value: 79.4, unit: 'cm', position: 'lying' },
      { code: 'head-circumference', value: 46.2, unit: 'cm' }, { code: 'mid-upper-arm-circumference', value: 14.6, unit: 'cm' },
    ]);
    expect(rec.immunizations).toEqual([
      { vaccine: 'DPT-HB-Hib', dose: 4, status: 'completed', source: 'administered', givenAt: '2026-10-05T09:15:00+07:00', lotNumber: '2058124', expirationDate: '2027-06-30' },
      { vaccine: 'MR', dose: 2, status: 'completed', source: 'administered', givenAt: '2026-10-05T09:15:00+07:00', lotNumber: 'MR-0626-203', expirationDate: '2027-02-28' },
    ]);
    expect(H.notImported).toEqual(['Vitamin A']);
  });

  it('matches headers by alias, ignoring case, spaces and punctuation (e-PPGBM / e-Posyandu spellings)', () => {
    const renamed = HEADER.map((h) => ({ NIK: 'NIK_ANAK', Nama: 'NAMA_LENGKAP', 'Tgl Lahir': 'TANGGAL_LAHIR', JK: 'JENIS_KELAMIN', 'Tanggal Kunjungan': 'Tanggal Pengukuran', BB: 'Berat', 'PB/TB': 'Tinggi', LK: 'LINGKAR_KEPALA' } as Record<string, string>)[h] ?? h);
    const h = headerOf(posyandu, [...renamed, 'Kolom Lain']);
    expect(recordOf(posyandu, h, row(0))).toEqual(recordOf(posyandu, H, row(0)));
    expect(h.unknown).toEqual(['Kolom Lain']);
  });

  it('refuses a header without a required column, with a column twice, or with too many columns', () => {
    expect(resolveHeader(posyandu, HEADER.filter((c) => c !== 'Tgl Lahir'))).toEqual({ kind: 'file.missing-columns', params: { columns: 'Tanggal Lahir' } });
    expect(resolveHeader(posyandu, [...HEADER, 'Berat Badan'])).toMatchObject({ kind: 'file.duplicate-column', params: { column: 'Berat Badan' } });
    expect(resolveHeader(posyandu, Array.from({ length: 500 }, (_, i) => `c${i}`))).toMatchObject({ kind: 'file.too-many-columns' });
  });

  it('reads dd/mm/yyyy and yyyy-mm-dd, decimal comma or point, grams above 100, and standing height', () => {
    const a = recordOf(posyandu, H, row(1, { 'Tgl Lahir': '2023-03-15', 'Tanggal Kunjungan': '5-10-2026', BB: '12100', 'PB/TB': '91.5', 'Cara Ukur': 'berdiri' }));
    expect(a.patient.birthDate).toBe('2023-03-15');
    expect(a.start).toBe('2026-10-05T09:40:00+07:00');
    expect(a.measurements.slice(0, 2)).toEqual([{ code: 'body-weight', value: 12100, unit: 'g' }, { code: 'body-height', value: 91.5, unit: 'cm', position: 'standing' }]);
  });

  it('names the column of each bad cell; nothing half-converted', () => {
    const p = problemsOf(H, row(0, { 'Tgl Lahir': '31/02/2024', BB: '9,8,1', JK: 'X', 'Cara Ukur': '', Imunisasi: 'Vaksin Baru 1', Nama: '' }));
    expect(p.map((x) => [x.column, x.kind])).toEqual([
      ['Tgl Lahir', 'cell.date'], ['JK', 'cell.code'], ['BB', 'cell.number'], ['Imunisasi', 'cell.vaccine'],
      ['Nama', 'cell.required'], ['Cara Ukur', 'cell.needs'],
    ]);
  });

  it('refuses formulas, huge cells and a NIK that a number cell has rounded', () => {
    const cells: unknown[] = row(0);
    cells[HEADER.indexOf('BB')] = FORMULA;
    cells[HEADER.indexOf('Nama')] = '=HYPERLINK("http://x","y")';
    cells[HEADER.indexOf('Alamat')] = 'x'.repeat(100_000);
    cells[HEADER.indexOf('NIK')] = 9171016712240003; // above 2^53: a number cell no longer holds it exactly
    expect(problemsOf(H, cells).map((x) => [x.column, x.kind])).toEqual([
      ['NIK', 'cell.nik-number'], ['Nama', 'cell.formula'], ['Alamat', 'cell.too-long'], ['BB', 'cell.formula'],
    ]);
  });

  it('refuses a row with many more cells than headers', () => {
    expect(problemsOf(H, [...row(0), ...Array.from({ length: 30 }, () => 'x')]).map((x) => x.kind)).toEqual(['row.too-many-cells']);
    expect(problemsOf(H, [...row(0), 'catatan'])).toEqual([]);
  });

  it('takes an infant without NIK by NIK ibu + anak ke, and asks for one of them when both are missing', () => {
    expect(recordOf(posyandu, H, row(2)).patient).toMatchObject({ motherNik: '3273014101950004', birthOrder: 1 });
    expect(problemsOf(H, row(2, { 'NIK Ibu': '' })).map((x) => [x.column, x.kind])).toEqual([['NIK', 'row.identity']]);
  });

  it('writes register times in the time zone of the facility (WITA, WIT), the offset of the template otherwise', () => {
    const wita = rowToRecord(posyandu, H, row(0), { ...ctx, timeZone: 'Asia/Makassar' });
    const wit = rowToRecord(posyandu, H, row(0), { ...ctx, timeZone: 'Asia/Jayapura' });
    expect(wita.status === 'record' && wita.record.start).toBe('2026-10-05T09:15:00+08:00');
    expect(wit.status === 'record' && wit.record.end).toBe('2026-10-05T09:30:00+09:00');
    expect(utcOffsetOn('Asia/Jakarta', '2026-10-05')).toBe('+07:00');
  });

  it('derives the visitId from template, facility, child and visit date: stable, without the NIK, changed by any of them', () => {
    const id = recordOf(posyandu, H, row(0)).visitId as string;
    expect(id).toMatch(/^posyandu-20261005-[A-Za-z0-9]{22}$/);
    expect(id).not.toContain('3273016712240003');
    expect(recordOf(posyandu, H, row(0, { BB: '10,1', Nama: 'Aisyah P.' })).visitId).toBe(id);
    expect(recordOf(posyandu, H, row(0, { 'Tanggal Kunjungan': '06/10/2026' })).visitId).not.toBe(id);
    expect(derivedVisitId('posyandu', '10000005', 'nik:3273016712240003', '2026-10-05', ID_KEY)).not.toBe(id);
    expect(derivedVisitId('posyandu', ORG, 'nik:3273016712240003', '2026-10-05', Buffer.alloc(32, 8))).not.toBe(id);
  });
});

describe('a new template is a table', () => {
  const bumil = parseTemplate({
    name: 'kunjungan-sederhana', version: '1', setting: 'posyandu',
    defaults: { citizenship: 'WNI', time: '10:00', utcOffset: '+08:00', durationMinutes: 30 },
    columns: [
      { key: 'nik', header: 'No KTP', type: 'nik', target: 'patient.nik' },
      { key: 'name', header: 'Nama Pasien', type: 'text', target: 'patient.name', required: true },
      { key: 'date', header: 'Tgl', type: 'date', target: '$visitDate', required: true },
      { key: 'loc', header: 'Lokasi', type: 'text', target: 'locationCode', required: true },
      { key: 'sex', header: 'Sex', type: 'code', target: 'patient.gender', values: { M: 'male', F: 'female' } },
      { key: 'sbp', header: 'Sistole', type: 'number', target: 'measurement:systolic-bp', unit: 'mm[Hg]' },
    ],
  }, 'inline');

  it('converts its rows with its own headers, defaults and measurement', () => {
    const h = headerOf(bumil, ['No KTP', 'Nama Pasien', 'Tgl', 'Lokasi', 'Sex', 'Sistole']);
    const rec = recordOf(bumil, h, ['3273016712240003', 'Siti', '01/11/2026', 'R-KIA', 'F', '120']);
    expect(rec).toMatchObject({ setting: 'posyandu', locationCode: 'R-KIA', start: '2026-11-01T10:00:00+08:00', end: '2026-11-01T10:30:00+08:00',
      patient: { nik: '3273016712240003', name: 'Siti', gender: 'female' }, measurements: [{ code: 'systolic-bp', value: 120, unit: 'mm[Hg]' }] });
    expect(rec.visitId).toMatch(/^kunjungan-sederhana-20261101-/);
  });

  it('refuses a malformed table, naming the entry', () => {
    expect(() => parseTemplate({ name: 'x', version: '1', setting: 'posyandu', defaults: { citizenship: 'WNI', time: '08:00', utcOffset: '+07:00', durationMinutes: 5 },
      columns: [{ key: 'a', header: 'A', type: 'colour', target: 'patient.name' }] }, 'bad.json')).toThrow(/bad.json: columns\[0\].type/);
    expect(() => loadTemplate('../../package')).toThrow(TemplateError);
    expect(() => loadTemplate('no-such-template')).toThrow(TemplateError);
  });
});
