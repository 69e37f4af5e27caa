// Both growth tables (WHO LMS data and the status table), loaded together with the mapping tables.
import path from 'node:path';
import { loadGrowthStatus, type GrowthStatusTable } from './status-table.js';
import { loadGrowthData, type GrowthData } from './who-data.js';

export interface GrowthTables {
  status: GrowthStatusTable;
  who: GrowthData;
}

/** mappings/growth-status.json and mappings/growth/who-*.json under `mappingsDir`. */
export function loadGrowthTables(mappingsDir: string): GrowthTables {
  return { status: loadGrowthStatus(mappingsDir), who: loadGrowthData(path.join(mappingsDir, 'growth')) };
}
