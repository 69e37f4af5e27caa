// Dukcapil-like plausibility check of a NIK: PP KK CC DDMMYY SSSS (women: DD + 40). Structure only; who exists is configured.

export interface NikRules {
  provinceMin: number;
  provinceMax: number;
}

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]; // year is 2-digit, so 29 Feb is always allowed

export interface NikFacts {
  gender: 'male' | 'female';
  /** YYYY-MM-DD; the century is guessed (00..current → 20xx). */
  birthDate: string;
}

/** Returns the facts encoded in a plausible NIK, or undefined when the NIK cannot be a real one. */
export function parseNik(nik: unknown, rules: NikRules, referenceYear = 2026): NikFacts | undefined {
  if (typeof nik !== 'string' || !/^\d{16}$/.test(nik)) return undefined;
  const province = Number(nik.slice(0, 2));
  if (province < rules.provinceMin || province > rules.provinceMax) return undefined;
  let day = Number(nik.slice(6, 8));
  const month = Number(nik.slice(8, 10));
  const yy = Number(nik.slice(10, 12));
  if (nik.slice(12) === '0000') return undefined;
  let gender: NikFacts['gender'] = 'male';
  if (day >= 41 && day <= 71) {
    day -= 40;
    gender = 'female';
  }
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return undefined;
  const century = yy <= referenceYear % 100 ? 2000 : 1900;
  const birthDate = `${century + yy}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  return { gender, birthDate };
}
