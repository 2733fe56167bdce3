// Recurring clean-up: unused hyperparameter sets, abandoned wizards, old Slack delivery keys.
import type { AppContext } from '../../app/context.js';
import { JOBS } from '../../services/ports/job-queue.js';
import type { JobRegistry } from './registry.js';

export function registerMaintenanceJobs(registry: JobRegistry, ctx: AppContext): void {
  const { hyperparameters, wizard, deliveries } = ctx.services;
  registry.define(JOBS.hyperparametersGc, async () => {
    const n = await hyperparameters.deleteUnused();
    if (n) ctx.logger.info({ deleted: n }, 'deleted unused hyperparameter sets');
  });
  registry.every('1 day', JOBS.hyperparametersGc);

  registry.define(JOBS.wizardExpire, async () => {
    const n = await wizard.expireSessions(new Date());
    if (n) ctx.logger.info({ expired: n }, 'expired abandoned training wizards');
  });
  registry.every('10 minutes', JOBS.wizardExpire);

  // Slack redelivers within minutes; a day of delivery keys is plenty to dedupe against.
  registry.define(JOBS.slackDeliveriesGc, async () => {
    const n = await deliveries.forgetBefore(new Date(Date.now() - 24 * 3600_000));
    if (n) ctx.logger.info({ forgotten: n }, 'forgot old Slack delivery keys');
  });
  registry.every('1 hour', JOBS.slackDeliveriesGc);
}
