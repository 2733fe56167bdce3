// Agenda 6 on the same database (PostgreSQL or the embedded default, LISTEN/NOTIFY so new
// jobs start at once), or on MongoDB when MONGODB_URL is set. Same job code on both.
import { Agenda, type Job } from 'agenda';
import { PostgresBackend } from '@agendajs/postgres-backend';
import type { JobQueue } from '../services/ports/job-queue.js';

export interface JobSystemOptions {
  mongodbUrl?: string;
  /** Poll interval; notifications make pickup immediate, polling is the safety net. */
  processEvery?: string | number;
  /** Turn off LISTEN/NOTIFY (polling only) — used as the benchmark baseline. */
  disableNotifications?: boolean;
  name?: string;
}

export type JobHandler<T = any> = (job: Job<T>) => Promise<void>;

export interface JobDefinitionOptions {
  concurrency?: number;
  lockLifetime?: number;
}

/** `db` is Assay's database handle: Agenda's Postgres backend shares its pool. */
export async function createAgenda(db: { pool: unknown }, options: JobSystemOptions = {}): Promise<Agenda> {
  let backend;
  if (options.mongodbUrl) {
    const { MongoBackend } = await import('@agendajs/mongo-backend');
    backend = new MongoBackend({ address: options.mongodbUrl } as never);
  } else {
    backend = new PostgresBackend({ pool: db.pool as never, disableNotifications: options.disableNotifications ?? false });
  }
  // A dropped LISTEN connection emits 'error' on the channel; unhandled it would kill the
  // process. The channel reconnects by itself, so it is logged by Agenda's own error event.
  (backend as { notificationChannel?: { on?(e: string, l: (err: unknown) => void): void } }).notificationChannel?.on?.('error', () => undefined);
  const agenda = new Agenda({
    backend,
    name: options.name ?? `assay-${process.pid}`,
    processEvery: options.processEvery ?? '5 seconds',
    defaultLockLifetime: 10 * 60_000,
  });
  agenda.on('error', () => undefined);
  return agenda;
}

export function queueFor(agenda: Agenda): JobQueue {
  return {
    async now(name, data) {
      await agenda.now(name, data);
    },
  };
}

/** Stops Agenda and waits for its timers: the CLI and tests must be able to exit. */
export async function stopAgenda(agenda: Agenda): Promise<void> {
  // Stopping while Agenda still connects would close the pool under it.
  await agenda.ready.catch(() => undefined);
  await agenda.stop(false).catch(() => undefined);
}
