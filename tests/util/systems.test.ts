// Identifier systems come from mappings/systems.json alone: the modules that talk to the platform (client, identity,
// delivery) and the simulator read them there, and no source file spells one out.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { identifierSystem, identifierSystemPrefix, ORG_IDENTIFIER_BASE } from '../../src/util/systems.js';
import { locationSystem, NIK_IBU_SYSTEM, NIK_SYSTEM } from '../../src/platform/client.js';
import { ENCOUNTER_SYSTEM } from '../../src/sync/deliver.js';
import { SYS } from '../../src/simulator/core.js';

const systems = JSON.parse(readFileSync(path.resolve('mappings/systems.json'), 'utf8')) as { identifiers: Record<string, { url: string }> };

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('identifier systems', () => {
  it('are the documented ones, filled in per organization', () => {
    expect(identifierSystem('encounter', '10000004')).toBe('http://sys-ids.kemkes.go.id/encounter/10000004');
    expect(identifierSystem('location', '10000004')).toBe('http://sys-ids.kemkes.go.id/location/10000004');
    expect(identifierSystem('patientNik')).toBe('https://fhir.kemkes.go.id/id/nik');
    expect(identifierSystem('patientIhs')).toBe('https://fhir.kemkes.go.id/id/ihs-number');
    expect(identifierSystem('practitionerIhs')).toBe('https://fhir.kemkes.go.id/id/nakes-his-number');
    expect(identifierSystemPrefix('encounter')).toBe('http://sys-ids.kemkes.go.id/encounter/');
    expect(() => identifierSystem('encounter')).toThrow(/organizationId/);
    expect(() => identifierSystemPrefix('patientNik')).toThrow(/not per organization/);
  });

  it('every per-organization system is {orgIdentifierBase}{kind}/{organizationId}', () => {
    const perOrg = Object.entries(systems.identifiers).filter(([, e]) => e.url.includes('{organizationId}'));
    expect(perOrg.map(([k]) => k).sort()).toEqual(['condition', 'encounter', 'location', 'observation']);
    for (const [kind, e] of perOrg) expect(e.url).toBe(`${ORG_IDENTIFIER_BASE}${kind}/{organizationId}`);
  });

  it('the client, delivery and the simulator use the same ones', () => {
    expect(NIK_SYSTEM).toBe(systems.identifiers.patientNik!.url);
    expect(NIK_IBU_SYSTEM).toBe(systems.identifiers.patientNikIbu!.url);
    expect(locationSystem('X1')).toBe(systems.identifiers.location!.url.replace('{organizationId}', 'X1'));
    expect(ENCOUNTER_SYSTEM('X1')).toBe(systems.identifiers.encounter!.url.replace('{organizationId}', 'X1'));
    expect(SYS).toEqual({
      nik: systems.identifiers.patientNik!.url, nikIbu: systems.identifiers.patientNikIbu!.url, ihs: systems.identifiers.patientIhs!.url,
      nakes: systems.identifiers.practitionerIhs!.url, encounterPrefix: systems.identifiers.encounter!.url.replace('{organizationId}', ''),
      locationPrefix: systems.identifiers.location!.url.replace('{organizationId}', ''),
    });
  });

  it('no source file under src/ spells an identifier system out', () => {
    const spelled = tsFiles(path.resolve('src')).filter((f) => /sys-ids\.kemkes\.go\.id|fhir\.kemkes\.go\.id\/id\//.test(readFileSync(f, 'utf8')));
    expect(spelled.map((f) => path.relative(process.cwd(), f))).toEqual([]);
  });
});
