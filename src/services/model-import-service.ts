// "Bring your own model": a detector trained elsewhere (Ultralytics `yolo export format=onnx`, or
// the remote trainer) becomes the next version of a lineage and goes through the same evaluation
// and approval as one trained here. Every check runs before anything is written — the file's
// layout and size, the kits and options, the class names against the dataset's categories, the
// dataset's images — then ONE transaction writes the lineage (if new), the dataset, an import
// "training" (trainer 'import': it carries the kits, requester and Slack thread a trained model
// has) and the model version; the evaluation job is enqueued after the commit, as for a trained
// model. A refused file changes nothing (stored artifacts are content-addressed, not rows).
import crypto from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import { Dataset, ModelTraining, TestType, TrainingLineage, type Model } from '../db/entities/index.js';
import { parseCoco, type Coco } from '../datasets/coco.js';
import { FetchError, safeFetch, type LookupAll } from '../datasets/safe-fetch.js';
import {
  checkLength,
  formatMegabytes,
  slugify,
  suggestLineageName,
  validateDatasetName,
  validateLineageName,
  ValidationError,
  detectRuntime,
} from '../domain/index.js';
import { JOBS } from './ports/job-queue.js';
import type { JobQueue } from './ports/job-queue.js';
import { DetectorLayoutError, readDetectorInfo, type DetectorInfo } from '../ml/detect/layout.js';
import { requireAccess } from './access-gate.js';
import { writeAudit, type Actor } from './audit.js';
import { DatasetRejected, fetchDatasetDocument, intakeDocument, isSlackFileUrl, SLACK_FILE_HOSTS, TransientDatasetError, type DatasetDocument, type DatasetIntakeDeps } from './dataset-service.js';
import { kitStep } from './wizard-flow-service.js';
import { isUniqueViolation } from './db-errors.js';
import { findLineageForOptions, findOrCreateLineage } from './lineage-service.js';
import { createModelVersion, latestModel, type NewModelVersion } from './model-service.js';
import { checkKitsAndOptions } from './training-service.js';

export interface ImportDeps extends DatasetIntakeDeps {
  queue: JobQueue;
  /** Largest model file accepted (default: the configured download cap, DATASET_MAX_BYTES). */
  maxModelBytes?: number;
  lookup?: LookupAll;
}

/** Where the evaluation dataset comes from. */
export type ImportDatasetSource =
  | { kind: 'url'; url: string }
  /** A Slack file (downloaded with the bot token, only from Slack's file host). */
  | { kind: 'upload'; url: string; name?: string }
  /** Already read (the CLI's local file, images inlined): `uri` is recorded as its source. */
  | { kind: 'document'; uri: string; bytes: Buffer; baseUrl?: string };

export interface ImportRequest {
  file: { bytes: Buffer; name: string };
  kitIds: string[];
  /** The options the model serves; default: the kits' options whose label is one of the model's classes. */
  optionUids?: string[];
  /** An existing lineage (its training_id or name): the import becomes its next version. */
  lineage?: string;
  /** Name of a new lineage (ignored when the options already have one). */
  lineageName?: string;
  dataset: ImportDatasetSource;
  datasetName?: string;
  requestedBy: string;
  slackChannel?: string | null;
}

export interface ImportResult {
  model: Model;
  training: ModelTraining;
  dataset: Dataset;
  lineage: TrainingLineage;
  detector: DetectorInfo;
  options: { uid: string; name: string; labelName: string }[];
  /** Dataset warnings worth showing (categories no class maps to...). */
  warnings: string[];
}

/** The file's size and layout: a DetectorInfo, or a ValidationError (field 'file') saying what is wrong. */
export function checkModelFile(bytes: Uint8Array, maxBytes: number): DetectorInfo {
  if (bytes.length === 0) throw new ValidationError('The model file is empty', 'file');
  if (bytes.length > maxBytes) throw new ValidationError(`The model file is ${formatMegabytes(bytes.length)}; the limit is ${formatMegabytes(maxBytes)}`, 'file');
  try {
    return readDetectorInfo(bytes);
  } catch (e) {
    if (e instanceof DetectorLayoutError) {
      throw new ValidationError(`The model is not an Ultralytics-layout detector (yolo export format=onnx): ${e.message}`, 'file');
    }
    throw e;
  }
}

