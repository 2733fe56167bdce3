// Creating a training from the wizard's choices: everything is validated first, then the
// lineage, dataset, hyperparameters and training rows are written in one transaction.
import { isUuid } from '../domain/ids.js';
import type { EntityManager } from 'typeorm';
import { AiOption, Dataset, ModelTraining, TestType } from '../db/entities/index.js';
import {
  checkDetectorImageSize,
  checkLength,
  decideVersion,
  suggestLineageName,
  validateLineageName,
  usableModel,
  validateDatasetName,
  ValidationError,
  ConflictError,
  NotFoundError,
  type ModelTask,
  type VersionChoice,
  type VersionDecision,
} from '../domain/index.js';
import { requireAccess } from './access-gate.js';
import { writeAudit, type Actor } from './audit.js';
import { isUniqueViolation } from './db-errors.js';
import { getOrCreateHyperparameters } from './hyperparameter-service.js';
import { findLineageForOptions, findOrCreateLineage } from './lineage-service.js';
import { latestModel } from './model-service.js';
import { transition } from './transitions.js';
import { JOBS, type DatasetValidateData, type JobQueue } from './ports/job-queue.js';

export interface TrainingRequest {
  kitIds: string[];
  optionUids: string[];
  datasetName: string;
  dataset: { source: 'upload' | 'url'; uri: string };
  hyperparameters: unknown;
  versionChoice?: VersionChoice;
  /** Name of a new lineage (ignored when the options already have one); default: suggested from the options. */
  lineageName?: string;
  trainer?: 'tfjs' | 'remote';
  /** Default 'classify' (what requests without a task trained before tasks existed). */
  task?: ModelTask;
  requestedBy: string;
  slackChannel?: string | null;
}

export interface TrainingCreated {
  decision: VersionDecision;
  training: ModelTraining | null;
  dataset: Dataset | null;
  lineageId: string;
}

/** Active kits, and options each selectable on them with a label name; else a ValidationError naming the field. */
export async function checkKitsAndOptions(manager: EntityManager, kitIds: string[], optionUids: string[]) {
  if (kitIds.length === 0) throw new ValidationError('Pick at least one kit', 'kits');
  if (optionUids.length === 0) throw new ValidationError('Pick at least one AI option', 'options');
  const kits = await manager.findBy(TestType, kitIds.map((id) => ({ id })));
  const missing = kitIds.find((id) => !kits.some((k) => k.id === id && k.status === 'active'));
  if (missing) throw new ValidationError(`Kit ${missing} does not exist or is archived`, 'kits');
  const allowed: { uid: string }[] = await manager.query(
    `SELECT DISTINCT o.uid FROM ai_options o JOIN test_type_ai_options l ON l.ai_option_uid = o.uid AND l.selectable
      WHERE o.selectable AND o.active AND l.test_type_id = ANY($1::uuid[])`,
    [kitIds],
  );
  const allowedSet = new Set(allowed.map((r) => r.uid));
  const notAllowed = optionUids.find((u) => !allowedSet.has(u));
  if (notAllowed) throw new ValidationError(`Option ${notAllowed} is not a selectable option of the picked kits`, 'options');
  const options = await manager.findBy(AiOption, optionUids.map((uid) => ({ uid })));
  const unlabeled = options.filter((o) => !o.labelName);
  if (unlabeled.length) throw new ValidationError(`These options need a label name first: ${unlabeled.map((o) => o.name).join(', ')}`, 'labels');
  return { kits, options };
}

