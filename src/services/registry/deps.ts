// What the services are built with, once per process (app/bootstrap.ts openContext).
import type { Config } from '../../config/index.js';
import type { Database } from '../../db/database.js';
import type { Logger } from '../../app/logger.js';
import type { AssayEvents } from '../../app/events.js';
import type { Notifier } from '../../app/notifier.js';
import type { ArtifactStore } from '../../storage/artifact-store.js';
import type { JobQueue } from '../ports/job-queue.js';
import type { CatalogRecords, CatalogSource } from '../ports/catalog-source.js';

export interface ServiceDeps {
  db: Database;
  config: Config;
  logger: Logger;
  queue: JobQueue;
  events: AssayEvents;
  notifier: Notifier;
  artifacts: ArtifactStore;
  /** The org's API; absent when neither JWT nor SF_ALIAS is configured. */
  catalog: CatalogSource | undefined;
  /** Reads an Outbound Message's own fields (the no-code path). */
  records: CatalogRecords;
}
