// The training pipeline: dataset.validate → model.train → model.evaluate, plus the remote
// trainer poll and the start-up scan for trainings a dead worker left behind.
import type { Job } from 'agenda';
import type { AppContext } from '../../app/context.js';
import { isDatabaseUnavailable } from '../../services/db-errors.js';
import type { IntakeResult } from '../../services/dataset-service.js';
import { pollRemoteTrainings, submitRemoteTraining } from '../../services/remote-trainer-service.js';
import { unreadableReport } from '../../datasets/validation-report.js';
import { datasetValidateData, modelEvaluateData, modelTrainData } from '../../services/ports/job-queue.js';
import { failuresSoFar, isTransient, MAX_TRANSIENT_RETRIES, retryTransient, withHeartbeat } from '../job-runtime.js';
import { JOBS } from '../../services/ports/job-queue.js';
import { recoverStuckTrainings } from '../../services/training-recovery-service.js';
import { trainDetectorWithTfjs, trainWithTfjs } from '../training/tfjs-training.js';
import type { JobRegistry } from './registry.js';

/** Trainings with a job running in this process: a second copy of the same job here is a duplicate. */
const activeHere = new Set<string>();

async function exclusive(ctx: AppContext, key: string, fn: () => Promise<void>): Promise<void> {
  if (activeHere.has(key)) {
    ctx.logger.warn({ key }, 'a job for this training is already running in this worker; skipping the duplicate');
    return;
  }
  activeHere.add(key);
  try {
    await fn();
  } finally {
    activeHere.delete(key);
  }
}

const retriable = (e: unknown) => isTransient(e) || isDatabaseUnavailable(e);
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runDatasetValidate(ctx: AppContext, job: Job<unknown>): Promise<void> {
  const data = datasetValidateData.parse(job.attrs.data);
  const { datasets, trainingRuns: runs } = ctx.services;
  const { dataset, training } = await datasets.withTraining(data.datasetId, data.trainingUid);
  if ((await runs.beginValidation(training.uid, dataset.id)) === 'skip') return;
  const labels = await datasets.expectedLabels(training.lineageId);
  let result: IntakeResult;
  try {
    result = await datasets.intake(dataset, labels, data);
  } catch (e) {
    if (retriable(e) && failuresSoFar(job) < MAX_TRANSIENT_RETRIES) {
      await runs.requeueAfterTransientError(training.uid, message(e));
      throw e;
    }
    ctx.logger.error({ err: e, datasetId: dataset.id }, 'dataset validation failed');
    result = { report: unreadableReport(`The dataset could not be validated: ${message(e)}`, labels) };
  }
  const enqueue = await runs.recordValidation({ uid: training.uid, datasetId: dataset.id, report: result.report, snapshot: result.snapshot });
  ctx.events.emit('dataset.validated', { datasetId: dataset.id, trainingUid: training.uid, valid: result.report.valid, report: result.report as never });
  if (enqueue) await ctx.queue.now(JOBS.modelTrain, { trainingUid: training.uid });
  else if ((await runs.get(training.uid)).status === 'failed') {
    ctx.events.emit('training.finished', { trainingUid: training.uid, status: 'failed', modelId: null, error: result.report.summary });
  }
}

async function trainRemote(ctx: AppContext, job: Job<unknown>, uid: string): Promise<void> {
  const runs = ctx.services.trainingRuns;
  const training = await runs.get(uid);
  if (training.status !== 'queued') return; // already sent: callbacks and the poll take it from here
  try {
    await submitRemoteTraining(ctx, training);
  } catch (e) {
    if (retriable(e) && failuresSoFar(job) < MAX_TRANSIENT_RETRIES) throw e;
    if (await runs.endTraining(uid, 'failed', `the remote trainer did not take the job: ${message(e)}`)) {
      ctx.events.emit('training.finished', { trainingUid: uid, status: 'failed', modelId: null, error: message(e) });
    }
  }
}

