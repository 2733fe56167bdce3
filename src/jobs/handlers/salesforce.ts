// Kit sync jobs: `salesforce.sync` applies one stored event; `salesforce.reconcile` reads the
// whole org (recurring, and on demand from the CLI/Slack). Salesforce rate limits and outages
// reschedule the job with exponential backoff instead of failing the event.
import type { Job } from 'agenda';
import { z } from 'zod';
import type { AppContext } from '../../app/context.js';
import { RetryableSalesforceError, SalesforceNotConfiguredError } from '../../services/ports/catalog-source.js';
import { JOBS } from '../../services/ports/job-queue.js';
import type { JobRegistry } from './registry.js';

export const RETRY_BASE_MS = 60_000;
export const RETRY_MAX_MS = 60 * 60_000;
export const MAX_ATTEMPTS = 12;

/** Next run after a retryable failure: 1, 2, 4 ... minutes, at most an hour. Agenda saves nextRunAt after the throw. */
export function retryLater(job: Job, now = Date.now()): Date {
  const attempt = (job.attrs.failCount ?? 0) + 1;
  const at = new Date(now + Math.min(RETRY_BASE_MS * 2 ** (attempt - 1), RETRY_MAX_MS));
  job.attrs.nextRunAt = at;
  return at;
}

const syncData = z.object({ eventId: z.uuid() });
const reconcileData = z.object({ requestedBy: z.string().max(200).optional(), runId: z.uuid().optional() }).optional();

export function registerSalesforceJobs(registry: JobRegistry, ctx: AppContext): void {
  const sync = ctx.services.kitSync;
  registry.define(
    JOBS.salesforceSync,
    async (job: Job<{ eventId: string }>) => {
      const { eventId } = syncData.parse(job.attrs.data);
      try {
        const outcome = await sync.applyEvent(eventId);
        if (outcome.receivedAt) ctx.metrics.salesforceApplyLag.observe({ status: outcome.status }, (Date.now() - outcome.receivedAt.getTime()) / 1000);
        ctx.logger.info({ eventId, status: outcome.status, detail: outcome.detail }, 'Salesforce event processed');
      } catch (e) {
        if (!(e instanceof RetryableSalesforceError)) throw e;
        if ((job.attrs.failCount ?? 0) + 1 >= MAX_ATTEMPTS) {
          await sync.failEventAfterRetries(eventId, e.message);
        } else {
          const at = retryLater(job);
          ctx.logger.warn({ eventId, code: e.code, retryAt: at }, 'Salesforce unavailable or over its API limit; the event is retried later');
        }
        throw e;
      }
    },
    { concurrency: 4 },
  );

  registry.define(
    JOBS.salesforceReconcile,
    async (job: Job<{ requestedBy?: string; runId?: string } | undefined>) => {
      const data = reconcileData.parse(job.attrs.data ?? undefined);
      const requestedBy = data?.requestedBy ?? 'schedule';
      // Events whose apply job got lost (stored, then the process died) are queued again.
      const stuck = await sync.unappliedEvents(10);
      if (stuck.length) await sync.enqueueApply(stuck);
      if (!sync.apiConfigured && !data?.runId) {
        ctx.logger.info('Salesforce reconciliation skipped: Salesforce API not configured');
        return;
      }
      // The recurring run comes back by itself; an on-demand one is rescheduled (its run waits queued).
      const willRetry = (e: unknown) => e instanceof RetryableSalesforceError && !job.attrs.repeatInterval && (job.attrs.failCount ?? 0) + 1 < MAX_ATTEMPTS;
      try {
        const result = await sync.runCatalogSync({ requestedBy, runId: data?.runId, retryLater: willRetry });
        if (result) ctx.logger.info({ ...result, archived: result.archived.length }, 'Salesforce reconciliation finished');
      } catch (e) {
        if (willRetry(e)) retryLater(job);
        if (e instanceof SalesforceNotConfiguredError) return; // recorded on the run; nothing to retry
        throw e;
      }
    },
    { concurrency: 1, lockLifetime: 60 * 60_000 },
  );
  // SF_RECONCILE_INTERVAL=off turns the schedule off (on-demand runs still work).
  if (!/^(off|never|0)$/i.test(ctx.config.salesforce.reconcileInterval.trim())) registry.every(ctx.config.salesforce.reconcileInterval, JOBS.salesforceReconcile);
}
