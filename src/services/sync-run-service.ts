// Full Salesforce reconciliations as recorded runs: who asked, when it started, how it ended.
// `/assay sync` is for approvers, one at a time (the database allows one open run); whoever asks
// is told when the last one ran and how it ended. Every reconciliation — Slack, the schedule,
// the CLI — goes through runCatalogSync so the record is complete.
import type { DataSource, EntityManager } from 'typeorm';
import { ConflictError, IllegalTransitionError, NotFoundError, sourcesOf, type SyncRunStatus } from '../domain/index.js';
import { requireAccess } from './access-gate.js';
import { JOBS } from './ports/job-queue.js';
import type { JobQueue } from './ports/job-queue.js';
import { slackUser, writeAudit } from './audit.js';
import { isUniqueViolation } from './db-errors.js';
import { reconcileCatalog, type KitSyncDeps, type ReconcileResult } from './kit-sync-service.js';
import { returnedRows } from '../db/returned-rows.js';

export type { SyncRunStatus };

export interface SyncRun {
  id: string;
  requestedBy: string;
  status: SyncRunStatus;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  summary: Partial<ReconcileResult> | null;
  error: string | null;
}

/** An open run older than this was lost (its job and worker are gone): it no longer blocks. */
export const ABANDONED_AFTER_MS = 2 * 60 * 60_000;

/** Asked while another run is queued or running: says since when (and who asked). */
export class SyncInProgressError extends ConflictError {
  constructor(readonly run: SyncRun) {
    super(`A Salesforce sync is already ${run.status} since ${(run.startedAt ?? run.requestedAt).toISOString().replace('T', ' ').slice(0, 16)} UTC (asked by ${run.requestedBy}): wait for it to end.`);
  }
}

type Row = { id: string; requested_by: string; status: SyncRunStatus; requested_at: Date; started_at: Date | null; finished_at: Date | null; summary: Partial<ReconcileResult> | null; error: string | null };
const COLUMNS = 'id, requested_by, status, requested_at, started_at, finished_at, summary, error';
const toRun = (r: Row): SyncRun => ({
  id: r.id,
  requestedBy: r.requested_by,
  status: r.status,
  requestedAt: new Date(r.requested_at),
  startedAt: r.started_at ? new Date(r.started_at) : null,
  finishedAt: r.finished_at ? new Date(r.finished_at) : null,
  summary: r.summary,
  error: r.error,
});

async function openRun(manager: EntityManager, lock = false): Promise<SyncRun | null> {
  const rows: Row[] = await manager.query(`SELECT ${COLUMNS} FROM catalog_sync_runs WHERE status IN ('queued', 'running')${lock ? ' FOR UPDATE' : ''}`);
  return rows[0] ? toRun(rows[0]) : null;
}

/** The most recent run that ended (completed or failed). */
export async function lastFinishedRun(manager: EntityManager): Promise<SyncRun | null> {
  const rows: Row[] = await manager.query(`SELECT ${COLUMNS} FROM catalog_sync_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1`);
  return rows[0] ? toRun(rows[0]) : null;
}

/** Moves a run to `to`, guarded by the sync-run machine; `set` adds assignments numbered from $4 on. */
async function moveRun(manager: EntityManager, id: string, to: SyncRunStatus, set: string, params: unknown[]): Promise<void> {
  const result = await manager.query(`UPDATE catalog_sync_runs SET status = $2${set} WHERE id = $1 AND status = ANY($3::text[]) RETURNING id`, [id, to, sourcesOf('sync_run', to), ...params]);
  if (returnedRows(result).length > 0) return;
  const [row]: { status: string }[] = await manager.query(`SELECT status FROM catalog_sync_runs WHERE id = $1`, [id]);
  throw row ? new IllegalTransitionError('sync_run', row.status, to) : new NotFoundError('Sync run', id);
}

const finish = (manager: EntityManager, id: string, status: 'completed' | 'failed', summary: unknown, error: string | null) =>
  moveRun(manager, id, status, ', finished_at = now(), summary = $4, error = $5', [summary === null ? null : JSON.stringify(summary), error?.slice(0, 1000) ?? null]);

