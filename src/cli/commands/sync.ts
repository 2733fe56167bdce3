// `assay sync [--queue]`: full kit reconciliation with Salesforce now (or queued for the workers).
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { closeContext, openContext } from '../../app/bootstrap.js';
import { createLogger } from '../../app/logger.js';
import { JOBS } from '../../services/ports/job-queue.js';
import { reconcileSummary } from '../../admin/operations.js';
import { viaServer } from './admin.js';
import { CliUsageError, type CliCommand } from './types.js';

export const syncCommand: CliCommand = {
  name: 'sync',
  summary: 'reconcile kits and AI options with Salesforce (--queue: let a worker do it)',
  usage: 'assay sync [--queue]',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { queue: { type: 'boolean' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${this.usage}`);
    }
    const config = loadConfig();
    if (!config.salesforce.jwt && !config.salesforce.alias) {
      process.stderr.write('assay: Salesforce API not configured: set SF_CLIENT_ID, SF_USERNAME and SF_PRIVATE_KEY_PATH, or SF_ALIAS\n');
      return 2;
    }
    // The running server owns the embedded database: it runs (or queues) the reconciliation.
    if (!config.database.url) {
      const code = await viaServer({ op: 'sync', queue: !!values.queue }, config.dataDir);
      if (code !== null) return code;
    }
    const ctx = await openContext(config, { logger: createLogger(process.env.LOG_LEVEL ?? 'warn') });
    const requestedBy = `cli:${process.env.USER ?? 'unknown'}`;
    try {
      if (values.queue) {
        await ctx.queue.now(JOBS.salesforceReconcile, { requestedBy });
        process.stdout.write('Reconciliation queued; a worker (assay start) runs it.\n');
        return 0;
      }
      const r = await ctx.services.kitSync.runCatalogSync({ requestedBy });
      if (!r) {
        process.stderr.write('assay: a Salesforce sync is already queued or running; try again when it ends.\n');
        return 1;
      }
      process.stdout.write(reconcileSummary(r));
      return 0;
    } finally {
      await closeContext(ctx);
    }
  },
};
