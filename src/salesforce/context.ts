// The org behind the core's catalog ports, plugged in once per running Assay (app/bootstrap.ts).
import type { Config } from '../config/index.js';
import type { CatalogRecords, CatalogSource } from '../services/ports/catalog-source.js';
import { SalesforceClient, salesforceApiConfigured } from './client.js';
import { salesforceCatalog } from './catalog-reader.js';
import { catalogRecords, type ObjectNames } from './catalog-records.js';

/** The org behind the core's catalog ports: its API when a client is configured, and always the Outbound Message reader. */
export function catalogPorts(client: SalesforceClient | undefined, objects: ObjectNames): { catalog: CatalogSource | undefined; records: CatalogRecords } {
  return { catalog: client ? salesforceCatalog(client, objects) : undefined, records: catalogRecords };
}

/** The ports of one running Assay: one client (it caches the access token), when the API is configured. */
export function catalogPortsFor(config: Config['salesforce']): { catalog: CatalogSource | undefined; records: CatalogRecords } {
  return catalogPorts(salesforceApiConfigured(config) ? new SalesforceClient(config) : undefined, config.objects);
}