/** A run nobody finished within ABANDONED_AFTER_MS is closed as failed, so it stops blocking. */
async function closeIfAbandoned(manager: EntityManager, run: SyncRun, now: Date): Promise<boolean> {
  if (now.getTime() - (run.startedAt ?? run.requestedAt).getTime() < ABANDONED_AFTER_MS) return false;
  await finish(manager, run.id, 'failed', null, `abandoned: it did not end within ${ABANDONED_AFTER_MS / 3_600_000} hours (its worker stopped?)`);
  return true;
}

/**
 * /assay sync: refuses non-approvers (audited), and refuses while a run is open (audited), else
 * records a queued run and hands it to a worker. Returns it with the last finished one.
 */
export async function requestCatalogSync(
  deps: { dataSource: DataSource; queue: JobQueue },
  input: { actor: string; approvers: ReadonlySet<string>; now?: Date },
): Promise<{ run: SyncRun; last: SyncRun | null }> {
  const { dataSource } = deps;
  const actor = slackUser(input.actor);
  await requireAccess(dataSource.manager, { actor, action: 'sync', approvers: input.approvers, entity: { type: 'catalog_sync' } });
  let run: SyncRun;
  try {
    run = await dataSource.transaction(async (tx) => {
      const open = await openRun(tx, true);
      if (open && !(await closeIfAbandoned(tx, open, input.now ?? new Date()))) throw new SyncInProgressError(open);
      const rows: Row[] = await tx.query(`INSERT INTO catalog_sync_runs (requested_by, status) VALUES ($1, 'queued') RETURNING ${COLUMNS}`, [input.actor]);
      await writeAudit(tx, actor, { action: 'catalog.sync_requested', entityType: 'catalog_sync', entityId: rows[0]!.id });
      return toRun(rows[0]!);
    });
  } catch (e) {
    // Two requests at once: the index lets one in; the other is told about it.
    const open = isUniqueViolation(e) ? await openRun(dataSource.manager) : null;
    const refusal = e instanceof SyncInProgressError ? e : open ? new SyncInProgressError(open) : null;
    if (!refusal) throw e;
    await writeAudit(dataSource.manager, actor, { action: 'catalog.sync_refused', entityType: 'catalog_sync', entityId: refusal.run.id, details: { reason: refusal.message } });
    throw refusal;
  }
  try {
    await deps.queue.now(JOBS.salesforceReconcile, { requestedBy: input.actor, runId: run.id });
  } catch (e) {
    await finish(dataSource.manager, run.id, 'failed', null, `could not be queued: ${(e as Error).message}`);
    throw e;
  }
  const last = await lastFinishedRun(dataSource.manager);
  return { run, last };
}

/**
 * Starts the run a job was queued for (or, for the schedule and the CLI, a new one), runs the
 * reconciliation and records how it ended. Returns null when another run is open (skipped).
 * `retryLater` says whether a retryable failure will be retried: the run then waits queued.
 */
export async function runCatalogSync(
  deps: KitSyncDeps,
  input: { requestedBy: string; runId?: string; retryLater?: (e: unknown) => boolean },
): Promise<ReconcileResult | null> {
  const ds = deps.dataSource;
  const id = await ds.transaction(async (tx) => {
    if (input.runId) {
      const result = await tx.query(`UPDATE catalog_sync_runs SET status = 'running', started_at = COALESCE(started_at, now()) WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`, [input.runId, sourcesOf('sync_run', 'running')]);
      return returnedRows<{ id: string }>(result)[0]?.id ?? null;
    }
    const open = await openRun(tx, true);
    if (open && !(await closeIfAbandoned(tx, open, new Date()))) return null;
    const rows: { id: string }[] = await tx.query(`INSERT INTO catalog_sync_runs (requested_by, status, started_at) VALUES ($1, 'running', now()) RETURNING id`, [input.requestedBy]);
    return rows[0]!.id;
  }).catch((e) => {
    if (isUniqueViolation(e)) return null;
    throw e;
  });
  if (!id) {
    deps.logger.info({ requestedBy: input.requestedBy }, 'Salesforce reconciliation skipped: another one is queued or running');
    return null;
  }
  try {
    const result = await reconcileCatalog(deps, input.requestedBy);
    await finish(ds.manager, id, 'completed', { ...result, archived: result.archived.slice(0, 20) }, null);
    return result;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    if (input.retryLater?.(e)) await moveRun(ds.manager, id, 'queued', ', error = $4', [`retrying: ${message}`.slice(0, 1000)]);
    else await finish(ds.manager, id, 'failed', null, message);
    throw e;
  }
}
