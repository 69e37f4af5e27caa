// What a message may repeat of the record: a code, unit or number only when it cannot be a NIK, name or phone number typed into the
// wrong field.

/** Echo a code or unit only when it looks like one (short, one word, no long digit run). */
export const shown = (s: string) => (/^[A-Za-z0-9._/%°²^[\]+-]{1,20}$/.test(s) && !/\d{5}/.test(s) ? `'${s}'` : 'the value given');

/** Echo a number only when it is a plausible magnitude: a NIK or phone number typed into `value` is not repeated. */
export const shownNumber = (x: number) => (Math.abs(x) < 1e6 ? String(x) : 'the value given');
