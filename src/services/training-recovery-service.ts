// Trainings whose job is gone. A killed worker leaves its training in 'validating' or 'training':
// the Agenda job normally still exists with an expired lock, Agenda hands it to a live worker,
// and the handler records the resumption (training_logs + audit 'training.resumed'). This scan
// covers the rest — a training whose job is gone or ended — by enqueuing its job again, visibly.
// It also covers a training left 'queued' with no job: created, committed, and then its enqueue
// failed (or the process died first). It runs at worker start and every minute.
import type { AppContext } from '../app/context.js';
import { Dataset, ModelTraining } from '../db/entities/index.js';
import { returnedRows } from '../db/returned-rows.js';
import { appendTrainingLog } from './training-run-service.js';
import { writeAudit, systemActor } from './audit.js';
import { JOBS } from './ports/job-queue.js';

const LIVE_STATES = new Set(['queued', 'scheduled', 'running', 'repeating']);

/** A queued training younger than this may still be getting its job from the web process. */
export const QUEUED_GRACE_MS = 2 * 60_000;

async function hasLiveJob(ctx: AppContext, uid: string): Promise<boolean> {
  const { jobs } = await ctx.agenda.queryJobs({ names: [JOBS.datasetValidate, JOBS.modelTrain], data: { trainingUid: uid } });
  return jobs.some((j) => LIVE_STATES.has(j.state));
}

async function enqueueValidation(ctx: AppContext, t: ModelTraining): Promise<void> {
  const dataset = await ctx.db.dataSource.manager.findOneByOrFail(Dataset, { id: t.datasetId! });
  await ctx.queue.now(JOBS.datasetValidate, { datasetId: dataset.id, trainingUid: t.uid, ...(dataset.source === 'upload' ? { upload: { url: dataset.sourceUri } } : {}) });
}

/**
 * Queued trainings older than the grace period with no live job. Each is claimed with a
 * conditional update (still queued, still old) before its job is enqueued, so two scans at
 * once (two workers starting) enqueue it once.
 */
async function recoverQueued(ctx: AppContext, graceMs: number, now: Date): Promise<string[]> {
  const ds = ctx.db.dataSource;
  const before = new Date(now.getTime() - graceMs);
  const waiting = await ds.getRepository(ModelTraining).createQueryBuilder('t').where(`t.status = 'queued' AND t.updated_at < :before`, { before }).getMany();
  const requeued: string[] = [];
  for (const t of waiting) {
    if (await hasLiveJob(ctx, t.uid)) continue;
    const dataset = t.datasetId ? await ds.manager.findOneBy(Dataset, { id: t.datasetId }) : null;
    if (!dataset) continue;
    const next = dataset.status === 'valid' ? JOBS.modelTrain : JOBS.datasetValidate;
    const reason = `queued with no ${next} job (its enqueue was lost); re-queued`;
    const claimed = await ds.transaction(async (tx) => {
      const result = await tx.query(
        `UPDATE model_trainings SET training_logs = training_logs || $2, updated_at = now() WHERE uid = $1 AND status = 'queued' AND updated_at < $3 RETURNING uid`,
        [t.uid, `[${new Date().toISOString()}] ${reason}\n`, before],
      );
      const rows = returnedRows(result);
      if (rows.length === 0) return false;
      await writeAudit(tx, systemActor, { action: 'training.requeued', entityType: 'training', entityId: t.uid, details: { status: 'queued', job: next, reason } });
      return true;
    });
    if (!claimed) continue;
    if (next === JOBS.modelTrain) await ctx.queue.now(JOBS.modelTrain, { trainingUid: t.uid });
    else await enqueueValidation(ctx, t);
    requeued.push(t.uid);
  }
  return requeued;
}

/** One scan at a time per process (start-up and the recurring job may coincide): they queue up. */
const last = new WeakMap<AppContext, Promise<unknown>>();

export function recoverStuckTrainings(ctx: AppContext, opts: { queuedGraceMs?: number; now?: Date } = {}): Promise<string[]> {
  const scan = (last.get(ctx) ?? Promise.resolve()).catch(() => undefined).then(() => scanAndRequeue(ctx, opts));
  last.set(ctx, scan);
  return scan;
}

async function scanAndRequeue(ctx: AppContext, opts: { queuedGraceMs?: number; now?: Date }): Promise<string[]> {
  const ds = ctx.db.dataSource;
  const stuck = await ds.getRepository(ModelTraining).createQueryBuilder('t').where(`t.status = 'validating' OR (t.status = 'training' AND t.trainer = 'tfjs')`).getMany();
  const requeued: string[] = [];
  for (const t of stuck) {
    if (await hasLiveJob(ctx, t.uid)) continue;
    const reason = `worker stopped during ${t.status}; its job was lost; re-queued`;
    await ds.transaction(async (tx) => {
      await appendTrainingLog(tx, t.uid, reason);
      await writeAudit(tx, systemActor, { action: 'training.requeued', entityType: 'training', entityId: t.uid, details: { status: t.status, reason } });
    });
    if (t.status === 'validating') await enqueueValidation(ctx, t);
    else await ctx.queue.now(JOBS.modelTrain, { trainingUid: t.uid });
    requeued.push(t.uid);
  }
  requeued.push(...(await recoverQueued(ctx, opts.queuedGraceMs ?? QUEUED_GRACE_MS, opts.now ?? new Date())));
  if (requeued.length) ctx.logger.warn({ trainings: requeued }, 're-queued trainings that had no job');
  return requeued;
}
