// `ilp-adapter sync --once`: drain what is due now with the service's configuration (same env, same database), print
// a summary as one JSON line on stdout, exit. Logs go to stderr.
// Exit codes: 0 every record touched was sent or is waiting for a retry; 1 some records now need attention
// (needs-correction, blocked, dead-letter) or a facility cannot deliver at all (auth-failed, config-error: listed in
// `facilityProblems`, as are paused facilities); 2 configuration error / could not start; 3 outcomes could not be recorded.
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { composeInstance, type Composition } from '../../compose.js';
import { syncOnce } from '../../app/sync-run.js';
import { startupFailureText } from '../../startup-text.js';
import { operatorLocale } from '../../i18n/index.js';
import { createLogger } from '../../util/logger.js';

export const SYNC_EXIT = { OK: 0, ATTENTION: 1, CONFIG: 2, UNRECORDED: 3 } as const;

export function syncCommand(ctx: CliContext): Command {
  return new Command('sync')
    .description('deliver queued visits to SATUSEHAT (uses the service configuration: FACILITIES_FILE, DATA_DIR, ...)')
    .option('--once', 'drain what is due now, print a summary and exit (required)')
    .option('--max-ticks <n>', 'upper bound on sync runs', '1000')
    .action(async (flags: { once?: boolean; maxTicks: string }) => {
      if (!flags.once) {
        ctx.stderr.write('ilp-adapter sync: only --once is supported here; the service (npm start) runs the schedule\n');
        ctx.exitCode = SYNC_EXIT.CONFIG;
        return;
      }
      const maxTicks = Number(flags.maxTicks);
      if (!Number.isInteger(maxTicks) || maxTicks < 1) {
        ctx.stderr.write('ilp-adapter sync: --max-ticks must be a positive integer\n');
        ctx.exitCode = SYNC_EXIT.CONFIG;
        return;
      }
      const logger = createLogger({ destination: ctx.stderr as never });
      let svc: Composition;
      try {
        svc = await composeInstance(process.env, { noHttp: true, logger });
      } catch (e) {
        // The same words as the service's own start-up refusal, in ILP_LANG.
        ctx.stderr.write(`${startupFailureText(e, operatorLocale())}\n`);
        ctx.exitCode = SYNC_EXIT.CONFIG;
        return;
      }
      try {
        const { summary, counts, facilityProblems, blockedFacility } = await syncOnce({
          runner: svc.runner, store: svc.store, now: svc.now, delivered: svc.runtimes, probed: svc.probed, organizations: svc.facilities.map((f) => f.organizationId),
        }, maxTicks);
        ctx.stdout.write(`${JSON.stringify({ ...summary, mode: svc.mode, counts, ...(facilityProblems.length ? { facilityProblems } : {}) })}\n`);
        ctx.exitCode = summary.unrecorded > 0 ? SYNC_EXIT.UNRECORDED
          : summary.needsCorrection + summary.blocked + summary.deadLetter > 0 || blockedFacility ? SYNC_EXIT.ATTENTION : SYNC_EXIT.OK;
      } finally {
        const startedAt = Date.now();
        await svc.stopWork(() => Math.max(0, svc.cfg.shutdownGraceMs - (Date.now() - startedAt)));
        await svc.release();
      }
    });
}
