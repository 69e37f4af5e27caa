// Carries out the retractions a plan lists: each resource a revision no longer produces is read back from the platform
// and returned ready to PUT as entered-in-error (how, per type: ../retraction.ts). One the platform no longer has, or
// already holds as entered-in-error (retracted by an attempt whose response was lost), needs no request: its ledger
// row is marked retracted right away. The Encounter is never retracted.
import type { Resource } from 'fhir/r4.js';
import { PlatformError, type PlatformClient } from '../../platform/types.js';
import { RETRACTED_HASH, type LedgerEntry, type LedgerStore, type VisitRow } from '../../store/types.js';
import type { Logger } from '../../util/logger.js';
import { isRetracted, markRetracted } from '../retraction.js';

export interface Retraction {
  ledger: LedgerEntry;
  /** The resource as the platform holds it, status set to entered-in-error (id in the body). */
  resource: Resource;
}

export interface RetractDeps {
  store: Pick<LedgerStore, 'putLedger'>;
  now: () => number;
  logger: Logger;
}

export async function prepareRetractions(row: VisitRow, stale: readonly LedgerEntry[], client: PlatformClient, deps: RetractDeps): Promise<Retraction[]> {
  const out: Retraction[] = [];
  const nothingToSend: LedgerEntry[] = [];
  for (const l of stale) {
    let found: Resource;
    try {
      found = await client.read(l.resourceType, l.satusehatId);
    } catch (e) {
      if (e instanceof PlatformError && e.kind === 'not-found') {
        deps.logger.warn({ org: row.organizationId, visit: row.visitId, resourceType: l.resourceType }, 'a resource to retract is not at the platform; nothing to retract');
        nothingToSend.push(l);
        continue;
      }
      throw e;
    }
    if (isRetracted(found)) {
      nothingToSend.push(l);
      continue;
    }
    out.push({ ledger: l, resource: retractedCopy(found, l.satusehatId) });
  }
  if (nothingToSend.length) await deps.store.putLedger(nothingToSend.map((l) => ({ ...l, contentHash: RETRACTED_HASH, updatedAt: deps.now() })));
  return out;
}

/** The platform's copy marked entered-in-error, ready to PUT. */
function retractedCopy(found: Resource, id: string): Resource {
  const resource = structuredClone(found) as Resource;
  markRetracted(resource);
  resource.id = id;
  if (resource.meta) {
    // The platform sets version and timestamp; sending the old ones back could read as a conditional update.
    const { versionId: _v, lastUpdated: _u, ...meta } = resource.meta;
    if (Object.keys(meta).length) resource.meta = meta;
    else delete resource.meta;
  }
  return resource;
}
