// Edge upkeep: a recurring check reports edge servers that stopped sending heartbeats.
import type { AppContext } from '../../app/context.js';
import { JOBS } from '../../services/ports/job-queue.js';
import type { JobRegistry } from './registry.js';

export function registerDeploymentJobs(registry: JobRegistry, ctx: AppContext): void {
  registry.define(JOBS.edgeStaleCheck, async () => {
    const stale = await ctx.services.edges.reportStale();
    if (stale.length) ctx.logger.warn({ edges: stale.map((e) => e.name) }, 'edge servers stopped sending heartbeats');
  });
  registry.every('1 minute', JOBS.edgeStaleCheck);
}