export async function createTraining(manager: EntityManager, req: TrainingRequest, actor: Actor): Promise<TrainingCreated> {
  return manager.transaction(async (tx) => {
    const datasetName = validateDatasetName(req.datasetName);
    if (req.dataset.source === 'url' && !/^https?:\/\//i.test(req.dataset.uri)) throw new ValidationError('The dataset URL must start with https://', 'dataset_url');
    checkLength(req.dataset.uri, 'url', req.dataset.source === 'url' ? 'dataset_url' : 'dataset_file', 'A dataset URL');
    const { kits, options } = await checkKitsAndOptions(tx, [...new Set(req.kitIds)], [...new Set(req.optionUids)]);
    // A new lineage takes the name the person gave it (or the suggestion); an existing one keeps its own.
    const existing = await findLineageForOptions(tx, options.map((o) => o.uid));
    const name = existing ? existing.name : req.lineageName ? validateLineageName(req.lineageName) : suggestLineageName(options.map((o) => o.name));
    const lineage = existing ?? (await findOrCreateLineage(tx, options.map((o) => o.uid), name));
    const latest = await latestModel(tx, lineage.id);
    const decision = decideVersion(latest && usableModel(latest) ? latest : null, req.versionChoice);

    if (decision.action === 'skip') {
      // Map the kits to the existing model; activating it for them is a deploy (needs an approver).
      for (const kit of kits) {
        for (const o of options) {
          await tx.query(
            `INSERT INTO model_test_types (model_id, test_type_id, ai_option_uid) VALUES ($1, $2, $3)
             ON CONFLICT (model_id, test_type_id, ai_option_uid) DO NOTHING`,
            [decision.existingModelId, kit.id, o.uid],
          );
        }
      }
      await writeAudit(tx, actor, { action: 'training.skipped', entityType: 'model', entityId: decision.existingModelId, details: { kits: kits.map((k) => k.id) } });
      return { decision, training: null, dataset: null, lineageId: lineage.id };
    }

    const task = req.task ?? 'classify';
    // Fine-tuning starts from the base's weights: it must be a model of the same task.
    if (decision.mode === 'new_version' && latest && latest.task !== task) {
      throw new ValidationError(`A new version fine-tunes from ${latest.modelName}, a ${latest.task === 'detect' ? 'detector' : 'classifier'}: pick Retrain to train a ${task === 'detect' ? 'detector' : 'classifier'} from scratch`, 'task');
    }
    const hp = await getOrCreateHyperparameters(tx, req.hyperparameters);
    if (task === 'detect') checkDetectorImageSize((hp.params as { imageSize: number }).imageSize);
    let dataset: Dataset;
    try {
      dataset = await tx.save(Dataset, tx.create(Dataset, { name: datasetName, lineageId: lineage.id, source: req.dataset.source, sourceUri: req.dataset.uri, status: 'pending', createdBy: req.requestedBy }));
    } catch (e) {
      if (isUniqueViolation(e)) throw new ValidationError(`A dataset named "${datasetName}" already exists: pick another name`, 'dataset_name');
      throw e;
    }
    const training = await tx.save(
      ModelTraining,
      tx.create(ModelTraining, {
        lineageId: lineage.id,
        datasetId: dataset.id,
        datasetName,
        baseModelId: decision.baseModelId ?? null,
        hyperparametersUid: hp.uid,
        testTypeIds: kits.map((k) => k.id),
        mode: decision.mode!,
        trainer: req.trainer ?? 'tfjs',
        task,
        status: 'queued',
        totalEpochs: (hp.params as { epochs: number }).epochs,
        requestedBy: req.requestedBy,
        slackChannel: req.slackChannel ?? null,
      }),
    );
    await writeAudit(tx, actor, {
      action: 'training.queued',
      entityType: 'training',
      entityId: training.uid,
      details: { lineageId: lineage.id, trainingId: lineage.trainingId, mode: training.mode, task, datasetName, kits: kits.map((k) => k.kitId), options: options.map((o) => o.name) },
    });
    return { decision, training, dataset, lineageId: lineage.id };
  });
}

/**
 * Queues a new training's first job, the dataset's validation (after the wizard has answered).
 * An uploaded file's URL travels in the job; the bot token that fetches it never does.
 */
export async function startDatasetValidation(queue: JobQueue, job: { datasetId: string; trainingUid: string; uploadUrl: string | null }): Promise<void> {
  const data: DatasetValidateData = { datasetId: job.datasetId, trainingUid: job.trainingUid, ...(job.uploadUrl ? { upload: { url: job.uploadUrl } } : {}) };
  await queue.now(JOBS.datasetValidate, data);
}

/**
 * Asks a training to stop; the trainer honours it between batches. Finished ones refuse. Only its
 * requester or an approver may (operators at the CLI too); a refusal is audited and survives.
 */
export async function requestCancel(manager: EntityManager, trainingUid: string, actor: Actor, access: { approvers: ReadonlySet<string> }): Promise<ModelTraining> {
  if (!isUuid(trainingUid)) throw new NotFoundError('Training', trainingUid);
  const found = await manager.findOne(ModelTraining, { where: { uid: trainingUid } });
  if (!found) throw new NotFoundError('Training', trainingUid);
  await requireAccess(manager, { actor, action: 'cancel', approvers: access.approvers, entity: { type: 'training', id: trainingUid }, requestedBy: found.requestedBy });
  return manager.transaction(async (tx) => {
    const t = await tx.findOne(ModelTraining, { where: { uid: trainingUid }, lock: { mode: 'pessimistic_write' } });
    if (!t) throw new NotFoundError('Training', trainingUid);
    if (['trained', 'failed', 'cancelled'].includes(t.status)) throw new ConflictError(`Training ${trainingUid} has already ${t.status === 'trained' ? 'finished' : t.status}`);
    if (t.status === 'queued' || t.status === 'validating') {
      return transition(tx, 'training', trainingUid, 'cancelled', actor, { cancelRequested: true, trainingEndTime: new Date() } as Partial<ModelTraining>);
    }
    await tx.update(ModelTraining, { uid: trainingUid }, { cancelRequested: true });
    await writeAudit(tx, actor, { action: 'training.cancel_requested', entityType: 'training', entityId: trainingUid });
    return { ...t, cancelRequested: true };
  });
}
