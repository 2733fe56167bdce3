// Trainings as the worker runs them (validation, epochs, the end), and what they work on:
// datasets, evaluations, imported models.
import type { DataSource } from 'typeorm';
import { beginTraining, beginValidation, endTraining, finishTraining, getTraining, isCancelRequested, recordEpoch, recordValidation, requeueAfterTransientError } from '../training-run-service.js';
import { datasetWithTraining, expectedLabels, intakeDataset } from '../dataset-service.js';
import { evaluateModel } from '../evaluation-service.js';
import { importFormChoices, importModel, type ImportRequest } from '../model-import-service.js';
import type { Actor } from '../audit.js';
import type { Dataset } from '../../db/entities/index.js';
import type { DatasetValidateData } from '../ports/job-queue.js';
import type { ServiceDeps } from './deps.js';

type Rest<F> = F extends (first: never, ...rest: infer R) => unknown ? R : never;

/** The worker's side: the steps that change a training open their own transaction (reads use the manager). */
export function trainingRunServices(dataSource: DataSource) {
  return {
    get: (uid: string) => getTraining(dataSource.manager, uid),
    isCancelRequested: (uid: string) => isCancelRequested(dataSource.manager, uid),
    beginValidation: (...a: Rest<typeof beginValidation>) => beginValidation(dataSource, ...a),
    requeueAfterTransientError: (...a: Rest<typeof requeueAfterTransientError>) => requeueAfterTransientError(dataSource, ...a),
    recordValidation: (...a: Rest<typeof recordValidation>) => recordValidation(dataSource, ...a),
    beginTraining: (uid: string) => beginTraining(dataSource, uid),
    /** True when a cancel was asked for meanwhile. */
    recordEpoch: (...a: Rest<typeof recordEpoch>) => recordEpoch(dataSource, ...a),
    finishTraining: (...a: Rest<typeof finishTraining>) => finishTraining(dataSource, ...a),
    endTraining: (...a: Rest<typeof endTraining>) => endTraining(dataSource, ...a),
  };
}

export function datasetServices({ db, config, artifacts }: Pick<ServiceDeps, 'db' | 'config' | 'artifacts'>) {
  return {
    withTraining: (datasetId: string, trainingUid: string) => datasetWithTraining(db.dataSource, datasetId, trainingUid),
    expectedLabels: (lineageId: string) => expectedLabels(db.dataSource, lineageId),
    /** Download, COCO validation and the snapshot in the artifact store. */
    intake: (dataset: Dataset, labels: string[], input: DatasetValidateData) => intakeDataset(dataset, labels, input, { config, artifacts }),
  };
}

export function evaluationServices({ db, artifacts }: Pick<ServiceDeps, 'db' | 'artifacts'>) {
  return { evaluateModel: (modelId: string) => evaluateModel(db.dataSource, artifacts, modelId) };
}

export function importServices({ db, config, artifacts, queue }: Pick<ServiceDeps, 'db' | 'config' | 'artifacts' | 'queue'>) {
  return {
    formChoices: () => importFormChoices(db.dataSource.manager),
    importModel: (request: ImportRequest, actor: Actor) => importModel(db.dataSource, { config, artifacts, queue }, request, actor),
  };
}
