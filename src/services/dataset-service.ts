// Dataset intake: fetch (URL or Slack upload), parse, check images, report, snapshot. The
// validated dataset is stored as a JSON snapshot whose images point at content-addressed image
// artifacts, so a model can always be traced to the exact bytes it saw.
import type { DataSource } from 'typeorm';
import type { Config } from '../config/index.js';
import { AiOption, Dataset, ModelTraining, TrainingLineage } from '../db/entities/index.js';
import { NotFoundError } from '../domain/index.js';
import type { ArtifactStore } from '../storage/artifact-store.js';
import { parseCoco, type Coco } from '../datasets/coco.js';
import { decodeImage, ImageSourceError, loadImageBytes } from '../datasets/image-source.js';
import { FetchError, safeFetch, type LookupAll, type SafeFetchOptions } from '../datasets/safe-fetch.js';
import { buildValidationReport, splitOfImage, unreadableReport, type ImageCheck, type ValidationReport } from '../datasets/validation-report.js';
import type { DatasetValidateData } from './ports/job-queue.js';
import { SNAPSHOT_FORMAT, type DatasetSnapshot, type SnapshotImage } from './dataset-snapshot.js';

/** Where Slack serves private files (url_private_download); the bot token is sent nowhere else. */
export const SLACK_FILE_HOSTS = ['files.slack.com', 'files.slack-gov.com'];

/** A Slack file URL: https on Slack's file host, or on SLACK_API_URL's own origin (a local Slack stand-in). */
export function isSlackFileUrl(raw: string, slackApiUrl?: string): boolean {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  if (slackApiUrl && u.origin === new URL(slackApiUrl).origin) return true;
  return u.protocol === 'https:' && u.port === '' && SLACK_FILE_HOSTS.includes(u.hostname.toLowerCase());
}

/** Slack uploads are capped lower than URLs: Slack is not a bulk-data channel. */
export const UPLOAD_MAX_BYTES = 10 * 1024 * 1024;
const IMAGE_CONCURRENCY = 8;

export interface DatasetIntakeDeps {
  config: Pick<Config, 'fetch' | 'slack' | 'images'>;
  artifacts: ArtifactStore;
  /** DNS override (tests simulate answers). */
  lookup?: LookupAll;
}

/** Retry later (network hiccup, 5xx); everything else is a final answer. */
export class TransientDatasetError extends Error {
  readonly transient = true;
  override name = 'TransientDatasetError';
}

export interface IntakeResult {
  report: ValidationReport;
  snapshot?: { path: string; sha256: string; size: number };
}

/** The label names the dataset must provide: the lineage's options' label_name. */
export async function expectedLabels(ds: DataSource, lineageId: string): Promise<string[]> {
  const lineage = await ds.manager.findOneBy(TrainingLineage, { id: lineageId });
  if (!lineage) throw new NotFoundError('Lineage', lineageId);
  const options = await ds.manager.findBy(AiOption, lineage.optionUids.map((uid) => ({ uid })));
  return options.map((o) => o.labelName ?? o.name).sort();
}

function fetchOptions(deps: DatasetIntakeDeps, maxBytes: number, headers?: Record<string, string>): SafeFetchOptions {
  const f = deps.config.fetch;
  return { allowHttp: f.allowHttp, allowPrivate: f.allowPrivate, timeoutMs: f.timeoutMs, maxBytes, headers, lookup: deps.lookup };
}

/** The dataset's COCO document, fetched SSRF-safe (a Slack upload with the bot token, only from Slack's file host). */
export async function fetchDatasetDocument(dataset: Pick<Dataset, 'sourceUri'>, input: Pick<DatasetValidateData, 'upload'>, deps: DatasetIntakeDeps): Promise<DatasetDocument> {
  const accept = ['application/json', 'text/plain', 'application/octet-stream', 'binary/octet-stream'];
  try {
    if (input.upload) {
      const token = deps.config.slack?.botToken;
      if (!token) throw new FetchError('blocked_url', 'the dataset is a Slack upload but Slack is not configured (SLACK_BOT_TOKEN)');
      if (!isSlackFileUrl(input.upload.url, deps.config.slack?.apiUrl)) {
        throw new FetchError('blocked_url', `the upload URL is not on Slack's file host (${SLACK_FILE_HOSTS.join(', ')}); the Slack token is not sent there`);
      }
      const { body } = await safeFetch(input.upload.url, { ...fetchOptions(deps, UPLOAD_MAX_BYTES, { authorization: `Bearer ${token}` }), accept });
      // Slack answers a login page (HTML) when the token cannot read the file.
      return { bytes: body, baseUrl: undefined };
    }
    const { body, finalUrl } = await safeFetch(dataset.sourceUri, { ...fetchOptions(deps, deps.config.fetch.maxBytes), accept });
    return { bytes: body, baseUrl: new URL('.', finalUrl).toString() };
  } catch (e) {
    if (e instanceof FetchError && e.transient) throw new TransientDatasetError(`dataset download failed: ${e.message}`);
    if (e instanceof FetchError) throw new DatasetRejected(`The dataset could not be downloaded: ${e.message}`);
    throw e;
  }
}

