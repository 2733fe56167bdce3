// What an in-process training reads before it starts: the validated dataset snapshot, its
// hyperparameters and, for a new version, the base model's verified ONNX bytes. One place for
// the classifier and the detector trainers (jobs/training/), which do not touch the database.
import type { AppContext } from '../app/context.js';
import { Dataset, Hyperparameters as HyperparametersRow, Model, type ModelTraining } from '../db/entities/index.js';
import { modelArtifactBytes } from './evaluation-service.js';

/** A training row as the trainers see it. */
export type TrainingRecord = ModelTraining;

export interface TrainingInputs {
  /** Where the validated snapshot is stored (readSnapshot). */
  snapshotPath: string;
  /** The stored hyperparameters, unparsed: each trainer parses them with its own schema. */
  params: unknown;
  /** The base model's ONNX for a new version; absent for a new model. */
  baseModelOnnx?: Uint8Array;
}

export async function loadTrainingInputs(ctx: Pick<AppContext, 'db' | 'artifacts'>, training: TrainingRecord): Promise<TrainingInputs> {
  const manager = ctx.db.dataSource.manager;
  const dataset = training.datasetId ? await manager.findOneBy(Dataset, { id: training.datasetId }) : null;
  if (!dataset?.storagePath || dataset.status !== 'valid') throw new Error('the training has no validated dataset snapshot');
  if (!training.hyperparametersUid) throw new Error('the training has no hyperparameters (an imported model is not trained here)');
  const hpRow = await manager.findOneByOrFail(HyperparametersRow, { uid: training.hyperparametersUid });
  let baseModelOnnx: Uint8Array | undefined;
  if (training.mode === 'new_version' && training.baseModelId) {
    baseModelOnnx = await modelArtifactBytes(ctx.artifacts, await manager.findOneByOrFail(Model, { id: training.baseModelId }));
  }
  return { snapshotPath: dataset.storagePath, params: hpRow.params, baseModelOnnx };
}
