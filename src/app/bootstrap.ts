// Builds a running Assay: database (migrated), Agenda, notifier, HTTP server and/or worker.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config/index.js';
import { configSecrets, integrationsOff } from '../config/index.js';
import { migrate, openDatabase } from '../db/database.js';
import { createAgenda, queueFor, stopAgenda } from '../jobs/job-system.js';
import { agendaRegistry } from '../jobs/handlers/registry.js';
import { jobModules } from '../jobs/handlers/index.js';
import { createHttpApp } from '../http/app.js';
import { startMetricsServer } from '../http/metrics-route.js';
import { edgeHeartbeatAges, trainingsByStatus } from '../services/ops-metrics-service.js';
import { Metrics } from './metrics.js';
import { seedCatalog } from '../services/seed-service.js';
import { systemActor } from '../services/audit.js';
import { AiOption } from '../db/entities/index.js';
import type { AppContext } from './context.js';
import type { DestinationStream } from 'pino';
import { createLogger, errorText, type Logger } from './logger.js';
import { AuditNotifier, FanOutNotifier } from './notifier.js';
import { AssayEvents } from './events.js';
import { loadOrCreateSecret } from './secret.js';
import { attachSlack } from '../slack/index.js';
import { createArtifactStore } from '../storage/artifact-store.js';
import { startAdminChannel, type AdminChannel } from '../admin/server.js';
import { adminSocketPath } from '../admin/protocol.js';
import { catalogPortsFor } from '../salesforce/context.js';
import { buildServices } from '../services/index.js';
import { JOBS } from '../services/ports/job-queue.js';

export interface StartOptions {
  web?: boolean;
  worker?: boolean;
  logger?: Logger;
  /** Where the logger made from the configuration writes (default stdout); ignored when `logger` is given. */
  logDestination?: DestinationStream;
  /** Seed the AI options when the catalog is empty (the first start). */
  seedIfEmpty?: boolean;
  /** With seedIfEmpty: the demo kits too (only the demo; a real team's kits come from Salesforce). */
  seedDemoKits?: boolean;
  /** Agenda polling interval override (tests). */
  processEvery?: string | number;
}

export interface RunningAssay {
  ctx: AppContext;
  server?: http.Server;
  url?: string;
  /** The separate metrics listener (ASSAY_METRICS_PORT), when configured. */
  metricsUrl?: string;
  /** The admin channel's socket (embedded database only): the CLI's admin commands run here. */
  adminSocket?: string;
  /** Stops at once: open connections are cut, running jobs left to the lock-expiry takeover (tests). */
  stop(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): stop accepting connections and picking jobs, let in-flight requests
   * and running jobs finish within `timeoutMs`, then close Slack, Agenda and the database.
   * Resolves with what was still unfinished when the window closed.
   */
  drain(timeoutMs: number): Promise<{ openConnections: boolean; runningJobs: number }>;
}

export async function openContext(config: Config, options: StartOptions = {}): Promise<AppContext> {
  // First: a bad stored secret stops start-up before anything is opened.
  const secret = loadOrCreateSecret(config.secret, config.dataDir);
  const logger = options.logger ?? createLogger(config.logLevel, 'assay', { secrets: [...configSecrets(config), secret], destination: options.logDestination });
  const db = await openDatabase({
    url: config.database.url,
    embeddedDir: config.database.url ? undefined : config.database.embeddedDir,
    onPoolError: (err, pool) => logger.warn({ pool, error: errorText(err) }, 'database pool error (an idle connection was lost); the next query reconnects'),
  });
  try {
    const ran = await migrate(db);
    if (ran.length) logger.info({ migrations: ran }, 'database migrated');
    if (options.seedIfEmpty && (await db.dataSource.manager.count(AiOption)) === 0) {
      const seeded = await seedCatalog(db.dataSource.manager, systemActor, { demoKits: options.seedDemoKits });
      logger.info(seeded, options.seedDemoKits ? 'catalog seeded with the initial AI options and demo kits' : 'catalog seeded with the initial AI options (kits arrive from Salesforce)');
    }
    const agenda = await createAgenda(db, { mongodbUrl: config.mongodbUrl, processEvery: options.processEvery });
    agenda.on('error', (err: unknown) => logger.warn({ err }, 'job system error'));
    const events = new AssayEvents((err, event) => logger.error({ err, event }, 'event listener failed'));
    const artifacts = await createArtifactStore(config);
    const metrics = new Metrics({
      jobs: () => agenda.getJobsOverview(),
      trainings: () => trainingsByStatus(db.dataSource),
      edges: () => edgeHeartbeatAges(db.dataSource),
    });
    const notifier = new FanOutNotifier([new AuditNotifier(db.dataSource)], (err, notice, target) => {
      logger.warn({ target, kind: notice.kind, error: errorText(err) }, 'an ops notice was not delivered to one target');
      metrics.noticeFailures.inc({ target });
    });
    const queue = queueFor(agenda);
    const services = buildServices({ db, config, logger, queue, events, notifier, artifacts, ...catalogPortsFor(config.salesforce) });
    return { config, logger, db, agenda, queue, notifier, events, artifacts, secret, metrics, services };
  } catch (e) {
    await db.close();
    throw e;
  }
}

