// `ilp-adapter facilities [--organization ID]`: per facility the counts by state, the oldest waiting record, the last
// delivery and the status with its reason, from the service database and the facilities configuration (FACILITIES_FILE,
// or the sandbox-simulator sample), and the quota use over the last hour of every process on that database.
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { facilityOverview, facilityOverviews, type FacilityOverview } from '../../app/facilities.js';
import { FACILITY_COLUMNS } from '../../app/csv.js';
import { loadServiceConfig, parseFacilities, readJsonFile, SIMULATOR_FACILITIES_FILE, type FacilityEntry } from '../../config/index.js';
import type { Locale } from '../../i18n/index.js';
import { EXIT } from '../context.js';
import { CliStop, outputOf, runOnStore, text, withOutputOptions, writePage, type OutputFlags } from '../queries.js';

const FACILITY_TABLE = FACILITY_COLUMNS.filter((c) => c.key !== 'name');

/** The configured facilities (FACILITIES_FILE, or the sandbox-simulator sample); no credentials are read. */
export function facilityEntries(): FacilityEntry[] {
  const cfg = loadServiceConfig(process.env);
  const file = cfg.facilitiesFile ?? SIMULATOR_FACILITIES_FILE;
  return parseFacilities(readJsonFile(file, cfg.facilitiesFile ? 'FACILITIES_FILE' : 'sample facilities file'), file);
}

/** organizationId → name, environment and quota of each configured facility. */
function configuredFacilities(): Map<string, Record<string, unknown>> {
  const entries = facilityEntries();
  return new Map(entries.map((e) => [e.organizationId, { ...(e.name ? { name: e.name } : {}), environment: e.environment, quotaPerMinute: e.quotaPerMinute }]));
}

export function facilitiesCommand(ctx: CliContext): Command {
  return withOutputOptions(new Command('facilities').description('per facility: counts by state, oldest waiting, last sent, status and why'))
    .option('--organization <id>', 'one facility')
    .action((flags: OutputFlags & { organization?: string }) => runOnStore(ctx, 'facilities', (): Locale => (flags.lang === 'en' ? 'en' : 'id'), async (store) => {
      const out = outputOf(flags);
      const deps = { store, now: () => ctx.clock().getTime(), configured: configuredFacilities() };
      let items: FacilityOverview[];
      if (flags.organization !== undefined) {
        const one = await facilityOverview(deps, { all: true }, flags.organization, out.locale);
        if (!one) throw new CliStop(EXIT.INVALID, text(out.locale, 'cli.no-facility', { organizationId: flags.organization }));
        items = [one];
      } else {
        items = await facilityOverviews(deps, { all: true }, out.locale);
      }
      writePage(ctx, { items }, out, FACILITY_COLUMNS, FACILITY_TABLE);
    }));
}
