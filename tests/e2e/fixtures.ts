// Generated ILP visit records for the end-to-end tests: valid per mappings/ilp-visit.schema.json, NIKs that pass the
// simulator's Dukcapil-like structure check (PP KK CC DDMMYY SSSS, women DD+40), a mix of adults and infants.
import { Writable } from 'node:stream';

export const LOCATION = 'POSY-01';

function nikFor(birthDate: string, gender: 'male' | 'female', serial: number): string {
  const [y, m, d] = birthDate.split('-');
  const day = Number(d) + (gender === 'female' ? 40 : 0);
  return `327301${String(day).padStart(2, '0')}${m}${y!.slice(2)}${String(serial).padStart(4, '0')}`;
}

export interface GenOptions {
  organizationId: string;
  /** Visits of the same patient share its NIK (index modulo patients). */
  patients?: number;
  practitionerIhs?: string;
  /** Start date of the visits (visits are one hour apart). */
  startIso?: string;
}

export function makeVisit(i: number, o: GenOptions): Record<string, unknown> & { visitId: string; patient: { nik: string; name: string } } {
  const p = i % (o.patients ?? 1_000_000);
  const infant = p % 3 === 0;
  const gender = p % 2 === 0 ? 'female' : 'male';
  const birthDate = infant ? `2026-0${1 + (p % 6)}-${String(1 + (p % 27)).padStart(2, '0')}` : `19${60 + (p % 39)}-${String(1 + (p % 12)).padStart(2, '0')}-${String(1 + (p % 27)).padStart(2, '0')}`;
  const nik = nikFor(birthDate, gender, 1 + p);
  const base = Date.parse(o.startIso ?? '2026-10-01T01:00:00Z') + i * 3_600_000;
  const start = new Date(base).toISOString().replace('.000Z', '+00:00');
  const end = new Date(base + 20 * 60_000).toISOString().replace('.000Z', '+00:00');
  const givenAt = new Date(base + 10 * 60_000).toISOString().replace('.000Z', '+00:00');
  return {
    organizationId: o.organizationId,
    visitId: `V-${o.organizationId}-${String(i).padStart(5, '0')}`,
    setting: 'posyandu',
    locationCode: LOCATION,
    start,
    end,
    patient: {
      nik,
      name: `Pasien Uji ${p}`,
      birthDate,
      gender,
      address: { line: 'Jl. Cikutra No. 12', provinceCode: '32', cityCode: '3273', districtCode: '327301', villageCode: '3273011001', rt: '3', rw: '7' },
      citizenship: 'WNI',
    },
    practitioner: { ihsNumber: o.practitionerIhs ?? '10014058550' },
    measurements: infant
      ? [{ code: 'body-weight', value: 5200 + p, unit: 'g' }, { code: 'body-length', value: 57.5, unit: 'cm' }]
      : [{ code: 'body-weight', value: 60 + (p % 30), unit: 'kg' }, { code: 'systolic-bp', value: 120, unit: 'mmHg' }, { code: 'diastolic-bp', value: 80, unit: 'mmHg' }],
    immunizations: infant
      ? [{ vaccine: 'BCG', dose: 1, status: 'completed', source: 'administered', lotNumber: 'BCG-0001', expirationDate: '2027-06-30', givenAt }]
      : [],
  } as never;
}

/** A pino destination that keeps every line (for "no PII in any log line" assertions). */
export function captureLines(): { stream: Writable & { write(chunk: string): boolean }; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l) lines.push(l);
      cb();
    },
  });
  return { stream: stream as never, lines };
}

/** One authenticated JSON request to a running service (`svc.url`), its status and parsed body. */
export async function callService(svc: { url: string }, method: string, p: string, key: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }> {
  const res = await fetch(`${svc.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}
