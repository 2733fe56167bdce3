// The remote GPU trainer contract (trainer 'remote'):
//   POST {TRAINER_URL}/jobs  {trainingUid, task, datasetUrl, datasetSha256, labels, hyperparameters,
//        callbackUrl, baseModelUrl?, detector?: {imageSize, classNames, format}}  → {jobId}
//   callbacks  POST {publicUrl}/webhooks/trainer  {jobId, trainingUid, type: progress|completed|failed, ...}
//   status     GET {TRAINER_URL}/jobs/{jobId} → {jobId, status: running|completed|failed, ...}
// Both directions are signed: X-Assay-Timestamp + X-Assay-Signature: sha256=HMAC(TRAINER_SECRET, `${ts}.${body}`).
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { Dataset, Model, ModelTraining } from '../db/entities/index.js';
import { FetchError, safeFetchStream } from '../datasets/safe-fetch.js';
import { JOBS } from './ports/job-queue.js';
import { ArtifactTooLargeError, readArtifact } from '../storage/artifact-store.js';
import { detectRuntime, ValidationError } from '../domain/index.js';
import type { DetectorInfo } from '../ml/detect/layout.js';
import { checkClassesInDataset, checkModelFile } from './model-import-service.js';
import type { DatasetSnapshot } from './dataset-snapshot.js';
import { readSnapshot } from './dataset-snapshot.js';
import { appendTrainingLog, endTraining, finishTraining, recordEpoch, type TrainedArtifact } from './training-run-service.js';
import { transition } from './transitions.js';
import { systemActor, type Actor } from './audit.js';
import { signedArtifactUrl } from '../storage/artifact-links.js';
import { signBody } from '../domain/signature.js';

export const trainerActor: Actor = { type: 'trainer', id: null };

/** Signature window: older (or future) timestamps are refused, so a captured callback cannot be replayed later. */
/** Dataset and image links given to the trainer stay valid this long (it may queue the job). */
const TRAINER_LINK_TTL_SECONDS = 24 * 3600;

export class TransientTrainerError extends Error {
  readonly transient = true;
  override name = 'TransientTrainerError';
}

const metricsFields = {
  epoch: z.number().int().min(0).optional(),
  totalEpochs: z.number().int().positive().optional(),
  loss: z.number().optional(),
  accuracy: z.number().optional(),
  valLoss: z.number().optional(),
  valAccuracy: z.number().optional(),
};

export const trainerCallbackSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), jobId: z.string().min(1).max(200), trainingUid: z.string().uuid(), ...metricsFields }),
  z.object({ type: z.literal('completed'), jobId: z.string().min(1).max(200), trainingUid: z.string().uuid(), artifactUrl: z.string().url(), sha256: z.string().regex(/^[0-9a-f]{64}$/).optional(), beamModelPath: z.string().max(1000).optional(), labels: z.array(z.string()).optional(), inputShape: z.array(z.number().int()).optional() }),
  z.object({ type: z.literal('failed'), jobId: z.string().min(1).max(200), trainingUid: z.string().uuid(), error: z.string().max(4000) }),
]);
export type TrainerCallback = z.infer<typeof trainerCallbackSchema>;

const jobStatusSchema = z.object({
  jobId: z.string(),
  status: z.enum(['queued', 'running', 'completed', 'failed']),
  artifactUrl: z.string().url().optional(),
  sha256: z.string().optional(),
  beamModelPath: z.string().optional(),
  error: z.string().optional(),
  ...metricsFields,
});

function trainerConfig(ctx: AppContext) {
  if (!ctx.config.trainer) throw new Error('the training asks for the remote trainer but TRAINER_URL is not set');
  return ctx.config.trainer;
}

