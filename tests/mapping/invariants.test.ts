// Rule-based checks over every sample: structure of the Bundle, references, dateTimes, nothing empty, and every emitted value traceable to
// the input record or the tables. Also: resolved platform ids replace the placeholders and silence the warnings.
import type { Bundle, Condition, Encounter, Immunization, Observation, Patient } from 'fhir/r4.js';
import { mapVisit, type MapResult, type VisitRecord } from '../../src/mapping/index.js';
import { NOW, sample, samples, tables, walk } from './helpers.js';

const UTC_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00$/;
const utc = (s: string) => new Date(s).toISOString().slice(0, 19) + '+00:00';

/** The record's findings in mapping order: findings[], then each pregnancy field as its finding key. */
function findingsOf(record: VisitRecord): Array<{ code: string; value: unknown }> {
  const fields = Object.entries(tables.findings.pregnancy.fields);
  const preg = (record.pregnancy ?? {}) as Record<string, unknown>;
  return [
    ...(record.findings ?? []).map((f) => ({ code: f.code, value: f.value })),
    ...fields.filter(([field]) => preg[field] !== undefined).map(([field, code]) => ({ code, value: preg[field] })),
  ];
}

const mapped: Array<[string, VisitRecord, MapResult]> = samples.map((s) => [s.name, s.record, mapVisit(s.record, tables, { now: NOW })]);

/** Conversion recomputed independently of the mapper, from the table. */
function expectedValue(code: string, value: number, unit: string): number {
  const e = tables.observations.entries[code];
  const conv = Object.entries(e.units).find(([u]) => u.toLowerCase() === unit.toLowerCase())![1];
  if ((conv.factor ?? 1) === 1 && (conv.offset ?? 0) === 0) return value;
  return Number(((value + (conv.offset ?? 0)) * (conv.factor ?? 1)).toFixed(e.decimals));
}

/** Strings the mapper may emit that come from neither the record nor the tables: FHIR codes fixed by the resource shape. */
const FIXED = new Set([
  'Bundle', 'transaction', 'POST', 'Patient', 'Encounter', 'Observation', 'Immunization', 'official', 'home', 'ID', 'phone', 'mobile',
  'finished', 'arrived', 'in-progress', 'final', 'completed', 'not-done', 'province', 'city', 'district', 'village', 'rt', 'rw', 'Condition',
]);
function tableStrings(): Set<string> {
  const out = new Set<string>();
  for (const t of [tables.observations, tables.findings, tables.vaccines, tables.settings, tables.systems, tables.diagnoses, tables.growth.status]) {
    for (const [, v] of walk(t)) if (typeof v === 'string') out.add(v);
    for (const [p] of walk(t)) out.add(p.split('.').pop()!.replace(/\[\d+\]$/, '')); // keys such as vital-signs, IM-Dasar
  }
  return out;
}
const TABLE_STRINGS = tableStrings();

