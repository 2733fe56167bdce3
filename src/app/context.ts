// Everything a request handler or job needs, built once per process.
import type { Agenda } from 'agenda';
import type { Config } from '../config/index.js';
import type { Database } from '../db/database.js';
import type { JobQueue } from '../services/ports/job-queue.js';
import type { Logger } from './logger.js';
import type { AssayEvents } from './events.js';
import type { FanOutNotifier } from './notifier.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import type { Metrics } from './metrics.js';
import type { Services } from '../services/index.js';

export interface AppContext {
  config: Config;
  logger: Logger;
  db: Database;
  agenda: Agenda;
  queue: JobQueue;
  notifier: FanOutNotifier;
  events: AssayEvents;
  /** Models, dataset snapshots and images, content-addressed (local folder or S3). */
  artifacts: ArtifactStore;
  /** Server secret (ASSAY_SECRET or the data folder's own). */
  secret: string;
  /** Prometheus instruments of this process (src/app/metrics.ts). */
  metrics: Metrics;
  /** The use cases, built once with the database and the ports: adapters call these, never the database. */
  services: Services;
}