/** The dataset cannot be taken (refused URL, HTTP error, too big): the message says why. */
export class DatasetRejected extends Error {
  override name = 'DatasetRejected';
}

export interface DatasetDocument {
  bytes: Buffer;
  /** Where relative image file_names resolve (a URL dataset's folder); none for uploads. */
  baseUrl: string | undefined;
}

async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Loads, decodes and stores every image; returns per-image checks and the stored artifacts. */
async function checkImages(coco: Coco, baseUrl: string | undefined, deps: DatasetIntakeDeps) {
  const checks = new Map<string, ImageCheck>();
  const stored = new Map<string, { artifact: string; sha256: string; width: number; height: number }>();
  const perImage = fetchOptions(deps, Math.min(deps.config.fetch.maxBytes, 50 * 1024 * 1024));
  const base = coco.info?.image_base_url ?? baseUrl;
  await mapLimit(coco.images, IMAGE_CONCURRENCY, async (image) => {
    const key = String(image.id);
    try {
      const bytes = await loadImageBytes(image, base, perImage);
      const decoded = await decodeImage(bytes, deps.config.images);
      const put = await deps.artifacts.put(bytes, { kind: 'image', extension: decoded.format });
      stored.set(key, { artifact: put.path, sha256: put.sha256, width: decoded.width, height: decoded.height });
      checks.set(key, { ok: true, width: decoded.width, height: decoded.height });
    } catch (e) {
      if (!(e instanceof ImageSourceError)) throw e;
      checks.set(key, { ok: false, reason: e.reason, message: e.message });
    }
  });
  return { checks, stored };
}

/**
 * Fetches and validates a dataset against the given labels and, when valid, snapshots it.
 * Throws TransientDatasetError for failures worth retrying; every other outcome is a report.
 */
export async function intakeDataset(dataset: Dataset, labels: string[], input: DatasetValidateData, deps: DatasetIntakeDeps): Promise<IntakeResult> {
  let doc: DatasetDocument;
  try {
    doc = await fetchDatasetDocument(dataset, input, deps);
  } catch (e) {
    if (e instanceof DatasetRejected) return { report: unreadableReport(e.message, labels) };
    throw e;
  }
  return intakeDocument(dataset, labels, doc, deps);
}

/**
 * Validates an already fetched COCO document against `labels` and, when valid, snapshots it.
 * `evaluateOnly` for a dataset that is only evaluated on (an imported model's).
 */
export async function intakeDocument(
  dataset: Pick<Dataset, 'source' | 'sourceUri'>,
  labels: string[],
  doc: DatasetDocument,
  deps: DatasetIntakeDeps,
  opts: { evaluateOnly?: boolean; coco?: Coco } = {},
): Promise<IntakeResult> {
  let coco = opts.coco;
  if (!coco) {
    const parsed = parseCoco(doc.bytes);
    if (!parsed.ok) return { report: unreadableReport(parsed.error, labels) };
    coco = parsed.coco;
  }
  const { checks, stored } = await checkImages(coco, doc.baseUrl, deps);
  const report = buildValidationReport(coco, labels, checks, { evaluateOnly: opts.evaluateOnly });
  if (!report.valid) return { report };

  const images: SnapshotImage[] = coco.images.map((image) => {
    const s = stored.get(String(image.id))!;
    const { file_name, ...rest } = image;
    // Data URIs are not repeated in the snapshot: the image artifact holds the bytes.
    return { ...rest, id: image.id, file_name: file_name.startsWith('data:') ? s.artifact : file_name, width: s.width, height: s.height, split: splitOfImage(image), artifact: s.artifact, sha256: s.sha256 };
  });
  const snapshot: DatasetSnapshot = {
    format: SNAPSHOT_FORMAT,
    source: { kind: dataset.source, uri: dataset.sourceUri, sha256: (await deps.artifacts.put(doc.bytes, { kind: 'dataset', extension: 'json' })).sha256 },
    labels,
    images,
    annotations: coco.annotations,
    categories: coco.categories,
  };
  const put = await deps.artifacts.put(Buffer.from(JSON.stringify(snapshot)), { kind: 'dataset', extension: 'json', contentType: 'application/json' });
  return { report, snapshot: put };
}

/** Loads the dataset row a job refers to, with its training. */
export async function datasetWithTraining(ds: DataSource, datasetId: string, trainingUid: string): Promise<{ dataset: Dataset; training: ModelTraining }> {
  const dataset = await ds.manager.findOneBy(Dataset, { id: datasetId });
  if (!dataset) throw new NotFoundError('Dataset', datasetId);
  const training = await ds.manager.findOneBy(ModelTraining, { uid: trainingUid });
  if (!training) throw new NotFoundError('Training', trainingUid);
  return { dataset, training };
}
