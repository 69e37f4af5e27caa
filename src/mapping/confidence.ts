// Lists the table values whose source is not official (confidence other than OFF): the "to confirm in the SATUSEHAT sandbox" list.
import type { MappingTables } from './types.js';

export interface Unconfirmed {
  /** e.g. `observations.hemoglobin`, `findings.entries.hbsag-rapid-test`, `vaccines.IPV.groups[0]`, `systems.codes.immunizationReasons.IM-SD` */
  path: string;
  confidence: string;
  source?: string;
  /** The code or URL concerned, when the entry has one. */
  value?: string;
}

/** Every entry (at any depth) of the tables whose `confidence` is not OFF, in table order. */
export function unconfirmedValues(tables: MappingTables): Unconfirmed[] {
  const out: Unconfirmed[] = [];
  const visit = (x: unknown, path: string) => {
    if (Array.isArray(x)) return x.forEach((v, i) => visit(v, `${path}[${i}]`));
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    if (typeof o.confidence === 'string' && o.confidence !== 'OFF') {
      const loinc = (o.loinc as { code?: string } | undefined)?.code;
      // A finding's code is a list of codings (LOINC/SNOMED first, as the official examples): its first code names it.
      // A nested coding object (e.g. the weight-gain code) is visited on its own and reported there.
      const code = Array.isArray(o.code) ? (o.code[0] as { code?: string } | undefined)?.code : typeof o.code === 'string' ? o.code : undefined;
      const value = loinc ?? code ?? (o.url as string | undefined) ?? (o.encounterClass as { code?: string } | undefined)?.code;
      out.push({ path, confidence: o.confidence, ...(typeof o.source === 'string' && { source: o.source }), ...(value && { value }) });
    }
    for (const [k, v] of Object.entries(o)) if (k !== 'confidence' && k !== 'source') visit(v, path ? `${path}.${k}` : k);
  };
  visit({
    observations: tables.observations.entries, findings: { systems: tables.findings.systems, entries: tables.findings.entries, interpretations: tables.findings.interpretations, pregnancy: tables.findings.pregnancy },
    vaccines: tables.vaccines.entries, settings: tables.settings.entries, systems: tables.systems,
    diagnoses: { defaults: tables.diagnoses.defaults, rules: tables.diagnoses.rules, codes: tables.diagnoses.codes },
    growth: tables.growth.status,
  }, '');
  return out;
}