async function signedFetch(ctx: AppContext, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  const { url, secret } = trainerConfig(ctx);
  const text = body === undefined ? '' : JSON.stringify(body);
  const ts = String(Math.floor(Date.now() / 1000));
  try {
    return await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', 'x-assay-timestamp': ts, 'x-assay-signature': signBody(secret, ts, text) },
      body: body === undefined ? undefined : text,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new TransientTrainerError(`the trainer at ${url} is unreachable: ${(e as Error).message}`);
  }
}

/** A COCO file for the trainer whose images are time-limited links to the stored image bytes. */
async function trainerDatasetUrl(ctx: AppContext, dataset: Dataset): Promise<string> {
  const snapshot = await readSnapshot(ctx.artifacts, dataset.storagePath!);
  const link = (path: string) => signedArtifactUrl(ctx, path, TRAINER_LINK_TTL_SECONDS);
  const images = await Promise.all(snapshot.images.map(async (i) => ({ ...i, file_name: await link(i.artifact) })));
  const put = await ctx.artifacts.put(Buffer.from(JSON.stringify({ ...snapshot, images })), { kind: 'dataset', extension: 'json' });
  return link(put.path);
}

/** Sends a queued training to the trainer; the training becomes 'training' with its remote_job_id. */
export async function submitRemoteTraining(ctx: AppContext, training: ModelTraining): Promise<string> {
  const ds = ctx.db.dataSource;
  const dataset = await ds.manager.findOneByOrFail(Dataset, { id: training.datasetId! });
  const hp = await ds.query(`SELECT params FROM hyperparameters WHERE uid = $1`, [training.hyperparametersUid]);
  const base = training.mode === 'new_version' && training.baseModelId ? await ds.manager.findOneByOrFail(Model, { id: training.baseModelId }) : null;
  const snapshot = await readSnapshot(ctx.artifacts, dataset.storagePath!);
  const hyperparameters = (hp[0] as { params: { imageSize?: number } }).params;
  const body = {
    trainingUid: training.uid,
    task: training.task,
    datasetUrl: await trainerDatasetUrl(ctx, dataset),
    datasetSha256: dataset.sha256,
    labels: snapshot.labels,
    hyperparameters,
    callbackUrl: `${ctx.config.publicUrl}/webhooks/trainer`,
    ...(base?.s3ModelPath ? { baseModelUrl: await signedArtifactUrl(ctx, base.s3ModelPath, TRAINER_LINK_TTL_SECONDS) } : {}),
    // What the completed file must be: checked on the callback exactly as an import is.
    ...(training.task === 'detect' ? { detector: { imageSize: hyperparameters.imageSize, classNames: snapshot.labels, format: 'ultralytics-onnx' } } : {}),
  };
  const res = await signedFetch(ctx, 'POST', '/jobs', body);
  if (res.status >= 500 || res.status === 429) throw new TransientTrainerError(`the trainer answered HTTP ${res.status}`);
  if (!res.ok) throw new Error(`the trainer refused the job: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
  const parsed = z.object({ jobId: z.string().min(1).max(200) }).safeParse(await res.json().catch(() => null));
  if (!parsed.success) throw new Error('the trainer answered without a jobId');
  await ds.transaction(async (tx) => {
    await transition(tx, 'training', training.uid, 'training', systemActor, { remoteJobId: parsed.data.jobId, trainingStartTime: new Date() } as Partial<ModelTraining>, { remoteJobId: parsed.data.jobId });
    await appendTrainingLog(tx, training.uid, `sent to the remote trainer (job ${parsed.data.jobId})`);
  });
  return parsed.data.jobId;
}

export type CallbackOutcome = { status: 'ok' | 'duplicate' | 'cancel'; modelId?: string };

/** Applies a trainer callback (or a polled status). Idempotent: repeats of a final state change nothing. */
export async function applyTrainerUpdate(ctx: AppContext, update: TrainerCallback): Promise<CallbackOutcome> {
  const ds = ctx.db.dataSource;
  const training = await ds.manager.findOneBy(ModelTraining, { uid: update.trainingUid });
  if (!training || training.trainer !== 'remote' || training.remoteJobId !== update.jobId) throw new UnknownTrainerJobError();
  if (training.status !== 'training') return { status: 'duplicate', modelId: training.modelId ?? undefined };

  if (update.type === 'progress') {
    if (update.epoch === undefined || update.loss === undefined) return { status: 'ok' };
    const cancel = await recordEpoch(ds, training.uid, { epoch: update.epoch, totalEpochs: update.totalEpochs ?? training.totalEpochs, loss: update.loss, accuracy: update.accuracy ?? 0, valLoss: update.valLoss, valAccuracy: update.valAccuracy });
    ctx.events.emit('training.progress', { trainingUid: training.uid, epoch: update.epoch, totalEpochs: update.totalEpochs ?? training.totalEpochs, loss: update.loss, accuracy: update.accuracy, valLoss: update.valLoss, valAccuracy: update.valAccuracy });
    if (cancel) {
      await endTraining(ds, training.uid, 'cancelled', 'cancelled on request; the remote trainer was told to stop', trainerActor);
      ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'cancelled', modelId: null });
      return { status: 'cancel' };
    }
    return { status: 'ok' };
  }
  if (update.type === 'failed') {
    if (await endTraining(ds, training.uid, 'failed', `remote trainer failed: ${update.error}`, trainerActor)) {
      ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'failed', modelId: null, error: update.error });
    }
    return { status: 'ok' };
  }

  // Completed: download (SSRF-safe, capped), hash and store exactly what the trainer produced.
  let stored;
  try {
    const { stream } = await safeFetchStream(update.artifactUrl, { ...ctx.config.fetch, accept: ['application/octet-stream', 'binary/octet-stream', 'application/onnx'] });
    stored = await ctx.artifacts.put(stream, { kind: 'model', extension: 'onnx', maxBytes: ctx.config.fetch.maxBytes });
  } catch (e) {
    if (e instanceof FetchError && e.transient) throw new TransientTrainerError(`artifact download failed: ${e.message}`);
    const reason = e instanceof FetchError || e instanceof ArtifactTooLargeError ? e.message : (e as Error).message;
    if (await endTraining(ds, training.uid, 'failed', `the trained model could not be downloaded: ${reason}`, trainerActor)) {
      ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'failed', modelId: null, error: reason });
    }
    // The trainer hears why (a refused URL is its mistake); the training has ended either way.
    throw new ArtifactRefusedError(reason);
  }
  if (update.sha256 && update.sha256 !== stored.sha256) {
    await endTraining(ds, training.uid, 'failed', `the downloaded model's sha256 ${stored.sha256} differs from the trainer's ${update.sha256}`, trainerActor);
    ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'failed', modelId: null, error: 'artifact hash mismatch' });
    return { status: 'ok' };
  }
  const snapshot = training.datasetId ? await readSnapshot(ctx.artifacts, (await ds.manager.findOneByOrFail(Dataset, { id: training.datasetId })).storagePath!) : null;
  let artifact: TrainedArtifact;
  if (training.task === 'detect') {
    // The file is the truth for a detector (classes, input size): the callback's labels/inputShape are ignored.
    let info: DetectorInfo;
    try {
      info = checkTrainedDetector(await readArtifact(ctx.artifacts, stored.path), ctx.config.fetch.maxBytes, snapshot);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      if (await endTraining(ds, training.uid, 'failed', `the trained model was refused: ${e.message}`, trainerActor)) {
        ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'failed', modelId: null, error: e.message });
      }
      throw new ModelRefusedError(e.message);
    }
    const runtime = detectRuntime({ inputSize: info.inputSize, classNames: info.names, candidates: info.candidates, inputName: info.inputName, outputName: info.outputName });
    artifact = { ...stored, labels: info.names, inputShape: runtime.input.shape, task: 'detect', runtime, beamModelPath: update.beamModelPath ?? null };
  } else {
    artifact = { ...stored, labels: update.labels ?? snapshot?.labels ?? [], inputShape: update.inputShape ?? null, beamModelPath: update.beamModelPath ?? null };
  }
  const model = await finishTraining(ds, training.uid, artifact, trainerActor);
  ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'trained', modelId: model.id });
  await ctx.queue.now(JOBS.modelEvaluate, { modelId: model.id });
  return { status: 'ok', modelId: model.id };
}

/**
 * A remote detector's file, checked as an import is: the Ultralytics layout, every class a category
 * of the dataset, and every label the training was asked for among the classes (so the lineage's
 * options are all served). Class order is free: the runtime descriptor records the file's order.
 */
export function checkTrainedDetector(bytes: Uint8Array, maxBytes: number, snapshot: Pick<DatasetSnapshot, 'labels' | 'categories'> | null): DetectorInfo {
  const info = checkModelFile(bytes, maxBytes);
  if (!snapshot) return info;
  checkClassesInDataset(info.names, snapshot);
  const unserved = snapshot.labels.filter((l) => !info.names.includes(l));
  if (unserved.length) throw new ValidationError(`The model has no class for ${unserved.join(', ')}; its classes are ${info.names.join(', ')}`, 'file');
  return info;
}

/** The completed callback's model file does not fit what the training asked for (layout, classes). */
export class ModelRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`the trained model was refused: ${reason}`);
    this.name = 'ModelRefusedError';
  }
}

/** The completed callback's artifact could not be taken (refused URL, size, type, HTTP error). */
export class ArtifactRefusedError extends Error {
  constructor(readonly reason: string) {
    super(`the trained model could not be downloaded: ${reason}`);
    this.name = 'ArtifactRefusedError';
  }
}

export class UnknownTrainerJobError extends Error {
  constructor() {
    super('no remote training with this jobId and trainingUid');
    this.name = 'UnknownTrainerJobError';
  }
}

/** Remote trainings quiet for this long are asked for their status (covers lost callbacks). */
export const POLL_QUIET_MS = 60_000;

/** Polls the trainer for remote trainings with no recent callback and applies what it says. */
export async function pollRemoteTrainings(ctx: AppContext, quietMs = POLL_QUIET_MS): Promise<number> {
  if (!ctx.config.trainer) return 0;
  const quiet: ModelTraining[] = await ctx.db.dataSource
    .getRepository(ModelTraining)
    .createQueryBuilder('t')
    .where(`t.status = 'training' AND t.trainer = 'remote' AND t.remote_job_id IS NOT NULL AND t.updated_at < :before`, { before: new Date(Date.now() - quietMs) })
    .getMany();
  let applied = 0;
  for (const t of quiet) {
    try {
      const res = await signedFetch(ctx, 'GET', `/jobs/${encodeURIComponent(t.remoteJobId!)}`);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const s = jobStatusSchema.parse(await res.json());
      const base = { jobId: t.remoteJobId!, trainingUid: t.uid };
      if (s.status === 'completed' && s.artifactUrl) await applyTrainerUpdate(ctx, { ...base, type: 'completed', artifactUrl: s.artifactUrl, sha256: s.sha256, beamModelPath: s.beamModelPath });
      else if (s.status === 'failed') await applyTrainerUpdate(ctx, { ...base, type: 'failed', error: s.error ?? 'the trainer reports the job failed' });
      else if (s.epoch !== undefined && s.loss !== undefined) await applyTrainerUpdate(ctx, { ...base, type: 'progress', epoch: s.epoch, totalEpochs: s.totalEpochs, loss: s.loss, accuracy: s.accuracy });
      else await ctx.db.dataSource.query(`UPDATE model_trainings SET updated_at = now() WHERE uid = $1`, [t.uid]);
      applied++;
    } catch (err) {
      ctx.logger.warn({ err, trainingUid: t.uid }, 'polling the remote trainer failed');
    }
  }
  return applied;
}