/** Every class of the model must be a category *name* of the dataset (that is how boxes are matched). */
export function checkClassesInDataset(names: readonly string[], coco: Pick<Coco, 'categories'>): void {
  const categories = new Set(coco.categories.map((c) => c.name));
  const missing = names.filter((n) => !categories.has(n));
  if (missing.length === 0) return;
  const have = [...categories].slice(0, 20).join(', ') || 'none';
  throw new ValidationError(`Model class${missing.length > 1 ? 'es' : ''} missing from the dataset's categories: ${missing.join(', ')} (the dataset has: ${have})`, 'dataset');
}

/** An imported version is a detector; its runtime descriptor comes from the file's own layout. */
function taskFields(info: DetectorInfo): Pick<NewModelVersion, 'task' | 'runtime'> {
  return {
    task: 'detect',
    runtime: detectRuntime({ inputSize: info.inputSize, classNames: info.names, candidates: info.candidates, inputName: info.inputName, outputName: info.outputName }),
  };
}

async function resolveLineage(manager: EntityManager, ref: string): Promise<TrainingLineage> {
  const byId = await manager.findOneBy(TrainingLineage, { trainingId: ref });
  if (byId) return byId;
  const byName = await manager.findBy(TrainingLineage, { name: ref });
  if (byName.length === 1) return byName[0]!;
  if (byName.length > 1) throw new ValidationError(`Several lineages are named "${ref}": give its training id (${byName.map((l) => l.trainingId).join(', ')})`, 'lineage');
  throw new ValidationError(`No lineage "${ref}" (give a lineage's training id, as in its model names, or its name)`, 'lineage');
}

