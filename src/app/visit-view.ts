// How a visit's state reads to an operator (API, CLI, console): the state's explanation from the catalogue, and why a
// due visit waits anyway when its facility is on hold. Texts come from messages/visit-state.json.
import type { FacilityState, VisitRow, VisitState } from '../store/types.js';
import { DEFAULT_LOCALE, messages, type Locale } from '../i18n/index.js';
import { errorText, localizeOutcome, renderRef } from '../i18n/issues.js';

const stateText = messages('visit-state');

export const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());

/** A facility's hold reason in `locale`: our message when it has one, else the stored text (the platform's words). */
export function facilityReasonText(st: FacilityState, locale: Locale): string | undefined {
  if (st.reasonMessage && locale !== 'en') {
    try {
      return renderRef(locale, st.reasonMessage);
    } catch {
      // A key a later catalogue no longer has: the stored English still says why.
    }
  }
  return st.reason;
}

/**
 * Why a visit that is due waits anyway: its facility is on hold (the whole facility shares one credential and quota).
 * Undefined when the facility may be served.
 */
export function facilityHoldText(st: FacilityState | undefined, now: number, locale: Locale = DEFAULT_LOCALE): string | undefined {
  if (!st) return undefined;
  const reason = st.reason ? ` (${facilityReasonText(st, locale)})` : '';
  switch (st.status) {
    case 'paused':
      return stateText(locale, 'hold.paused');
    case 'auth-failed':
      return st.notBefore
        ? stateText(locale, 'hold.auth-failed.retry-at', { reason, at: new Date(st.notBefore).toISOString() })
        : stateText(locale, 'hold.auth-failed', { reason });
    case 'config-error':
      return stateText(locale, st.cause === 'url' ? 'hold.config-error.url' : 'hold.config-error', { reason });
    case 'active':
      return st.notBefore && st.notBefore > now ? stateText(locale, 'hold.quota', { at: new Date(st.notBefore).toISOString() }) : undefined;
  }
}

/** The explanation of a state, with the facility's hold reason for a queued visit; `hold` says whether one applied. */
export function explainState(state: VisitState, facility: { state: FacilityState | undefined; now: number } | undefined,
  locale: Locale = DEFAULT_LOCALE): { text: string; hold: boolean } {
  const hold = state === 'queued' && facility ? facilityHoldText(facility.state, facility.now, locale) : undefined;
  const said = stateText(locale, `state.${state}`);
  return { text: hold ? `${said} ${hold}` : said, hold: hold !== undefined };
}

export function visitView(row: VisitRow, history?: unknown[], facility?: { state: FacilityState | undefined; now: number },
  locale: Locale = DEFAULT_LOCALE): Record<string, unknown> {
  const explained = explainState(row.state, facility, locale);
  const view: Record<string, unknown> = {
    organizationId: row.organizationId,
    visitId: row.visitId,
    revision: row.revision,
    state: row.state,
    explanation: explained.text,
    ...(explained.hold ? { facilityStatus: facility!.state!.status, ...(facility!.state!.cause ? { facilityHoldCause: facility!.state!.cause } : {}) } : {}),
    attempts: row.attempts,
  };
  if (row.state === 'queued') view.nextAttemptAt = iso(row.nextAttemptAt);
  if (row.state === 'sending' && row.leaseUntil) view.leaseUntil = iso(row.leaseUntil);
  if (row.lastError) view.lastError = localizeOutcome(row.lastError, locale);
  if (row.resourceIds && Object.keys(row.resourceIds).length) view.resources = row.resourceIds;
  view.createdAt = iso(row.createdAt);
  view.updatedAt = iso(row.updatedAt);
  if (row.sentAt) view.sentAt = iso(row.sentAt);
  if (history?.length) view.history = history;
  // The content is gone or cannot be opened: the rest of the view stands, and says so (never an error page).
  if (row.recordPurgedAt !== undefined) {
    view.recordPurgedAt = iso(row.recordPurgedAt);
    view.recordNote = stateText(locale, 'record.purged', { at: iso(row.recordPurgedAt)! });
  } else if (row.recordUnreadable !== undefined) {
    view.recordNote = stateText(locale, 'record.unreadable', { reason: row.recordUnreadableRef ? errorText({ ref: row.recordUnreadableRef }, locale) : row.recordUnreadable });
  }
  return view;
}
