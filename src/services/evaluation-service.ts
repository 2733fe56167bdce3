// Evaluates a model version on its dataset's test split, running exactly the stored ONNX bytes
// (hash checked against the model row). Success → pending_approval with metrics (and the
// lineage's previous version's metrics for comparison). Any failure → the evaluation row is
// failed with the reason and the model goes back to draft: it can be evaluated again, and it
// can never reach approval without a completed evaluation.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { Dataset, Evaluation, Model, ModelTraining } from '../db/entities/index.js';
import { NotFoundError } from '../domain/index.js';
import type { CocoDataset } from '../ml/dataset/crops.js';
import { classificationMetrics } from '../ml/metrics/classification.js';
import { readOnnxMetadata } from '../ml/onnx/read.js';
import { readArtifact, type ArtifactStore } from '../storage/artifact-store.js';
import { systemActor } from './audit.js';
import { readSnapshot, snapshotImageLoader } from './dataset-snapshot.js';
import { storeDetectionPreview } from './detection-preview.js';
import { setStatus, transition } from './transitions.js';

export interface EvaluationOutcome {
  modelId: string;
  evaluationUid: string;
  status: 'completed' | 'failed';
  metrics: Record<string, unknown> | null;
  error: string | null;
}

export class ArtifactIntegrityError extends Error {
  override name = 'ArtifactIntegrityError';
}

/** The stored ONNX bytes, refused when they are not the bytes recorded on the model. */
export async function modelArtifactBytes(store: ArtifactStore, model: Model): Promise<Buffer> {
  if (!model.s3ModelPath) throw new ArtifactIntegrityError(`model ${model.modelName} has no stored artifact`);
  const bytes = await readArtifact(store, model.s3ModelPath);
  const sha = crypto.createHash('sha256').update(bytes).digest('hex');
  if (model.artifactSha256 && sha !== model.artifactSha256) {
    throw new ArtifactIntegrityError(`stored artifact ${model.s3ModelPath} has sha256 ${sha}, the model records ${model.artifactSha256}`);
  }
  return bytes;
}

async function previousMetrics(ds: DataSource, model: Model): Promise<Record<string, unknown> | null> {
  const rows: { id: string; model_name: string; model_version: number; metrics: Record<string, unknown> | null }[] = await ds.query(
    `SELECT id, model_name, model_version, metrics FROM models WHERE lineage_id = $1 AND model_version < $2 AND metrics IS NOT NULL ORDER BY model_version DESC LIMIT 1`,
    [model.lineageId, model.modelVersion],
  );
  const prev = rows[0];
  if (!prev) return null;
  const { previous: _drop, ...metrics } = prev.metrics ?? {};
  return { modelId: prev.id, modelName: prev.model_name, modelVersion: prev.model_version, ...metrics };
}

/** Runs the evaluation; `null` when the model is not waiting for one (already evaluated, deprecated...). */
export async function evaluateModel(ds: DataSource, store: ArtifactStore, modelId: string): Promise<EvaluationOutcome | null> {
  const model = await ds.manager.findOneBy(Model, { id: modelId });
  if (!model) throw new NotFoundError('Model', modelId);
  if (model.status !== 'draft' && model.status !== 'evaluating') return null;
  const training = model.trainingUid ? await ds.manager.findOneBy(ModelTraining, { uid: model.trainingUid }) : null;
  const dataset = training?.datasetId ? await ds.manager.findOneBy(Dataset, { id: training.datasetId }) : null;

  const started = new Date();
  const evaluation = await ds.transaction(async (tx) => {
    if (model.status === 'draft') await transition(tx, 'model', modelId, 'evaluating', systemActor);
    return tx.save(Evaluation, tx.create(Evaluation, { modelId, datasetId: dataset?.id ?? null, split: 'test', status: 'running', startTime: started }));
  });

  try {
    if (!dataset?.storagePath) throw new Error('the model has no validated dataset snapshot to evaluate on');
    if (model.task === 'detect') return await evaluateDetectorModel(ds, store, model, dataset, evaluation.uid, started);
    const bytes = await modelArtifactBytes(store, model);
    const meta = readOnnxMetadata(bytes); // CorruptArtifactError on undecodable bytes
    const snapshot = await readSnapshot(store, dataset.storagePath);
    const labels = model.labels;
    const testOnly: CocoDataset = { ...snapshot, images: snapshot.images.filter((i) => i.split === 'test') } as CocoDataset;
    // sharp and ONNX Runtime load when an evaluation runs, not when the process starts.
    const [{ buildCropSet }, { evaluateOnnxClassifier }] = await Promise.all([import('../ml/dataset/crops.js'), import('../ml/evaluate/onnx-classifier.js')]);
    const crops = await buildCropSet(testOnly, snapshotImageLoader(store), Object.fromEntries(labels.map((l, i) => [l, i])), meta.imageSize);
    if (crops.test.y.length === 0) throw new Error('the test split has no boxes of the model labels');
    const result = await evaluateOnnxClassifier(bytes, { x: crops.test.x, y: crops.test.y }, labels);
    const m = classificationMetrics(Array.from(crops.test.y), Array.from(result.predictions), labels);
    const summary: Record<string, unknown> = {
      accuracy: m.accuracy,
      macroF1: m.macro.f1,
      weightedF1: m.weighted.f1,
      perClass: m.perClass,
      support: m.support,
      confusionMatrix: m.confusionMatrix,
      split: 'test',
      evaluationUid: evaluation.uid,
      datasetSha256: dataset.sha256,
      artifactSha256: model.artifactSha256,
      imagesPerSecond: result.timing.imagesPerSecond,
      previous: await previousMetrics(ds, model),
    };
    const end = new Date();
    await ds.transaction(async (tx) => {
      await setStatus(tx, 'evaluation', evaluation.uid, 'completed', { endTime: end, duration: Math.round((end.getTime() - started.getTime()) / 1000), metrics: { ...m } as never, logs: `evaluated ${m.support} crops of the test split\n` });
      await tx.update(Model, { id: modelId }, { metrics: summary as never });
      await transition(tx, 'model', modelId, 'pending_approval', systemActor, {}, { evaluationUid: evaluation.uid, accuracy: m.accuracy });
    });
    return { modelId, evaluationUid: evaluation.uid, status: 'completed', metrics: summary, error: null };
  } catch (e) {
    // A detector that does not fit says so in its own words (DetectorLayoutError, DetectionDatasetError).
    const error = `${(e as Error).name === 'Error' ? '' : `${(e as Error).name}: `}${(e as Error).message}`.slice(0, 2000);
    const end = new Date();
    await ds.transaction(async (tx) => {
      await setStatus(tx, 'evaluation', evaluation.uid, 'failed', { endTime: end, duration: Math.round((end.getTime() - started.getTime()) / 1000), error });
      await transition(tx, 'model', modelId, 'draft', systemActor, {}, { evaluationUid: evaluation.uid, error });
    });
    return { modelId, evaluationUid: evaluation.uid, status: 'failed', metrics: null, error };
  }
}

