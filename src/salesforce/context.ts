// One Salesforce client per running Assay (it caches the access token), made on first use.
import type { AppContext } from '../app/context.js';
import type { KitSyncDeps } from '../services/kit-sync-service.js';
import { SalesforceClient, salesforceApiConfigured } from './client.js';

const clients = new WeakMap<AppContext, SalesforceClient | undefined>();

export function salesforceClientOf(ctx: AppContext): SalesforceClient | undefined {
  if (!clients.has(ctx)) clients.set(ctx, salesforceApiConfigured(ctx.config.salesforce) ? new SalesforceClient(ctx.config.salesforce) : undefined);
  return clients.get(ctx);
}

export function kitSyncDeps(ctx: AppContext): KitSyncDeps {
  return { dataSource: ctx.db.dataSource, config: ctx.config, logger: ctx.logger, notifier: ctx.notifier, queue: ctx.queue, salesforce: salesforceClientOf(ctx) };
}
