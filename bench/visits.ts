// Synthetic ILP visits for the sync benches (NIK-shaped but generated; never real people).
export const ORG = '10000004';
export const LOCATION = 'POSY-MAWAR-01';

export interface Person { nik: string; name: string; birthDate: string; gender: 'male' | 'female' }

export function person(p: number): Person {
  const gender = p % 2 === 0 ? 'female' : 'male';
  const birthDate = `19${60 + (p % 39)}-${String(1 + (p % 12)).padStart(2, '0')}-${String(1 + (p % 27)).padStart(2, '0')}`;
  const [y, m, d] = birthDate.split('-');
  const day = Number(d) + (gender === 'female' ? 40 : 0);
  // Serial digits spread p over 4 + the district digits so 100k patients stay unique and NIK-shaped.
  const nik = `3273${String(1 + Math.floor(p / 9000)).padStart(2, '0')}${String(day).padStart(2, '0')}${m}${y!.slice(2)}${String(1 + (p % 9000)).padStart(4, '0')}`;
  return { nik, name: `Pasien Bench ${p}`, birthDate, gender };
}

export function visit(i: number, p: number, org = ORG): Record<string, unknown> {
  const who = person(p);
  const base = Date.parse('2026-09-01T01:00:00Z') + (i % 50_000) * 60_000;
  const iso = (t: number) => new Date(t).toISOString().replace('.000Z', '+00:00');
  return {
    organizationId: org,
    visitId: `B-${i}`,
    setting: 'posyandu',
    locationCode: LOCATION,
    start: iso(base),
    end: iso(base + 15 * 60_000),
    patient: {
      nik: who.nik, name: who.name, birthDate: who.birthDate, gender: who.gender, citizenship: 'WNI',
      address: { line: 'Jl. Cikutra No. 12', provinceCode: '32', cityCode: '3273', districtCode: '327301', villageCode: '3273011001', rt: '3', rw: '7' },
    },
    practitioner: { ihsNumber: '10014058550' },
    measurements: [
      { code: 'body-weight', value: 50 + (i % 40), unit: 'kg' },
      { code: 'systolic-bp', value: 110 + (i % 30), unit: 'mmHg' },
      { code: 'diastolic-bp', value: 70 + (i % 20), unit: 'mmHg' },
    ],
  };
}

