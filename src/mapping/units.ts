// Unit conversion rules of the tables (observations.json, findings.json): input unit → UCUM unit, out = (in + offset) × factor.
import type { UnitConversion } from './types.js';

export interface UnitRule {
  factor: number;
  offset: number;
  /** No conversion: the value is sent exactly as given. */
  identity: boolean;
}

export function unitRule(c: UnitConversion): UnitRule {
  const factor = c.factor ?? 1;
  const offset = c.offset ?? 0;
  return { factor, offset, identity: factor === 1 && offset === 0 };
}

/** Lower-cased input unit → rule. */
export function unitRules(units: Record<string, UnitConversion>): Map<string, UnitRule> {
  const out = new Map<string, UnitRule>();
  for (const [u, c] of Object.entries(units)) out.set(u.toLowerCase(), unitRule(c));
  return out;
}

export function roundTo(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round((x + Number.EPSILON * Math.sign(x)) * f) / f;
}

/** The value in the UCUM unit; rounded to `decimals` only when a conversion applies (an unconverted value is sent as given). */
export const convert = (rule: UnitRule, value: number, decimals: number): number =>
  rule.identity ? value : roundTo((value + rule.offset) * rule.factor, decimals);
