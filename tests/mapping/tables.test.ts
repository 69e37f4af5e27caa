// The tables drive the mapping (a new key needs no code), the loader rejects broken tables, and the small pure helpers behave.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Immunization, Observation } from 'fhir/r4.js';
import { checkVisit, deterministicUuid, loadMappingTables, mapVisit, parseDateTime, unconfirmedValues, type MappingTables } from '../../src/mapping/index.js';
import { copyOfMappingTables, NOW, sample, tables } from './helpers.js';

describe('table-driven mapping', () => {
  it('maps a measurement key that exists only in an in-memory copy of the tables', () => {
    const copy: MappingTables = {
      ...tables,
      observations: {
        ...tables.observations,
        entries: {
          ...tables.observations.entries,
          'calf-circumference': {
            display: 'Lingkar betis', loinc: { code: '62409-8', display: 'Calf circumference' }, category: 'exam',
            ucum: { code: 'cm', unit: 'cm' }, units: { cm: {}, mm: { factor: 0.1 } }, decimals: 1, range: { min: 10, max: 80 },
            confidence: 'UNV', source: 'test',
          },
        },
      },
    };
    const record = sample('elderly-screening');
    record.measurements!.push({ code: 'calf-circumference', value: 312, unit: 'mm' });
    const res = mapVisit(record, copy, { now: NOW });
    expect(res.issues.filter((i) => i.severity === 'error')).toEqual([]);
    // Measurement Observations come first, in record order (findings follow them).
    const last = res.entries.filter((e) => e.key.startsWith('observation/')).at(record.measurements!.length - 1)!;
    expect(last.key).toBe('observation/calf-circumference.1');
    const obs = last.resource as Observation;
    expect(obs.code.coding).toEqual([{ system: 'http://loinc.org', code: '62409-8', display: 'Calf circumference' }]);
    expect(obs.valueQuantity).toEqual({ value: 31.2, unit: 'cm', system: 'http://unitsofmeasure.org', code: 'cm' });
    expect(obs.category![0].coding![0].code).toBe('exam');
    // the shipped tables are untouched: the same record is rejected there
    expect(checkVisit(record, tables, { now: NOW }).map((i) => i.expression![0])).toEqual([`measurements[${record.measurements!.length - 1}].code`]);
  });

  it('maps a vaccine key and reason rule that exist only in a copy of the tables', () => {
    const copy: MappingTables = {
      ...tables,
      vaccines: {
        ...tables.vaccines,
        entries: {
          ...tables.vaccines.entries,
          'COVID-19': {
            display: 'COVID-19', products: [{ code: '93004035', confidence: 'OFF' }], defaultProduct: '93004035',
            groups: [{ code: 'VG213', display: 'COVID-19', confidence: 'OFF' }], maxDose: 4,
            reason: { default: 'IM-Khusus', rules: [{ when: { minAgeMonths: 720 }, reason: 'IM-Program' }] }, confidence: 'OFF', source: 'test',
          },
        },
      },
    };
    const record = sample('adult-ptm-screening');
    record.immunizations = [{ vaccine: 'COVID-19', dose: 3, status: 'completed', source: 'administered', lotNumber: 'L1', expirationDate: '2027-01-01' }];
    const res = mapVisit(record, copy, { now: NOW });
    const im = res.entries.find((e) => e.key === 'immunization/COVID-19.1')!.resource as Immunization;
    expect(im.vaccineCode.coding!.map((c) => c.code)).toEqual(['93004035', 'VG213']);
    expect(im.reasonCode![0].coding![0].code).toBe('IM-Khusus');
  });

  it('derives the reason from the table rules by dose, age and gender, and lets the record override it', () => {
    const reason = (rec: ReturnType<typeof sample>, i: number) =>
      ((mapVisit(rec, tables, { now: NOW }).bundle!.entry!.filter((e) => e.resource!.resourceType === 'Immunization')[i].resource) as Immunization)
        .reasonCode![0].coding![0].code;
    expect(reason(sample('infant-posyandu-immunization'), 0)).toBe('IM-Dasar'); // DPT-HB-Hib 1
    expect(reason(sample('toddler-growth-monitoring'), 0)).toBe('IM-Baduta'); // DPT-HB-Hib 4
    expect(reason(sample('toddler-growth-monitoring'), 1)).toBe('IM-Baduta'); // MR 2
    expect(reason(sample('pregnant-anc'), 0)).toBe('IM-WUS'); // Td, woman 28 y
    expect(reason(sample('school-screening-bias'), 1)).toBe('IM-SD'); // Td, girl 11 y
    expect(reason(sample('school-screening-bias'), 0)).toBe('IM-SD'); // HPV
    const campaign = sample('infant-posyandu-immunization');
    campaign.immunizations![0].reason = 'IM-Tambahan';
    expect(reason(campaign, 0)).toBe('IM-Tambahan');
  });

  it('sends the default product for a dose given here, and only the vaccine group for a recalled dose without product', () => {
    const rec = sample('home-visit-dofu');
    const ims = mapVisit(rec, tables, { now: NOW }).bundle!.entry!.filter((e) => e.resource!.resourceType === 'Immunization').map((e) => e.resource as Immunization);
    expect(ims[0].vaccineCode.coding!.map((c) => c.code)).toEqual(['93005779', 'VG03', '4']); // MR administered: default product + group + CVX
    expect(ims[2].vaccineCode.coding!.map((c) => c.code)).toEqual(['VG17', 'VG45', 'VG107', '198']); // DPT-HB-Hib recalled
  });
});

