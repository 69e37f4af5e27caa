// The vaccine table changes of 2026.12.0 (hexavalent, rotavirus programme default, DT products, HB0 default): each entry mapped
// and validated, its dose limits, and the schedule checks (reason rules, latest age) the mapper applies.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Condition, Immunization } from 'fhir/r4.js';
import { loadMappingTables, mapVisit, unconfirmedValues, type VisitRecord } from '../../src/mapping/index.js';
import { createValidator } from '../../src/validation/index.js';
import type { Issue } from '../../src/validation/outcome.js';
import { copyOfMappingTables, NOW, sample, tables } from './helpers.js';

type Dose = NonNullable<VisitRecord['immunizations']>[number];
const validator = createValidator();
const errors = (issues: Issue[]) => issues.filter((i) => i.severity === 'error');

/** The infant sample (2 months old at the visit) with only the given immunizations. */
function infant(doses: Partial<Dose>[], birthDate?: string): VisitRecord {
  const r = sample('infant-posyandu-immunization');
  const template = r.immunizations![0];
  r.immunizations = doses.map((d) => ({ ...template, productCode: undefined, ...d }) as Dose).map((d) => {
    if (d.productCode === undefined) delete d.productCode;
    return d;
  });
  if (birthDate) r.patient.birthDate = birthDate;
  return r;
}

/** Maps and validates: no error in the mapping nor in the validated Bundle; returns the Immunizations and the issues about them
 *  (the sample's own warnings about the unknown IHS number and Location id are not this file's subject). */
function mapped(r: VisitRecord): { ims: Immunization[]; issues: Issue[]; conditions: Condition[] } {
  const res = mapVisit(r, tables, { now: NOW });
  expect(errors(res.issues)).toEqual([]);
  expect(errors(validator.validate(res.bundle, { now: NOW }))).toEqual([]);
  const of = (t: string) => res.bundle!.entry!.map((e) => e.resource!).filter((x) => x.resourceType === t);
  const issues = res.issues.filter((i) => i.expression?.[0]?.startsWith('immunizations'));
  return { ims: of('Immunization') as Immunization[], issues, conditions: of('Condition') as Condition[] };
}
const codes = (im: Immunization) => im.vaccineCode.coding!.map((c) => c.code);
const reason = (im: Immunization) => im.reasonCode![0].coding![0].code;

function refused(r: VisitRecord, at: string, text: RegExp): void {
  const res = mapVisit(r, tables, { now: NOW });
  expect(res.bundle).toBeUndefined();
  const hits = errors(res.issues).filter((i) => i.expression?.[0] === at);
  expect(hits.map((h) => h.diagnostics)).toEqual([expect.stringMatching(text)]);
}

describe('DPT-HB-Hib-IPV (hexavalent)', () => {
  test('doses 1-3 map to the four vaccine groups, IM-Dasar, and validate', () => {
    const { ims, conditions } = mapped(infant([{ vaccine: 'DPT-HB-Hib-IPV', dose: 1 }]));
    expect(codes(ims[0])).toEqual(['VG17', 'VG45', 'VG107', 'VG89']); // no product confirmed: groups only, no CVX
    expect(reason(ims[0])).toBe('IM-Dasar');
    expect(ims[0].protocolApplied![0].doseNumberPositiveInt).toBe(1);
    expect(conditions.map((c) => c.code!.coding![0].code)).toContain('Z27.8'); // a combined vaccine
    for (const dose of [2, 3]) expect(mapped(infant([{ vaccine: 'DPT-HB-Hib-IPV', dose }])).ims[0].protocolApplied![0].doseNumberPositiveInt).toBe(dose);
  });

  test('dose 4 is refused (the 18-month booster is DPT-HB-Hib 4), as is a repeated dose', () => {
    refused(infant([{ vaccine: 'DPT-HB-Hib-IPV', dose: 4 }]), 'immunizations[0].dose', /above the last dose of DPT-HB-Hib-IPV \(3\)/);
    refused(infant([{ vaccine: 'DPT-HB-Hib-IPV', dose: 1 }, { vaccine: 'DPT-HB-Hib-IPV', dose: 1 }]), 'immunizations[1].dose', /repeats dose 1/);
    expect(mapped(infant([{ vaccine: 'DPT-HB-Hib', dose: 4 }])).ims).toHaveLength(1);
  });

  test('a productCode is refused while no KFA product is confirmed, saying what to do', () => {
    refused(infant([{ vaccine: 'DPT-HB-Hib-IPV', dose: 1, productCode: '93001282' }]), 'immunizations[0].productCode', /no KFA product of DPT-HB-Hib-IPV is confirmed yet; leave productCode out/);
  });
});