export async function runModelTrain(ctx: AppContext, job: Job<unknown>): Promise<void> {
  const { trainingUid: uid } = modelTrainData.parse(job.attrs.data);
  const runs = ctx.services.trainingRuns;
  if ((await runs.get(uid)).trainer === 'remote') return trainRemote(ctx, job, uid);
  if ((await runs.beginTraining(uid)) === 'skip') return;
  try {
    const training = await runs.get(uid);
    const output = training.task === 'detect' ? await trainDetectorWithTfjs(ctx, training) : await trainWithTfjs(ctx, training);
    const stored = await ctx.artifacts.put(Buffer.from(output.onnx.buffer, output.onnx.byteOffset, output.onnx.byteLength), { kind: 'model', extension: 'onnx' });
    const model = await runs.finishTraining(
      uid,
      'runtime' in output
        ? { ...stored, labels: output.labels, inputShape: output.runtime.input.shape, task: 'detect', runtime: output.runtime }
        : { ...stored, labels: output.labels, inputShape: output.inputShape },
    );
    ctx.events.emit('training.finished', { trainingUid: uid, status: 'trained', modelId: model.id });
    await ctx.queue.now(JOBS.modelEvaluate, { modelId: model.id });
  } catch (e) {
    const cancelled = (e as Error).name === 'TrainingCancelledError' || (await runs.isCancelRequested(uid).catch(() => false));
    if (cancelled) {
      const t = await runs.get(uid);
      if (await runs.endTraining(uid, 'cancelled', `cancelled on request after epoch ${t.currentEpoch} of ${t.totalEpochs}`)) {
        ctx.events.emit('training.finished', { trainingUid: uid, status: 'cancelled', modelId: null });
      }
      return;
    }
    if (await runs.endTraining(uid, 'failed', `training failed: ${message(e)}`)) {
      ctx.events.emit('training.finished', { trainingUid: uid, status: 'failed', modelId: null, error: message(e) });
    }
    throw e;
  }
}

export async function runModelEvaluate(ctx: AppContext, job: Job<unknown>): Promise<void> {
  const { modelId } = modelEvaluateData.parse(job.attrs.data);
  const outcome = await ctx.services.evaluations.evaluateModel(modelId);
  if (outcome) ctx.events.emit('evaluation.completed', outcome);
}

export function registerPipelineJobs(registry: JobRegistry, ctx: AppContext): void {
  const lockLifetime = ctx.config.jobLockLifetimeMs;
  // Touch well within the lock lifetime: a live worker's job is never taken over.
  const beat = Math.max(250, Math.floor(lockLifetime / 4));
  const onBeatError = (err: unknown) => ctx.logger.warn({ err }, 'job heartbeat failed');
  const run = (fn: (ctx: AppContext, job: Job<unknown>) => Promise<void>) => (job: Job<unknown>) => withHeartbeat(job, beat, () => fn(ctx, job), onBeatError);

  const perTraining = (fn: (ctx: AppContext, job: Job<unknown>) => Promise<void>) => (c: AppContext, job: Job<unknown>) =>
    exclusive(c, String((job.attrs.data as { trainingUid?: string } | undefined)?.trainingUid ?? job.attrs._id), () => fn(c, job));
  registry.define(JOBS.datasetValidate, run(perTraining(runDatasetValidate)), { concurrency: 2, lockLifetime, backoff: retryTransient() });
  registry.define(JOBS.modelTrain, run(perTraining(runModelTrain)), { concurrency: ctx.config.trainingConcurrency, lockLifetime, backoff: retryTransient() });
  registry.define(JOBS.modelEvaluate, run(runModelEvaluate), { concurrency: 1, lockLifetime, backoff: retryTransient() });
  if (ctx.config.trainer) {
    registry.define(JOBS.trainerPoll, async () => void (await pollRemoteTrainings(ctx)));
    registry.every('1 minute', JOBS.trainerPoll);
  }
  // After the worker is up, and every minute: trainings with no job at all get one again (a dead
  // worker's, or a queued one whose enqueue was lost after its commit).
  registry.define(JOBS.trainingRecover, async () => void (await recoverStuckTrainings(ctx)), { concurrency: 1 });
  registry.every('1 minute', JOBS.trainingRecover);
  ctx.agenda.ready
    .then(() => recoverStuckTrainings(ctx))
    .catch((err) => ctx.logger.error({ err }, 'recovering stuck trainings failed'));
}
