// Lookups in plain-object tables by a key that comes from input or configuration. A plain object inherits `constructor`, `toString`,
// `valueOf`, `hasOwnProperty`, `__proto__` …, so `table[key]` or `key in table` would take those names for entries.

/** The table's own entry under `key`, or undefined. */
export function ownEntry<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** True when `key` is an own entry of `table` (the `in` operator also sees inherited members). */
export const hasEntry = (table: object, key: string): boolean => Object.hasOwn(table, key);

/** An empty table without a prototype: writing `__proto__` or `constructor` into it stores an entry, nothing else. */
export const emptyTable = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;
