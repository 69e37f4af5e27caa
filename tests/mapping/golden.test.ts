// Golden mapping of every sample in mappings/samples/ (regenerate with UPDATE_GOLDEN=1) and determinism of the output.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mapVisit } from '../../src/mapping/index.js';
import { NOW, sample, samples, tables } from './helpers.js';

const update = process.env.UPDATE_GOLDEN === '1';

describe('golden bundles', () => {
  it('has samples for every life stage the brief names', () => {
    expect(samples.map((s) => s.name)).toEqual(expect.arrayContaining([
      'infant-posyandu-immunization', 'newborn-without-nik', 'toddler-growth-monitoring', 'pregnant-anc', 'school-screening-bias',
      'adult-ptm-screening', 'elderly-screening', 'home-visit-dofu', 'immunization-not-done', 'kader-recall-immunization',
    ]));
  });

  it.each(samples.map((s) => [s.name, s] as const))('%s maps to its golden Bundle', (_name, s) => {
    const res = mapVisit(s.record, tables, { now: NOW });
    expect(res.issues.filter((i) => i.severity === 'error')).toEqual([]);
    expect(res.bundle).toBeDefined();
    if (update) writeFileSync(s.goldenPath, JSON.stringify(res.bundle, null, 2) + '\n');
    expect(existsSync(s.goldenPath)).toBe(true);
    expect(res.bundle).toEqual(JSON.parse(readFileSync(s.goldenPath, 'utf8')));
  });
});

describe('determinism', () => {
  it('maps the same input twice to identical output', () => {
    for (const s of samples) {
      const a = mapVisit(s.record, tables, { now: NOW });
      const b = mapVisit(structuredClone(s.record), tables, { now: NOW });
      expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    }
  });

  it('does not depend on the clock beyond the future check', () => {
    const s = samples[0].record;
    const a = mapVisit(s, tables, { now: NOW });
    const b = mapVisit(s, tables, { now: new Date('2031-01-01T00:00:00Z') });
    expect(b.bundle).toEqual(a.bundle);
  });

  it('gives a different visitId different fullUrls, and a different organization too', () => {
    const base = sample('infant-posyandu-immunization');
    const a = mapVisit(base, tables, { now: NOW }).bundle!;
    const other = { ...base, visitId: base.visitId + '-B' };
    const b = mapVisit(other, tables, { now: NOW }).bundle!;
    const org = { ...base, organizationId: '10000005' };
    const c = mapVisit(org, tables, { now: NOW }).bundle!;
    const urls = (x: typeof a) => x.entry!.map((e) => e.fullUrl);
    expect(urls(a)).toHaveLength(urls(b).length);
    for (const u of urls(a)) {
      expect(urls(b)).not.toContain(u);
      expect(urls(c)).not.toContain(u);
    }
  });

  it('keeps fullUrls stable when a measurement is added after the existing ones', () => {
    const base = sample('toddler-growth-monitoring');
    const a = mapVisit(base, tables, { now: NOW }).entries;
    const more = { ...base, measurements: [...base.measurements!, { code: 'body-temperature', value: 36.7, unit: 'Cel' }] };
    const b = mapVisit(more, tables, { now: NOW }).entries;
    for (const e of a) expect(b.find((x) => x.key === e.key)?.fullUrl).toBe(e.fullUrl);
  });
});