/** Closes a context opened for one command (the CLI): the job system, then the database. */
export async function closeContext(ctx: AppContext): Promise<void> {
  // Agenda connects its backend in the background; closing the pool under it crashes the process.
  await ctx.agenda.ready.catch(() => undefined);
  await stopAgenda(ctx.agenda);
  await ctx.db.close();
}

export async function startAssay(config: Config, options: StartOptions = {}): Promise<RunningAssay> {
  const web = options.web ?? true;
  const worker = options.worker ?? true;
  const ctx = await openContext(config, options);
  const { logger } = ctx;
  let server: http.Server | undefined;
  let url: string | undefined;
  let stopSlack: () => Promise<void> = async () => undefined;
  let metricsServer: http.Server | undefined;
  let admin: AdminChannel | null = null;
  try {
    // Slack posts progress and notices from whichever role emits the events.
    stopSlack = await attachSlack(ctx, { web });
    if (worker) {
      const registry = agendaRegistry(ctx.agenda, ctx.metrics);
      for (const register of jobModules) register(registry, ctx);
      await ctx.agenda.start();
      await registry.scheduleRecurring();
    }
    if (web) {
      const app = await createHttpApp(ctx);
      server = http.createServer(app);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(config.port, config.host, () => resolve());
      });
      const port = (server.address() as AddressInfo).port;
      url = `http://127.0.0.1:${port}`;
    }
    if (config.metrics.port !== undefined) metricsServer = await startMetricsServer(ctx, config.metrics.port, config.host);
    // This process alone can open the embedded database: the CLI's admin commands come to it.
    if (ctx.db.kind === 'embedded') {
      const sync = ctx.services.kitSync.apiConfigured
        ? async (queue: boolean, requestedBy: string) => {
            if (!queue) return ctx.services.kitSync.runCatalogSync({ requestedBy });
            await ctx.queue.now(JOBS.salesforceReconcile, { requestedBy });
            return 'queued' as const;
          }
        : undefined;
      admin = await startAdminChannel(adminSocketPath(config.dataDir), { services: ctx.services, migrate: () => migrate(ctx.db), syncCatalog: sync, modelImport: { importModel: ctx.services.imports.importModel, maxModelBytes: config.fetch.maxBytes } }, logger).catch((err: unknown) => {
        logger.warn({ err }, 'admin channel not started: CLI admin commands need this process stopped');
        return null;
      });
    }
  } catch (e) {
    server?.close();
    metricsServer?.close();
    await stopAgenda(ctx.agenda);
    await ctx.db.close();
    throw e;
  }
  const roles = [web && 'web', worker && 'worker'].filter(Boolean).join('+');
  logger.info({ roles, database: ctx.db.kind, url }, `Assay started (${roles}) on the ${ctx.db.kind === 'embedded' ? 'embedded database in ' + config.database.embeddedDir : 'PostgreSQL database'}`);
  const off = integrationsOff(config);
  if (off.length) logger.info(`Integrations off: ${off.join('; ')}`);
  const closeNow = async () => {
    await admin?.close();
    if (server) {
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    }
    if (metricsServer) await new Promise<void>((resolve) => metricsServer!.close(() => resolve()));
    await stopSlack();
    await stopAgenda(ctx.agenda);
    await ctx.db.close();
  };
  const closeDrained = async (timeoutMs: number) => {
    await admin?.close();
    const deadline = Date.now() + timeoutMs;
    const [openConnections, runningJobs] = await Promise.all([
      server ? closeGracefully(server, deadline) : Promise.resolve(false),
      // Agenda's drain picks no new job and waits for the running ones; the ones still running
      // at the deadline keep their locks and another worker takes them over when the locks expire.
      worker ? ctx.agenda.ready.then(() => ctx.agenda.drain({ timeout: Math.max(0, deadline - Date.now()), closeConnection: false })).then((r) => r.running, () => 0) : Promise.resolve(0),
    ]);
    if (metricsServer) await closeGracefully(metricsServer, Date.now());
    await stopSlack();
    if (!worker) await stopAgenda(ctx.agenda);
    await ctx.db.close();
    return { openConnections, runningJobs };
  };
  // stop() and drain() close everything once, whichever comes first.
  let closing: Promise<{ openConnections: boolean; runningJobs: number }> | undefined;
  return {
    ctx,
    server,
    url,
    metricsUrl: metricsServer ? `http://127.0.0.1:${(metricsServer.address() as AddressInfo).port}` : undefined,
    adminSocket: admin?.path,
    async stop() {
      closing ??= closeNow().then(() => ({ openConnections: false, runningJobs: 0 }));
      await closing;
    },
    drain(timeoutMs) {
      closing ??= closeDrained(timeoutMs);
      return closing;
    },
  };
}

/**
 * Stops accepting connections, lets in-flight requests finish (idle keep-alive connections are
 * closed as they become idle) and cuts whatever is still open at the deadline. True when some were cut.
 */
async function closeGracefully(server: http.Server, deadline: number): Promise<boolean> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const sweep = setInterval(() => server.closeIdleConnections(), 50);
  let timer: NodeJS.Timeout | undefined;
  const late = await Promise.race([
    closed.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), Math.max(0, deadline - Date.now())))),
  ]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (late) {
    server.closeAllConnections();
    await closed;
  }
  return late;
}
