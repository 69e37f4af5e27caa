// The scheduler is only a tick: node-cron with noOverlap, in the configured time zone. The outbox is the source of
// truth, so a tick missed while the process was down loses nothing — the next one finds the work still due.
import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../util/logger.js';

export interface ScheduleOptions {
  expression: string;
  timezone: string;
  run: () => Promise<unknown>;
  logger: Logger;
}

export interface SyncSchedule {
  task: ScheduledTask;
  /** Stops future ticks and waits for the running one (if any). */
  stop(): Promise<void>;
  /** Stops future ticks without waiting for the running one (shutdown: the runner bounds that wait itself). */
  halt(): Promise<void>;
}

/** node-cron's own logger would print to the console; route it into ours at debug/warn level. */
function cronLogger(logger: Logger) {
  return {
    info: (m: string) => logger.debug({ component: 'node-cron' }, m),
    warn: (m: string) => logger.debug({ component: 'node-cron' }, m), // overlap notices: expected with long ticks
    error: (m: string | Error, err?: Error) => logger.error({ component: 'node-cron', err: err ?? m }, 'scheduler error'),
    debug: (m: string | Error) => logger.debug({ component: 'node-cron' }, String(m)),
  };
}

export function startSchedule(opts: ScheduleOptions): SyncSchedule {
  if (!cron.validate(opts.expression)) throw new Error(`invalid cron expression "${opts.expression}"`);
  let running: Promise<unknown> | undefined;
  const task = cron.schedule(
    opts.expression,
    async () => {
      running = opts.run();
      try {
        await running;
      } catch (err) {
        opts.logger.error({ err }, 'scheduled sync tick failed');
      } finally {
        running = undefined;
      }
    },
    { name: 'satusehat-sync', timezone: opts.timezone, noOverlap: true, logger: cronLogger(opts.logger) },
  );
  opts.logger.info({ cron: opts.expression, timezone: opts.timezone, nextRun: task.getNextRun()?.toISOString() }, 'sync scheduled');
  return {
    task,
    async stop() {
      await task.stop();
      await running?.catch(() => undefined);
      await task.destroy();
    },
    async halt() {
      await task.stop();
      await task.destroy();
    },
  };
}
