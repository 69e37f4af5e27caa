// What a message may repeat of the record: a code, unit or number only when it cannot be a NIK, name or phone number typed into the
// wrong field. The *Param forms give the message parameter: the value itself, or (as `@name`) the catalogue's "the value given".
import type { Params } from '../i18n/index.js';

const codeLike = (s: string) => /^[A-Za-z0-9._/%°²^[\]+-]{1,20}$/.test(s) && !/\d{5}/.test(s);
const numberLike = (x: number) => Math.abs(x) < 1e6;
const VALUE_GIVEN = 'source.value-given';

/** Echo a code or unit only when it looks like one (short, one word, no long digit run). */
export const shown = (s: string) => (codeLike(s) ? `'${s}'` : 'the value given');

/** Echo a number only when it is a plausible magnitude: a NIK or phone number typed into `value` is not repeated. */
export const shownNumber = (x: number) => (numberLike(x) ? String(x) : 'the value given');

/** The parameter `name` for a message: the quoted code, or the catalogue's "the value given". */
export const shownParam = (name: string, s: string): Params => (codeLike(s) ? { [name]: `'${s}'` } : { [`@${name}`]: VALUE_GIVEN });

/** The parameter `name` for a number, or the catalogue's "the value given". */
export const shownNumberParam = (name: string, x: number): Params => (numberLike(x) ? { [name]: String(x) } : { [`@${name}`]: VALUE_GIVEN });

/** The parameter `name` for a number with its unit (`12.5 kg`), or the catalogue's "the value given". */
export const shownQuantityParam = (name: string, x: number, unit: string): Params => (numberLike(x) ? { [name]: `${x} ${unit}` } : { [`@${name}`]: VALUE_GIVEN });