/**
 * A detector on the dataset's test split: the stored ONNX bytes through evaluateDetector (letterbox,
 * NMS, pycocotools-exact COCO stats). The model row keeps the DetectionMetrics as they are (task,
 * the 12 stats, per_class, images, detections) plus mAP50-95 (= AP) and mAP50 (= AP50).
 */
async function evaluateDetectorModel(ds: DataSource, store: ArtifactStore, model: Model, dataset: Dataset, evaluationUid: string, started: Date): Promise<EvaluationOutcome> {
  const bytes = await modelArtifactBytes(store, model);
  const snapshot = await readSnapshot(store, dataset.storagePath!);
  const { evaluateDetector, DetectionDatasetError } = await import('../ml/detect/evaluate.js');
  // A class with no box anywhere is a dataset problem; one missing only from the test split is
  // reported with AP -1 (pycocotools' "not measured") rather than failing the whole evaluation.
  const withBoxes = new Set(snapshot.annotations.map((a) => String(a.category_id)));
  const names = model.runtime?.classNames ?? model.labels;
  const empty = snapshot.categories.filter((c) => names.includes(c.name) && !withBoxes.has(String(c.id))).map((c) => `'${c.name}'`);
  if (empty.length) throw new DetectionDatasetError(`the dataset has no boxes of ${empty.join(', ')}, so the detector cannot be measured on ${empty.length > 1 ? 'them' : 'it'}`);
  const images = snapshot.images.filter((i) => i.split === 'test');
  if (images.length === 0) throw new DetectionDatasetError('the dataset has no test images');
  const ids = new Set(images.map((i) => String(i.id)));
  const testSplit = { images, annotations: snapshot.annotations.filter((a) => ids.has(String(a.image_id))), categories: snapshot.categories };
  const result = await evaluateDetector(bytes, testSplit, snapshotImageLoader(store), { allowClassesWithoutBoxes: true });
  const m = result.metrics;
  // The approval card's picture (posted in the thread on evaluation.completed); failing to draw it
  // costs the picture, never the evaluation.
  const previewPath = await storeDetectionPreview(store, testSplit, result.detections, snapshotImageLoader(store)).catch(() => null);
  const summary: Record<string, unknown> = {
    ...m,
    'mAP50-95': m.AP,
    mAP50: m.AP50,
    split: 'test',
    evaluationUid,
    datasetSha256: dataset.sha256,
    artifactSha256: model.artifactSha256,
    imagesPerSecond: result.timing.imagesPerSecond,
    ...(previewPath ? { previewPath } : {}),
    previous: await previousMetrics(ds, model),
  };
  const end = new Date();
  await ds.transaction(async (tx) => {
    await setStatus(tx, 'evaluation', evaluationUid, 'completed', { endTime: end, duration: Math.round((end.getTime() - started.getTime()) / 1000), metrics: { ...m } as never, logs: `evaluated ${m.images} test images, ${m.detections} detections\n` });
    await tx.update(Model, { id: model.id }, { metrics: summary as never });
    await transition(tx, 'model', model.id, 'pending_approval', systemActor, {}, { evaluationUid, mAP50: m.AP50, 'mAP50-95': m.AP });
  });
  return { modelId: model.id, evaluationUid, status: 'completed', metrics: summary, error: null };
}
