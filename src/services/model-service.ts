// Model versions: the next number per lineage comes from a row-locked counter in the
// database, so two trainings finishing at once get distinct versions.
import type { EntityManager } from 'typeorm';
import { Model, TrainingLineage } from '../db/entities/index.js';
import { classifyRuntime, modelName, NotFoundError, type ModelRuntime, type ModelTask } from '../domain/index.js';
import { writeAudit, type Actor } from './audit.js';
import { returnedRows } from '../db/returned-rows.js';

export interface NewModelVersion {
  lineageId: string;
  trainingUid: string | null;
  labels: string[];
  /** Default 'classify'. A detector must come with its runtime (the output shape is not derivable here). */
  task?: ModelTask;
  /** Default for a classifier: the descriptor its export implies (classifyRuntime). */
  runtime?: ModelRuntime | null;
  inputShape?: number[] | null;
  hyperparametersUid?: string | null;
  baseModelId?: string | null;
  s3ModelPath?: string | null;
  beamModelPath?: string | null;
  artifactSha256?: string | null;
  artifactSize?: number | null;
}

export async function nextModelVersion(manager: EntityManager, lineageId: string): Promise<{ version: number; lineage: TrainingLineage }> {
  const result = await manager.query(
    `UPDATE training_lineages SET last_model_version = last_model_version + 1 WHERE id = $1 RETURNING last_model_version, name, training_id`,
    [lineageId],
  );
  const rows = returnedRows<{ last_model_version: number; name: string; training_id: string }>(result);
  if (rows.length === 0) throw new NotFoundError('Lineage', lineageId);
  const row = rows[0]!;
  const lineage = Object.assign(new TrainingLineage(), { id: lineageId, name: row.name, trainingId: row.training_id });
  return { version: Number(row.last_model_version), lineage };
}

export async function createModelVersion(manager: EntityManager, input: NewModelVersion, actor: Actor): Promise<Model> {
  const task = input.task ?? 'classify';
  const runtime = input.runtime ?? (task === 'classify' ? classifyRuntime({ labels: input.labels, inputShape: input.inputShape ?? null }) : null);
  if (!runtime) throw new Error('a detector model version needs its runtime descriptor');
  if (runtime.task !== task) throw new Error(`runtime descriptor is for '${runtime.task}', the model version is '${task}'`);
  const { version, lineage } = await nextModelVersion(manager, input.lineageId);
  const model = manager.create(Model, {
    lineageId: input.lineageId,
    trainingUid: input.trainingUid,
    modelVersion: version,
    modelName: modelName(lineage.name, lineage.trainingId, version),
    task,
    runtime,
    labels: input.labels,
    inputShape: input.inputShape ?? null,
    hyperparametersUid: input.hyperparametersUid ?? null,
    baseModelId: input.baseModelId ?? null,
    s3ModelPath: input.s3ModelPath ?? null,
    beamModelPath: input.beamModelPath ?? null,
    artifactSha256: input.artifactSha256 ?? null,
    artifactSize: input.artifactSize == null ? null : String(input.artifactSize),
    status: 'draft',
  });
  const saved = await manager.save(Model, model);
  await writeAudit(manager, actor, {
    action: 'model.created',
    entityType: 'model',
    entityId: saved.id,
    details: { modelName: saved.modelName, version, task, lineageId: input.lineageId, trainingUid: input.trainingUid },
  });
  return saved;
}

/** The newest model of a lineage, any status (the version decision filters by usability). */
export async function latestModel(manager: EntityManager, lineageId: string): Promise<Model | null> {
  return manager.findOne(Model, { where: { lineageId }, order: { modelVersion: 'DESC' } });
}
