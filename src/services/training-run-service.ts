// The state of a training as the pipeline jobs move it: validation outcome, start, per-epoch
// progress, finish (model version), failure, cancellation and resumption after a dead worker.
// Every status change is guarded: transition() for the training (row lock, state machine, audit),
// setStatus() for its dataset (state machine; its audit rows are written here as before).
import type { DataSource, EntityManager } from 'typeorm';
import { ModelTraining, type EpochMetrics } from '../db/entities/index.js';
import { NotFoundError, type ModelRuntime, type ModelTask } from '../domain/index.js';
import type { ValidationReport } from '../datasets/validation-report.js';
import { writeAudit, systemActor, type Actor } from './audit.js';
import { createModelVersion } from './model-service.js';
import { setStatus, transition } from './transitions.js';
import { Model as ModelEntity, type Model } from '../db/entities/index.js';
import { returnedRows } from '../db/returned-rows.js';

/** A worker that dies this many times on one training gives up on it (it is probably the cause). */
export const MAX_RESUMES = 2;

const stamp = () => new Date().toISOString();

export async function appendTrainingLog(manager: EntityManager, uid: string, line: string): Promise<void> {
  await manager.query(`UPDATE model_trainings SET training_logs = training_logs || $2, updated_at = now() WHERE uid = $1`, [uid, `[${stamp()}] ${line}\n`]);
}

export async function getTraining(manager: EntityManager, uid: string): Promise<ModelTraining> {
  const t = await manager.findOneBy(ModelTraining, { uid });
  if (!t) throw new NotFoundError('Training', uid);
  return t;
}