describe.each(mapped)('invariants: %s', (_name, record, res) => {
  const bundle = res.bundle as Bundle;
  const entries = bundle.entry!;
  const fullUrls = entries.map((e) => e.fullUrl!);
  const byType = <T>(t: string) => entries.filter((e) => e.resource!.resourceType === t).map((e) => e.resource as T);

  it('is a transaction of POSTs with unique urn:uuid fullUrls, ordered Patient?, Encounter, Observations, Immunizations, Conditions', () => {
    expect(bundle.type).toBe('transaction');
    expect(new Set(fullUrls).size).toBe(fullUrls.length);
    for (const e of entries) {
      expect(e.fullUrl).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(e.request).toMatchObject({ method: 'POST', url: e.resource!.resourceType });
    }
    const order = entries.map((e) => e.resource!.resourceType).join(',');
    expect(order).toMatch(/^(Patient,)?Encounter(,Observation)*(,Immunization)*(,Condition)+$/);
    // One Observation per measurement and finding, then the growth Observations (z-scores, weight gain) of a child.
    const growthKeys = new Set([...Object.keys(tables.growth.status.indicators), 'weight-gain'].map((k) => `observation/${k}.1`));
    const observationKeys = res.entries.filter((e) => e.resource.resourceType === 'Observation').map((e) => e.key);
    const ownObservations = (record.measurements?.length ?? 0) + findingsOf(record).length;
    expect(observationKeys.filter((k) => !growthKeys.has(k))).toHaveLength(ownObservations);
    expect(observationKeys.slice(ownObservations).every((k) => growthKeys.has(k))).toBe(true);
    expect(byType('Immunization')).toHaveLength(record.immunizations?.length ?? 0);
    expect(res.entries.map((e) => e.fullUrl)).toEqual(fullUrls);
  });

  it('has every urn:uuid reference resolving inside the Bundle, and other references in a known form', () => {
    for (const [path, v] of walk(bundle)) {
      if (!path.endsWith('.reference') || typeof v !== 'string') continue;
      if (v.startsWith('urn:uuid:')) expect(fullUrls).toContain(v);
      else expect(v).toMatch(/^(Patient|Practitioner|Location|Organization)\/[A-Za-z0-9.-]+$|^(Practitioner|Location)\?identifier=[^|]+\|.+$/);
    }
  });

  it('has no empty strings, arrays or objects, and no null or undefined', () => {
    for (const [path, v] of walk(bundle)) {
      if (v === '' || v === null || v === undefined) throw new Error(`empty value at ${path}`);
      if (Array.isArray(v) && v.length === 0) throw new Error(`empty array at ${path}`);
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0) throw new Error(`empty object at ${path}`);
    }
  });

  it('writes every dateTime as UTC +00:00 and dates as YYYY-MM-DD', () => {
    let seen = 0;
    for (const [path, v] of walk(bundle)) {
      if (typeof v !== 'string') continue;
      if (/^\d{4}-\d{2}-\d{2}T/.test(v)) {
        expect({ path, v, ok: UTC_RE.test(v) }).toEqual({ path, v, ok: true });
        seen++;
      }
      if (/(birthDate|expirationDate)$/.test(path)) expect(v).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    expect(seen).toBeGreaterThan(0);
  });

  it('emits only strings traceable to the record, the tables, the generated fullUrls or fixed FHIR codes', () => {
    const input = new Set<string>();
    for (const [, v] of walk(record)) if (typeof v === 'string') input.add(v);
    const derived = (s: string) =>
      fullUrls.includes(s) || UTC_RE.test(s) ||
      /^(Patient|Practitioner|Location|Organization)\/(.+)$/.test(s) && input.has(s.split('/')[1]) ||
      s.startsWith(`${record.visitId}.`) ||
      /^(Practitioner|Location)\?identifier=/.test(s) || s.startsWith('identifier=') ||
      s.replace(`/${record.organizationId}`, '/{organizationId}') !== s && TABLE_STRINGS.has(s.replace(`/${record.organizationId}`, '/{organizationId}'));
    const stray: string[] = [];
    for (const [path, v] of walk(bundle)) {
      if (typeof v === 'string' && !input.has(v) && !TABLE_STRINGS.has(v) && !FIXED.has(v) && !derived(v)) stray.push(`${path}=${v}`);
    }
    expect(stray).toEqual([]);
  });

  it('traces the Encounter to the record ids and times', () => {
    const [enc] = byType<Encounter>('Encounter');
    const anc = record.pregnancy?.ancVisit;
    expect(enc.identifier).toEqual([
      { system: `http://sys-ids.kemkes.go.id/encounter/${record.organizationId}`, value: record.visitId },
      ...(anc ? [{ system: 'http://terminology.kemkes.go.id/CodeSystem/episodeofcare/ANC', value: anc }] : []),
    ]);
    expect(enc.serviceProvider).toEqual({ reference: `Organization/${record.organizationId}` });
    expect(enc.period).toEqual({ start: utc(record.start), end: utc(record.end) });
    expect(enc.class.code).toBe(record.setting === 'home-visit' ? 'HH' : 'AMB');
    expect(enc.statusHistory!.map((h) => h.status)).toEqual(['arrived', 'in-progress', 'finished']);
  });

  it('traces each Observation value, code and identifier to its measurement', () => {
    const obs = byType<Observation>('Observation');
    const seen = new Map<string, number>();
    (record.measurements ?? []).forEach((m, i) => {
      const n = (seen.get(m.code) ?? 0) + 1;
      seen.set(m.code, n);
      const o = obs[i];
      const e = tables.observations.entries[m.code];
      expect(o.identifier![0].value).toBe(`${record.visitId}.${m.code}.${n}`);
      expect(o.code.coding![0]).toEqual({ system: 'http://loinc.org', code: e.loinc.code, display: e.loinc.display });
      expect(o.valueQuantity).toEqual({ value: expectedValue(m.code, m.value, m.unit), unit: e.ucum.unit, system: 'http://unitsofmeasure.org', code: e.ucum.code });
      expect(o.effectiveDateTime).toBe(utc(m.at ?? record.start));
      expect(o.issued).toBe(utc(record.end));
    });
  });

  it('traces each finding Observation (findings[] first, then the pregnancy fields) to its table entry, after the measurements', () => {
    const obs = byType<Observation>('Observation').slice(record.measurements?.length ?? 0);
    const seen = new Map<string, number>();
    findingsOf(record).forEach(({ code, value }, i) => {
      const n = (seen.get(code) ?? 0) + 1;
      seen.set(code, n);
      const o = obs[i];
      const e = tables.findings.entries[code];
      expect(o.identifier![0].value).toBe(`${record.visitId}.${code}.${n}`);
      expect(o.code.coding!.map((c) => c.code)).toEqual(e.code.map((c) => c.code));
      expect(o.category!.map((c) => c.coding![0].code)).toEqual(e.category);
      if (e.kind === 'coded') {
        const answer = typeof value === 'boolean' ? e.boolean![value ? 'true' : 'false'] : String(value);
        expect(o.valueCodeableConcept!.coding![0].code).toBe(e.answers![answer].code);
      }
      if (e.kind === 'integer') expect(o.valueInteger).toBe(value);
      if (e.kind === 'date') expect(o.valueDateTime).toBe(`${String(value)}T00:00:00+00:00`);
      if (e.kind === 'quantity') expect(o.valueQuantity!.code).toBe(e.ucum!.code);
      expect(o.issued).toBe(utc(record.end));
    });
  });

  it('traces each Immunization to its record entry', () => {
    const ims = byType<Immunization>('Immunization');
    (record.immunizations ?? []).forEach((im, i) => {
      const x = ims[i];
      const v = tables.vaccines.entries[im.vaccine];
      expect(x.status).toBe(im.status);
      expect(x.protocolApplied).toEqual([{ doseNumberPositiveInt: im.dose }]);
      expect(x.occurrenceDateTime).toBe(utc(im.givenAt ?? record.start));
      expect(x.recorded).toBe(utc(record.end));
      expect(x.primarySource).toBe(im.source === 'administered');
      expect(x.lotNumber).toBe(im.status === 'completed' ? im.lotNumber : undefined);
      expect(x.expirationDate).toBe(im.status === 'completed' ? im.expirationDate : undefined);
      expect(x.location !== undefined).toBe(im.status === 'completed'); // rule 10305: every completed dose has a location
      const allowed = new Set([...v.products.map((p) => p.code), ...v.groups.map((g) => g.code), v.cvx?.code, ...v.products.map((p) => p.cvx?.code)]);
      for (const c of x.vaccineCode.coding!) expect(allowed).toContain(c.code);
      if (im.productCode) expect(x.vaccineCode.coding![0].code).toBe(im.productCode);
      if (im.status === 'not-done') expect(x.statusReason!.coding![0].code).toBe(tables.systems.codes.notDoneReasons[im.notDoneReason!].code);
      const fn = x.performer![0].function!.coding![0].code;
      expect(fn).toBe(im.source !== 'administered' ? 'EP' : im.status === 'completed' ? 'AP' : 'OP');
      if (im.source !== 'administered' && record.kader) {
        expect(x.performer![0]).toMatchObject({ function: { text: record.kader.name }, actor: { reference: `Organization/${record.organizationId}` } });
      }
    });
  });

  it('carries at least one diagnosis: each Condition referenced once from Encounter.diagnosis, ranks 1..n, same patient and practitioner', () => {
    const [enc] = byType<Encounter>('Encounter');
    const conds = entries.filter((e) => e.resource!.resourceType === 'Condition');
    expect(conds.length).toBeGreaterThan(0);
    expect(enc.diagnosis!.map((d) => d.condition.reference)).toEqual(conds.map((e) => e.fullUrl));
    expect(enc.diagnosis!.map((d) => d.rank)).toEqual(conds.map((_e, i) => i + 1));
    const encUrl = entries.find((e) => e.resource!.resourceType === 'Encounter')!.fullUrl;
    const codes = new Set<string>();
    conds.forEach((e, i) => {
      const c = e.resource as Condition;
      const code = c.code!.coding![0];
      expect(code.system).toBe('http://hl7.org/fhir/sid/icd-10');
      expect(code.code).toMatch(/^[A-Z]\d{2}(\.\d{1,2})?$/);
      codes.add(code.code!);
      expect(enc.diagnosis![i].use!.coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/diagnosis-role', code: 'DD' });
      expect(c.identifier).toEqual([{ system: `http://sys-ids.kemkes.go.id/condition/${record.organizationId}`, value: `${record.visitId}.dx.${code.code}` }]);
      expect(c.category![0].coding![0]).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis' });
      expect(c.clinicalStatus!.coding![0].system).toBe('http://terminology.hl7.org/CodeSystem/condition-clinical');
      expect(c.subject).toEqual(enc.subject);
      expect(c.encounter).toEqual({ reference: encUrl });
      expect(c.recorder).toEqual(enc.participant![0].individual && { reference: enc.participant![0].individual.reference });
      expect(c.recordedDate).toBe(utc(record.end));
    });
    expect(codes.size).toBe(conds.length);
    const sent = record.diagnoses;
    if (sent) expect([...codes].sort()).toEqual(sent.map((d) => d.code).sort());
  });

  it('includes the Patient only when its IHS number is unknown, with its identifiers from the record', () => {
    const p = record.patient;
    const pats = byType<Patient>('Patient');
    expect(pats).toHaveLength(p.ihsNumber ? 0 : 1);
    expect(res.patient!.identifier![0].value).toBe(p.nik ?? p.motherNik);
    expect(res.patient!.birthDate).toBe(p.birthDate);
    expect(res.patient!.multipleBirthInteger).toBe(p.birthOrder ?? 0);
    const enc = byType<Encounter>('Encounter')[0];
    expect(enc.subject!.reference).toBe(p.ihsNumber ? `Patient/${p.ihsNumber}` : entries[0].fullUrl);
  });

  it('warns once per platform id still to resolve, at the source field', () => {
    const warn = res.issues.filter((i) => i.severity === 'warning');
    expect(warn.every((w) => w.code === 'incomplete')).toBe(true);
    const expected = [
      ...(record.patient.ihsNumber ? [] : [record.patient.nik ? 'patient.nik' : 'patient.motherNik']),
      ...(record.practitioner.ihsNumber ? [] : ['practitioner.nik']),
      'locationCode',
    ];
    expect(warn.map((w) => w.expression![0])).toEqual(expected);
  });
});

describe('resolved platform ids (how sync calls the mapper)', () => {
  const resolved = { patient: 'P02478375538', practitioner: '10009880728', location: 'ef011065-38c9-46f8-9c35-d1fe68966a3e' };

  it.each(samples.map((s) => [s.name, s.record] as const))('%s: references use the ids; no Patient entry, no conditional reference, no warning', (_n, record) => {
    const res = mapVisit(record, tables, { now: NOW, resolved });
    expect(res.issues).toEqual([]);
    const entries = res.bundle!.entry!;
    expect(entries.some((e) => e.resource!.resourceType === 'Patient')).toBe(false);
    expect(res.patient?.resourceType).toBe('Patient');
    const refs = [...walk(res.bundle)].filter(([p, v]) => p.endsWith('.reference') && typeof v === 'string').map(([, v]) => v as string);
    expect(refs.some((r) => r.includes('?'))).toBe(false);
    expect(refs).toContain(`Patient/${resolved.patient}`);
    expect(refs).toContain(`Location/${resolved.location}`);
    for (const r of refs) if (r.startsWith('Practitioner/')) expect(r).toBe(`Practitioner/${resolved.practitioner}`);
    for (const r of refs) if (r.startsWith('urn:uuid:')) expect(entries.map((e) => e.fullUrl)).toContain(r);
  });

  it('keeps the other fullUrls identical whether or not the Patient entry is present', () => {
    const record = sample('elderly-screening');
    const a = mapVisit(record, tables, { now: NOW });
    const b = mapVisit(record, tables, { now: NOW, resolved });
    expect(b.entries.map((e) => e.fullUrl)).toEqual(a.entries.filter((e) => e.key !== 'patient').map((e) => e.fullUrl));
  });

  it('uses a partial resolution for what it gives and still warns about the rest', () => {
    const record = sample('elderly-screening');
    const res = mapVisit(record, tables, { now: NOW, resolved: { location: 'loc-1' } });
    expect(res.issues.map((i) => i.expression![0])).toEqual(['patient.nik', 'practitioner.nik']);
    expect(res.bundle!.entry![0].resource!.resourceType).toBe('Patient');
  });
});