describe('RV (rotavirus)', () => {
  test('a programme dose without product sends the vaccine group only (not the private Rotarix product), doses 1-3', () => {
    for (const dose of [1, 2, 3]) {
      const { ims, issues } = mapped(infant([{ vaccine: 'RV', dose }]));
      expect(codes(ims[0])).toEqual(['VG122']);
      expect(reason(ims[0])).toBe('IM-Dasar');
      expect(issues).toEqual([]);
    }
    refused(infant([{ vaccine: 'RV', dose: 4 }]), 'immunizations[0].dose', /above the last dose of RV \(3\)/);
  });

  test('private products stay accepted as IM-Pilihan; Rotarix is a 2-dose series', () => {
    const rotarix = mapped(infant([{ vaccine: 'RV', dose: 2, productCode: '93001652' }])).ims[0];
    expect(codes(rotarix)).toEqual(['93001652', 'VG122']);
    expect(reason(rotarix)).toBe('IM-Pilihan');
    refused(infant([{ vaccine: 'RV', dose: 3, productCode: '93001652' }]), 'immunizations[0].dose', /above the last dose of product 93001652 \(a 2-dose series\)/);
    const rotateq = mapped(infant([{ vaccine: 'RV', dose: 3, productCode: '93001653' }])).ims[0];
    expect(reason(rotateq)).toBe('IM-Pilihan');
  });

  test('a dose from the 7-month birthday on is mapped with a warning (last dose by 6 months 29 days)', () => {
    // Visit 2026-10-05: born 2026-03-06 → 6 completed months; born 2026-03-05 → 7.
    expect(mapped(infant([{ vaccine: 'RV', dose: 3 }], '2026-03-06')).issues).toEqual([]);
    const late = mapped(infant([{ vaccine: 'RV', dose: 3 }], '2026-03-05'));
    expect(late.ims).toHaveLength(1);
    expect(late.issues).toEqual([expect.objectContaining({ severity: 'warning', expression: ['immunizations[0]'], diagnostics: expect.stringMatching(/RV dose 3 was given at 7 months, later than the schedule allows \(every dose before the 7-month birthday\); it is still reported/) })]);
    // A not-done entry is not a dose: no warning.
    const notDone = infant([{ vaccine: 'RV', dose: 3, status: 'not-done', notDoneReason: 'postponed', lotNumber: undefined, expirationDate: undefined, timing: undefined, funding: undefined }], '2026-03-05');
    for (const d of notDone.immunizations!) for (const k of Object.keys(d) as (keyof Dose)[]) if (d[k] === undefined) delete d[k];
    expect(mapped(notDone).issues).toEqual([]);
  });
});

describe('DT and Td products', () => {
  test('the two Td-strength codes are no longer DT products; they map as Td', () => {
    const school = sample('school-screening-bias');
    const td = school.immunizations!.findIndex((d) => d.vaccine === 'Td');
    school.immunizations![td] = { ...school.immunizations![td], vaccine: 'DT', dose: 1, productCode: '93001640' };
    refused(school, `immunizations[${td}].productCode`, /'93001640' is not a KFA product of DT; use one of 93001642$/);

    school.immunizations![td].productCode = '93001642';
    expect(codes(mapped(school).ims[td])).toEqual(['93001642']);

    for (const code of ['93001640', '93001641']) {
      const s = sample('school-screening-bias');
      s.immunizations![td].productCode = code;
      const im = mapped(s).ims[td];
      expect(codes(im)).toEqual([code, 'VG139']);
      expect(reason(im)).toBe('IM-SD');
    }
  });
});

describe('HB0', () => {
  test('the default for a birth dose given here is the Uniject product, not the adult 20 ug/1 mL presentation', () => {
    const r = infant([{ vaccine: 'HB0', dose: 1 }], '2026-10-05');
    const im = mapped(r).ims[0];
    expect(codes(im)).toEqual(['93023161', 'VG45']);
    expect(reason(im)).toBe('IM-Dasar');
    expect(tables.vaccines.entries.HB0.defaultProduct).not.toBe('93003730');
    // A record naming the adult product is still mapped as recorded.
    expect(codes(mapped(infant([{ vaccine: 'HB0', dose: 1, productCode: '93003730' }], '2026-10-05')).ims[0])).toEqual(['93003730', 'VG45']);
    refused(infant([{ vaccine: 'HB0', dose: 2 }], '2026-10-05'), 'immunizations[0].dose', /above the last dose of HB0 \(1\)/);
  });
});

describe('the unconfirmed list and the table loader', () => {
  test('the new unverified values are listed for the sandbox', () => {
    const paths = unconfirmedValues(tables).map((u) => u.path);
    expect(paths).toEqual(expect.arrayContaining(['vaccines.DPT-HB-Hib-IPV', 'vaccines.DPT-HB-Hib-IPV.groups[3]', 'vaccines.HB0.products[0]', 'vaccines.RV.groups[0]']));
    expect(unconfirmedValues(tables).find((u) => u.path === 'vaccines.HB0.products[0]')?.value).toBe('93023161');
  });

  test('refuses an entry without default product and without groups, a product maxDose above the series, an unknown reason-rule product', () => {
    const dir = copyOfMappingTables();
    try {
      const file = path.join(dir, 'vaccines.json');
      const j = JSON.parse(readFileSync(file, 'utf8'));
      j.entries['DPT-HB-Hib-IPV'].groups = [];
      j.entries.RV.products[0].maxDose = 4;
      j.entries.RV.reason.rules[0].when.products.push('93009999');
      writeFileSync(file, JSON.stringify(j));
      expect(() => loadMappingTables(dir)).toThrow(/DPT-HB-Hib-IPV: an entry without defaultProduct needs vaccine groups[\s\S]*RV: product 93001652 maxDose must be an integer 1\.\.3[\s\S]*RV: reason rule product 93009999 is not one of products/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