describe('loadMappingTables', () => {
  let dir: string;
  beforeEach(() => {
    dir = copyOfMappingTables();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const edit = (file: string, fn: (j: any) => void) => {
    const p = path.join(dir, file);
    const j = JSON.parse(readFileSync(p, 'utf8'));
    fn(j);
    writeFileSync(p, JSON.stringify(j));
  };

  it('loads the shipped tables, each with a version and per-entry confidence and source', () => {
    const t = loadMappingTables(dir);
    for (const tbl of [t.observations, t.vaccines, t.settings, t.systems, t.diagnoses]) expect(tbl.version).toMatch(/\S/);
    for (const e of [...Object.values(t.observations.entries), ...Object.values(t.vaccines.entries), ...Object.values(t.settings.entries)]) {
      expect(['OFF', 'OFF-copy', 'OFF-draft', 'COM', 'UNV']).toContain(e.confidence);
      expect(e.source).toMatch(/\S/);
    }
    expect(Object.keys(t.observations.entries)).toEqual(expect.arrayContaining([
      'body-weight', 'body-height', 'body-length', 'head-circumference', 'mid-upper-arm-circumference', 'waist-circumference', 'bmi',
      'systolic-bp', 'diastolic-bp', 'heart-rate', 'respiratory-rate', 'body-temperature', 'oxygen-saturation', 'blood-glucose-random',
      'blood-glucose-fasting', 'cholesterol-total', 'hemoglobin', 'birth-weight', 'fundal-height',
    ]));
    expect(Object.keys(t.vaccines.entries)).toEqual(['HB0', 'BCG', 'OPV', 'IPV', 'DPT-HB-Hib', 'DPT-HB-Hib-IPV', 'PCV', 'RV', 'MR', 'JE', 'DT', 'Td', 'HPV']);
  });

  it('rejects a table whose entry lacks confidence, and a default product not in the list', () => {
    edit('observations.json', (j) => delete j.entries['body-weight'].confidence);
    edit('vaccines.json', (j) => (j.entries.BCG.defaultProduct = '93000000'));
    expect(() => loadMappingTables(dir)).toThrow(/observations\.json body-weight: confidence must be one of[\s\S]*vaccines\.json BCG: defaultProduct must be one of products/);
  });

  it('rejects a missing version, an unknown category and an unreadable file', () => {
    edit('settings.json', (j) => delete j.version);
    edit('observations.json', (j) => (j.entries.bmi.category = 'vitals'));
    expect(() => loadMappingTables(dir)).toThrow(/settings\.json: missing "version"[\s\S]*bmi: category "vitals"/);
    writeFileSync(path.join(dir, 'systems.json'), '{ not json');
    expect(() => loadMappingTables(dir)).toThrow(/systems\.json cannot be read/);
  });
});

describe('helpers', () => {
  it('converts local times with any offset to UTC +00:00, dropping fractions of a second', () => {
    expect(parseDateTime('2026-10-05T08:30:00+07:00')!.utc).toBe('2026-10-05T01:30:00+00:00');
    expect(parseDateTime('2026-10-05T08:30+08:00')!.utc).toBe('2026-10-05T00:30:00+00:00');
    expect(parseDateTime('2026-01-01T03:00:00.987+09:00')!.utc).toBe('2025-12-31T18:00:00+00:00');
    expect(parseDateTime('2026-10-05T01:30:00Z')!.utc).toBe('2026-10-05T01:30:00+00:00');
    expect(parseDateTime('2026-10-05T08:30:00')).toBeUndefined();
    expect(parseDateTime('2026-02-29T08:30:00+07:00')).toBeUndefined();
    expect(parseDateTime('2028-02-29T08:30:00+07:00')!.localDate).toBe('2028-02-29');
    expect(parseDateTime('2026-10-05T24:00:00+07:00')).toBeUndefined();
  });

  it('makes RFC 4122 version-5 UUIDs that are stable and separate their parts', () => {
    const a = deterministicUuid('10000004', 'V1', 'encounter');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicUuid('10000004', 'V1', 'encounter')).toBe(a);
    expect(deterministicUuid('10000004', 'V1', 'patient')).not.toBe(a);
    expect(deterministicUuid('ab', 'c')).not.toBe(deterministicUuid('a', 'bc'));
  });
});

describe('unconfirmedValues', () => {
  it('lists every [COM]/[UNV]/draft value of the tables for the sandbox checklist, and no official one', () => {
    const list = unconfirmedValues(tables);
    const paths = list.map((u) => u.path);
    expect(paths).toEqual(expect.arrayContaining([
      'observations.hemoglobin', 'observations.blood-glucose-random', 'observations.body-length', 'vaccines.IPV', 'vaccines.IPV.groups[0]',
      'settings.posyandu', 'settings.home-visit', 'systems.codes.immunizationReasons.IM-Baduta',
    ]));
    expect(paths).not.toContain('observations.body-weight');
    expect(paths).not.toContain('vaccines.DPT-HB-Hib');
    expect(list.find((u) => u.path === 'observations.hemoglobin')).toMatchObject({ confidence: 'UNV', value: '718-7' });
    expect(list.every((u) => u.confidence !== 'OFF')).toBe(true);
  });
});