async function resumeCount(manager: EntityManager, uid: string): Promise<number> {
  const rows: { n: string }[] = await manager.query(`SELECT count(*)::text AS n FROM audit_log WHERE entity_type = 'training' AND entity_id = $1 AND action = 'training.resumed'`, [uid]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * A job found its training already in `phase` state: the worker that ran it stopped mid-job.
 * Records it visibly and says whether to go on; after MAX_RESUMES the training fails instead.
 */
export async function resumeAfterStoppedWorker(ds: DataSource, uid: string, phase: 'validating' | 'training'): Promise<boolean> {
  return ds.transaction(async (tx) => {
    const n = await resumeCount(tx, uid);
    if (n >= MAX_RESUMES) {
      const reason = `worker stopped during ${phase} ${n + 1} times; giving up`;
      await appendTrainingLog(tx, uid, reason);
      const t = await transition(tx, 'training', uid, 'failed', systemActor, { trainingError: reason, trainingEndTime: new Date() } as Partial<ModelTraining>);
      // A dataset whose validation keeps killing the worker is the likely cause: never validate it again.
      if (phase === 'validating' && t.datasetId) {
        const summary = `Dataset invalid: validating it stopped the worker ${n + 1} times (too big or malformed images?)`;
        await setStatus(tx, 'dataset', t.datasetId, 'invalid', { validationReport: { valid: false, summary, errors: [{ code: 'worker_stopped', message: summary }], warnings: [] } as never });
        await writeAudit(tx, systemActor, { action: 'dataset.invalid', entityType: 'dataset', entityId: t.datasetId, details: { summary } });
      }
      return false;
    }
    await appendTrainingLog(tx, uid, `worker stopped during ${phase}; re-queued (resume ${n + 1} of ${MAX_RESUMES})`);
    // Training starts over at epoch 1: progress and metrics must describe the new run, not mix in the dead one's.
    if (phase === 'training') await tx.query(`UPDATE model_trainings SET current_epoch = 0, progress = 0, metrics = '[]'::jsonb WHERE uid = $1`, [uid]);
    await writeAudit(tx, systemActor, { action: 'training.resumed', entityType: 'training', entityId: uid, details: { phase, resume: n + 1, reason: `worker stopped during ${phase}; re-queued` } });
    return true;
  });
}

/** queued → validating, dataset → validating. Returns false when the training is no longer waiting (cancelled...). */
export async function beginValidation(ds: DataSource, uid: string, datasetId: string): Promise<'started' | 'resumed' | 'skip'> {
  const t = await getTraining(ds.manager, uid);
  if (t.status === 'validating') return (await resumeAfterStoppedWorker(ds, uid, 'validating')) ? 'resumed' : 'skip';
  if (t.status !== 'queued' || t.cancelRequested) return 'skip';
  await ds.transaction(async (tx) => {
    await transition(tx, 'training', uid, 'validating', systemActor);
    await setStatus(tx, 'dataset', datasetId, 'validating');
    await appendTrainingLog(tx, uid, 'validating the dataset');
  });
  return 'started';
}

/** A transient failure: back to queued so the retry starts clean (not mistaken for a dead worker). */
export async function requeueAfterTransientError(ds: DataSource, uid: string, message: string): Promise<void> {
  await ds.transaction(async (tx) => {
    const t = await tx.findOneBy(ModelTraining, { uid });
    if (t?.status !== 'validating') return;
    await transition(tx, 'training', uid, 'queued', systemActor, {}, { reason: message });
    await appendTrainingLog(tx, uid, `${message}; will retry`);
  });
}

/**
 * Stores the report on the dataset; valid → training back to queued (ready to train), invalid →
 * training failed with the summary. Returns whether training should be enqueued.
 */
export async function recordValidation(
  ds: DataSource,
  input: { uid: string; datasetId: string; report: ValidationReport; snapshot?: { path: string; sha256: string; size: number } },
): Promise<boolean> {
  const { report, snapshot } = input;
  const valid = report.valid && !!snapshot;
  return ds.transaction(async (tx) => {
    await setStatus(tx, 'dataset', input.datasetId, valid ? 'valid' : 'invalid', {
      validationReport: report as never,
      splitCounts: report.splitCounts,
      labelCounts: report.labelCounts,
      ...(valid ? { storagePath: snapshot!.path, sha256: snapshot!.sha256, sizeBytes: String(snapshot!.size) } : {}),
    });
    await writeAudit(tx, systemActor, { action: valid ? 'dataset.valid' : 'dataset.invalid', entityType: 'dataset', entityId: input.datasetId, details: { summary: report.summary, sha256: snapshot?.sha256 ?? null } });
    const t = await tx.findOne(ModelTraining, { where: { uid: input.uid }, lock: { mode: 'pessimistic_write' } });
    if (t?.status !== 'validating') return false; // cancelled meanwhile: keep the report, do nothing else
    await appendTrainingLog(tx, input.uid, report.summary);
    if (valid) {
      await transition(tx, 'training', input.uid, 'queued', systemActor, {}, { reason: 'dataset valid' });
      return true;
    }
    await transition(tx, 'training', input.uid, 'failed', systemActor, { trainingError: report.summary, trainingEndTime: new Date() } as Partial<ModelTraining>);
    return false;
  });
}

/** queued → training. 'resumed' when a previous worker died in it; 'skip' when it should not run. */
export async function beginTraining(ds: DataSource, uid: string): Promise<'started' | 'resumed' | 'skip'> {
  const t = await getTraining(ds.manager, uid);
  if (t.status === 'training') return (await resumeAfterStoppedWorker(ds, uid, 'training')) ? 'resumed' : 'skip';
  if (t.status !== 'queued') return 'skip';
  if (t.cancelRequested) {
    await ds.transaction((tx) => transition(tx, 'training', uid, 'cancelled', systemActor, { trainingEndTime: new Date() } as Partial<ModelTraining>));
    return 'skip';
  }
  await ds.transaction(async (tx) => {
    await transition(tx, 'training', uid, 'training', systemActor, { trainingStartTime: new Date(), currentEpoch: 0, progress: 0, metrics: [] } as Partial<ModelTraining>);
    await appendTrainingLog(tx, uid, `training started (${t.trainer})`);
  });
  return 'started';
}

/** Per-epoch progress; returns whether a cancel was requested meanwhile. */
export async function recordEpoch(ds: DataSource, uid: string, m: EpochMetrics & { totalEpochs?: number }): Promise<boolean> {
  const total = m.totalEpochs ?? (await getTraining(ds.manager, uid)).totalEpochs;
  const progress = Math.min(1, Math.max(0, m.epoch / total));
  const entry: EpochMetrics = { epoch: m.epoch, loss: m.loss, ...(m.accuracy != null ? { accuracy: m.accuracy } : {}), ...(m.valMap50 != null ? { valMap50: m.valMap50 } : {}), ...(m.valLoss != null ? { valLoss: m.valLoss } : {}), ...(m.valAccuracy != null ? { valAccuracy: m.valAccuracy } : {}) };
  const line = `epoch ${m.epoch}/${total} loss=${m.loss.toFixed(4)}${m.accuracy != null ? ` acc=${m.accuracy.toFixed(3)}` : ''}${m.valMap50 != null ? ` val_mAP50=${m.valMap50.toFixed(3)}` : ''}${m.valAccuracy != null ? ` val_acc=${m.valAccuracy.toFixed(3)}` : ''}`;
  const rows: { cancel_requested: boolean }[] = await ds.query(
    `UPDATE model_trainings SET current_epoch = GREATEST(current_epoch, $2), progress = $3, metrics = metrics || $4::jsonb,
       training_logs = training_logs || $5, updated_at = now()
     WHERE uid = $1 AND status = 'training' RETURNING cancel_requested`,
    [uid, m.epoch, progress, JSON.stringify([entry]), `[${stamp()}] ${line}\n`],
  );
  const list = returnedRows<{ cancel_requested: boolean }>(rows);
  return list[0]?.cancel_requested ?? true;
}

export async function isCancelRequested(manager: EntityManager, uid: string): Promise<boolean> {
  const t = await manager.findOneBy(ModelTraining, { uid });
  return !t || t.cancelRequested || ['cancelled', 'failed'].includes(t.status);
}

export interface TrainedArtifact {
  path: string;
  sha256: string;
  size: number;
  labels: string[];
  inputShape: number[] | null;
  beamModelPath?: string | null;
  /** Default: a classifier. A detector comes with its runtime descriptor. */
  task?: ModelTask;
  runtime?: ModelRuntime | null;
}

/** training → trained with a new model version (draft) made from the stored artifact. */
export async function finishTraining(ds: DataSource, uid: string, artifact: TrainedArtifact, actor: Actor = systemActor): Promise<Model> {
  return ds.transaction(async (tx) => {
    const t = await tx.findOne(ModelTraining, { where: { uid }, lock: { mode: 'pessimistic_write' } });
    if (!t) throw new NotFoundError('Training', uid);
    // A duplicate completion (two trainer callbacks, a poll racing a callback) returns the first model.
    if (t.status === 'trained' && t.modelId) return tx.findOneByOrFail(ModelEntity, { id: t.modelId });
    const model = await createModelVersion(
      tx,
      {
        lineageId: t.lineageId,
        trainingUid: uid,
        labels: artifact.labels,
        inputShape: artifact.inputShape,
        task: artifact.task,
        runtime: artifact.runtime ?? null,
        hyperparametersUid: t.hyperparametersUid,
        baseModelId: t.baseModelId,
        s3ModelPath: artifact.path,
        beamModelPath: artifact.beamModelPath ?? null,
        artifactSha256: artifact.sha256,
        artifactSize: artifact.size,
      },
      actor,
    );
    const end = new Date();
    const duration = t.trainingStartTime ? Math.round((end.getTime() - new Date(t.trainingStartTime).getTime()) / 1000) : null;
    await transition(tx, 'training', uid, 'trained', actor, { modelId: model.id, progress: 1, trainingEndTime: end, trainingDuration: duration } as Partial<ModelTraining>);
    await appendTrainingLog(tx, uid, `trained: model ${model.modelName} (sha256 ${artifact.sha256.slice(0, 12)}…)`);
    return model;
  });
}

export async function endTraining(ds: DataSource, uid: string, to: 'failed' | 'cancelled', reason: string, actor: Actor = systemActor): Promise<boolean> {
  return ds.transaction(async (tx) => {
    const t = await tx.findOne(ModelTraining, { where: { uid }, lock: { mode: 'pessimistic_write' } });
    if (!t || ['trained', 'failed', 'cancelled'].includes(t.status)) return false;
    await appendTrainingLog(tx, uid, reason);
    await transition(tx, 'training', uid, to, actor, { trainingEndTime: new Date(), ...(to === 'failed' ? { trainingError: reason.slice(0, 2000) } : {}) } as Partial<ModelTraining>);
    return true;
  });
}