/** The kits' selectable, labelled options whose label is one of the model's classes. */
async function optionsForClasses(manager: EntityManager, kitIds: string[], names: readonly string[]): Promise<string[]> {
  const rows: { uid: string }[] = await manager.query(
    `SELECT DISTINCT o.uid FROM ai_options o JOIN test_type_ai_options l ON l.ai_option_uid = o.uid AND l.selectable
      WHERE o.selectable AND o.active AND o.label_name = ANY($2::text[]) AND l.test_type_id = ANY($1::uuid[])`,
    [kitIds, [...names]],
  );
  if (rows.length === 0) {
    throw new ValidationError(`None of the kits' options is labelled with one of the model's classes (${names.join(', ')}): set the options' label names, or pick other kits`, 'options');
  }
  return rows.map((r) => r.uid);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Kits, options and lineage, checked (read-only). */
async function resolveTarget(manager: EntityManager, req: ImportRequest, info: DetectorInfo) {
  const refs = [...new Set(req.kitIds)];
  if (refs.length === 0) throw new ValidationError('Pick at least one kit', 'kits');
  // A kit by its row id (Slack) or by its Salesforce kit id (the CLI: --kit 4567).
  const kits = await manager.find(TestType, { where: refs.flatMap((r) => (UUID.test(r) ? [{ id: r }, { kitId: r }] : [{ kitId: r }])) });
  const missing = refs.find((r) => !kits.some((k) => (k.id === r || k.kitId === r) && k.status === 'active'));
  if (missing) throw new ValidationError(`Kit ${missing} does not exist or is archived`, 'kits');
  const kitIds = [...new Set(refs.map((r) => kits.find((k) => k.id === r || k.kitId === r)!.id))];
  const lineage = req.lineage ? await resolveLineage(manager, req.lineage) : null;
  let optionUids = req.optionUids ? [...new Set(req.optionUids)] : null;
  if (lineage && optionUids && [...optionUids].sort().join() !== [...lineage.optionUids].sort().join()) {
    throw new ValidationError(`Lineage ${lineage.name} serves other options than the ones picked`, 'options');
  }
  if (!optionUids) optionUids = lineage ? lineage.optionUids : await optionsForClasses(manager, kitIds, info.names);
  const { options } = await checkKitsAndOptions(manager, kitIds, optionUids);
  const unserved = options.filter((o) => !info.names.includes(o.labelName!));
  if (unserved.length) {
    throw new ValidationError(
      `The model has no class for ${unserved.map((o) => `${o.name} (label ${o.labelName})`).join(', ')}; its classes are ${info.names.join(', ')}`,
      'options',
    );
  }
  return { kitIds, options, lineage };
}

async function readDataset(req: ImportRequest, deps: ImportDeps): Promise<{ doc: DatasetDocument; source: 'upload' | 'url'; uri: string }> {
  const src = req.dataset;
  if (src.kind === 'document') return { doc: { bytes: src.bytes, baseUrl: src.baseUrl }, source: 'upload', uri: src.uri };
  const field = src.kind === 'url' ? 'dataset_url' : 'dataset_file';
  if (src.kind === 'url' && !/^https?:\/\//i.test(src.url)) throw new ValidationError('The dataset URL must start with https://', field);
  checkLength(src.url, 'url', field, 'A dataset URL');
  try {
    const doc = await fetchDatasetDocument({ sourceUri: src.url }, src.kind === 'upload' ? { upload: { url: src.url } } : {}, deps);
    return { doc, source: src.kind, uri: src.url };
  } catch (e) {
    if (e instanceof DatasetRejected || e instanceof TransientDatasetError) throw new ValidationError(e.message, field);
    throw e;
  }
}

/** Images with no "split" are test images: nothing was trained on them here. */
function allTestUnlessSplit(coco: Coco): Coco {
  return { ...coco, images: coco.images.map((i) => (i.split ? i : { ...i, split: 'test' as const })) };
}

function defaultDatasetName(fileName: string): string {
  const base = slugify(fileName.replace(/\.[a-z0-9]+$/i, ''), 60);
  return `import-${base}-${crypto.randomBytes(4).toString('hex')}`.replace(/_/g, '-');
}

/**
 * Imports a detector file. Throws ValidationError (with the field to blame) when the file, the
 * kits/options, the lineage or the dataset do not fit; then no row exists.
 */
export async function importModel(ds: DataSource, deps: ImportDeps, req: ImportRequest, actor: Actor): Promise<ImportResult> {
  await requireAccess(ds.manager, { actor, action: 'import', entity: { type: 'model' } });
  const info = checkModelFile(req.file.bytes, deps.maxModelBytes ?? deps.config.fetch.maxBytes);
  const datasetName = validateDatasetName(req.datasetName ?? defaultDatasetName(req.file.name));
  const lineageName = req.lineageName ? validateLineageName(req.lineageName) : undefined;
  const target = await resolveTarget(ds.manager, req, info);

  const { doc, source, uri } = await readDataset(req, deps);
  const parsed = parseCoco(doc.bytes);
  if (!parsed.ok) throw new ValidationError(`The dataset is not a usable COCO file: ${parsed.error}`, 'dataset');
  checkClassesInDataset(info.names, parsed.coco);
  const intake = await intakeDocument({ source, sourceUri: uri }, info.names, doc, deps, { evaluateOnly: true, coco: allTestUnlessSplit(parsed.coco) });
  if (!intake.report.valid || !intake.snapshot) throw new ValidationError(intake.report.summary, 'dataset');
  const snapshot = intake.snapshot;

  const stored = await deps.artifacts.put(req.file.bytes, { kind: 'model', extension: 'onnx', contentType: 'application/octet-stream' });
  const result = await ds.transaction(async (tx) => {
    const optionUids = target.options.map((o) => o.uid);
    const existing = target.lineage ?? (await findLineageForOptions(tx, optionUids));
    const lineage = existing ?? (await findOrCreateLineage(tx, optionUids, lineageName ?? suggestLineageName(target.options.map((o) => o.name))));
    const previous = await latestModel(tx, lineage.id);
    let dataset: Dataset;
    try {
      dataset = await tx.save(
        Dataset,
        tx.create(Dataset, {
          name: datasetName, lineageId: lineage.id, source, sourceUri: uri, status: 'valid', createdBy: req.requestedBy,
          storagePath: snapshot.path, sha256: snapshot.sha256, sizeBytes: String(snapshot.size),
          validationReport: intake.report as never, splitCounts: intake.report.splitCounts, labelCounts: intake.report.labelCounts,
        }),
      );
    } catch (e) {
      if (isUniqueViolation(e)) throw new ValidationError(`A dataset named "${datasetName}" already exists: pick another name`, 'dataset_name');
      throw e;
    }
    const now = new Date();
    const training = await tx.save(
      ModelTraining,
      tx.create(ModelTraining, {
        lineageId: lineage.id, datasetId: dataset.id, datasetName, hyperparametersUid: null, testTypeIds: target.kitIds,
        // An imported model starts from nothing Assay made: a new lineage's first model, else a retrain.
        mode: previous ? 'retrain' : 'new', trainer: 'import', task: 'detect', status: 'queued', totalEpochs: 1,
        requestedBy: req.requestedBy, slackChannel: req.slackChannel ?? null,
      }),
    );
    const model = await createModelVersion(
      tx,
      {
        lineageId: lineage.id, trainingUid: training.uid, labels: info.names, inputShape: [1, 3, info.inputSize.height, info.inputSize.width],
        s3ModelPath: stored.path, artifactSha256: stored.sha256, artifactSize: stored.size, ...taskFields(info),
      },
      actor,
    );
    // Created directly in its final state: nothing runs in Assay between "queued" and "trained".
    await tx.update(ModelTraining, { uid: training.uid }, {
      status: 'trained', modelId: model.id, progress: 1, currentEpoch: 1, trainingStartTime: now, trainingEndTime: now, trainingDuration: 0,
      trainingLogs: `[${now.toISOString()}] imported ${req.file.name} (sha256 ${stored.sha256.slice(0, 12)}…, ${info.names.length} classes, input ${info.inputSize.height}×${info.inputSize.width}) as ${model.modelName}\n[${now.toISOString()}] ${intake.report.summary}\n`,
    });
    await writeAudit(tx, actor, {
      action: 'model.imported',
      entityType: 'model',
      entityId: model.id,
      details: { modelName: model.modelName, file: req.file.name.slice(0, 200), sha256: stored.sha256, size: stored.size, classes: info.names, datasetId: dataset.id, trainingUid: training.uid, kits: target.kitIds },
    });
    return { model, training: { ...training, status: 'trained' as const, modelId: model.id }, dataset, lineage };
  });
  // As after a training: the evaluation runs in a worker once the rows are committed.
  await deps.queue.now(JOBS.modelEvaluate, { modelId: result.model.id });
  return {
    ...result,
    detector: info,
    options: target.options.map((o) => ({ uid: o.uid, name: o.name, labelName: o.labelName! })).sort((a, b) => a.name.localeCompare(b.name)),
    warnings: intake.report.warnings.map((w) => w.message),
  };
}

/** The largest model file an import takes (the configured download cap, DATASET_MAX_BYTES). */
export const modelImportLimit = (deps: Pick<ImportDeps, 'config' | 'maxModelBytes'>): number => deps.maxModelBytes ?? deps.config.fetch.maxBytes;

/** A model file uploaded to Slack: fetched with the bot token, only from Slack's file host, capped. */
export async function downloadSlackModel(url: string, deps: Pick<ImportDeps, 'config' | 'lookup' | 'maxModelBytes'>): Promise<Buffer> {
  const token = deps.config.slack?.botToken;
  if (!token) throw new ValidationError('Slack is not configured (SLACK_BOT_TOKEN): the upload cannot be read', 'model_file');
  if (!isSlackFileUrl(url, deps.config.slack?.apiUrl)) throw new ValidationError(`The upload is not on Slack's file host (${SLACK_FILE_HOSTS.join(', ')})`, 'model_file');
  const f = deps.config.fetch;
  const maxBytes = modelImportLimit(deps);
  try {
    const { body } = await safeFetch(url, {
      allowHttp: f.allowHttp, allowPrivate: f.allowPrivate, timeoutMs: f.timeoutMs, maxBytes, lookup: deps.lookup,
      headers: { authorization: `Bearer ${token}` }, accept: ['application/octet-stream', 'binary/octet-stream', 'application/onnx', 'application/x-onnx'],
    });
    return body;
  } catch (e) {
    if (e instanceof FetchError) throw new ValidationError(`The model file could not be read from Slack: ${e.message}`, 'model_file');
    throw e;
  }
}

/** What the Slack import form offers: kits with selectable options, and the labelled options. */
export async function importFormChoices(manager: EntityManager) {
  const { kits, total } = await kitStep(manager);
  const options: { uid: string; name: string; label_name: string }[] = await manager.query(
    `SELECT uid, name, label_name FROM ai_options WHERE selectable AND active AND label_name IS NOT NULL ORDER BY name LIMIT 100`,
  );
  return { kits, total, options: options.map((o) => ({ uid: o.uid, name: o.name, labelName: o.label_name })) };
}
