// One Salesforce client per running Assay (it caches the access token), made on first use.
import type { AppContext } from '../app/context.js';
import type { KitSyncDeps } from '../services/kit-sync-service.js';
import type { CatalogRecords, CatalogSource } from '../services/ports/catalog-source.js';
import { SalesforceClient, salesforceApiConfigured } from './client.js';
import { salesforceCatalog } from './catalog-reader.js';
import { catalogRecords, type ObjectNames } from './catalog-records.js';

const clients = new WeakMap<AppContext, SalesforceClient | undefined>();

export function salesforceClientOf(ctx: AppContext): SalesforceClient | undefined {
  if (!clients.has(ctx)) clients.set(ctx, salesforceApiConfigured(ctx.config.salesforce) ? new SalesforceClient(ctx.config.salesforce) : undefined);
  return clients.get(ctx);
}

/** The org behind the core's catalog ports: its API when a client is configured, and always the Outbound Message reader. */
export function catalogPorts(client: SalesforceClient | undefined, objects: ObjectNames): { catalog: CatalogSource | undefined; records: CatalogRecords } {
  return { catalog: client ? salesforceCatalog(client, objects) : undefined, records: catalogRecords };
}

export function kitSyncDeps(ctx: AppContext): KitSyncDeps {
  return {
    dataSource: ctx.db.dataSource, config: ctx.config, logger: ctx.logger, notifier: ctx.notifier, queue: ctx.queue,
    ...catalogPorts(salesforceClientOf(ctx), ctx.config.salesforce.objects),
  };
}
