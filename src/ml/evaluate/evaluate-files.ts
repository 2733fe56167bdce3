// File-level entry point of `assay evaluate`: an ONNX model file — Assay's own classifier or an
// Ultralytics-layout detector — on a COCO dataset file whose images sit beside it. Every image of
// the file is used (any split field is ignored).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { parseCoco, type Coco } from '../../datasets/coco.js';
import { loadImageBytes } from '../../datasets/image-source.js';
import { buildCropSet, type CocoDataset } from '../dataset/crops.js';
import { evaluateDetector, type DetectionMetrics } from '../detect/evaluate.js';
import { modelTaskOf } from '../detect/layout.js';
import { classificationMetrics } from '../metrics/classification.js';
import type { CocoDetection } from '../metrics/coco.js';
import { formatCocoStats } from '../metrics/coco-cli.js';
import { pyFixed } from '../metrics/numpy-compat.js';
import { readOnnxMetadata } from '../onnx/read.js';
import { LabelMismatchError, evaluateOnnxClassifier } from './onnx-classifier.js';

export interface ClassifierReport {
  task: 'classify';
  images: number;
  crops: number;
  /** Boxes of categories the model does not know (not cropped). */
  skipped: number;
  labels: string[];
  accuracy: number;
  macro: { precision: number; recall: number; f1: number };
  weighted: { precision: number; recall: number; f1: number };
  per_class: Record<string, { precision: number; recall: number; f1: number; support: number }>;
  confusion_matrix: number[][];
}

export type EvaluateFilesResult =
  | { task: 'detect'; report: DetectionMetrics; text: string; detections: CocoDetection[] }
  | { task: 'classify'; report: ClassifierReport; text: string };

// pycocotools needs numeric areas; Assay's dataset schema lets other fields pass through unchecked.
const boxFields = z.object({
  annotations: z.array(z.object({ area: z.number().nonnegative().optional(), iscrowd: z.union([z.number(), z.boolean()]).optional() }).passthrough()),
}).passthrough();

async function readOrFail(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new Error(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

export async function loadDataset(file: string): Promise<Coco> {
  const parsed = parseCoco(await readOrFail(file, 'dataset'));
  if (!parsed.ok) throw new Error(`${file}: ${parsed.error}`);
  const extra = boxFields.safeParse(parsed.coco);
  if (!extra.success) {
    const issue = extra.error.issues[0];
    throw new Error(`${file}: ${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.coco;
}

/** Image bytes: a path relative to the dataset's folder, or a data URI. */
export function imageLoader(datasetFile: string): (image: { id: unknown; file_name?: string }) => Promise<Buffer> {
  const dir = path.dirname(path.resolve(datasetFile));
  return async (image) => {
    const name = image.file_name ?? '';
    // A data URI decodes in place; nothing is fetched.
    if (name.startsWith('data:')) return loadImageBytes({ id: String(image.id), file_name: name }, undefined, { maxBytes: Infinity, timeoutMs: 0 });
    if (/^[a-z][a-z0-9+.-]+:\/\//i.test(name)) throw new Error(`image ${JSON.stringify(image.id)}: ${name} is a URL; assay evaluate reads image files relative to the dataset file`);
    const file = path.resolve(dir, name);
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`cannot read image ${JSON.stringify(image.id)} (${name}): ${(err as Error).message}`);
    }
  };
}

const f3 = (v: number): string => pyFixed(v, 3);

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

async function evaluateDetectorFiles(modelFile: string, bytes: Buffer, datasetFile: string, coco: Coco): Promise<EvaluateFilesResult> {
  const res = await evaluateDetector(bytes, coco, imageLoader(datasetFile));
  const m = res.metrics;
  const text = [
    `${path.basename(modelFile)}: Ultralytics detector, input ${res.info.inputSize.width}×${res.info.inputSize.height}, ${res.info.names.length} classes`,
    `${path.basename(datasetFile)}: ${m.images} images, ${coco.annotations.length} boxes → ${m.detections} detections in ${(res.timing.totalMs / 1000).toFixed(1)} s`,
    '',
    formatCocoStats({ stats: m }),
    '',
    table(
      ['class', 'AP', 'AP50', 'AP75', 'AR100', 'P@0.25', 'R@0.25', 'boxes', 'detections'],
      Object.entries(m.per_class).map(([name, c]) => [name, f3(c.AP), f3(c.AP50), f3(c.AP75), f3(c.AR100), f3(c.precision), f3(c.recall), String(c.num_gt), String(c.num_dets)]),
    ),
    '(P/R@0.25: detections scoring ≥ 0.25, matched at IoU ≥ 0.5)',
    '',
  ].join('\n');
  return { task: 'detect', report: m, text, detections: res.detections };
}

async function evaluateClassifierFiles(modelFile: string, bytes: Buffer, datasetFile: string, coco: Coco): Promise<EvaluateFilesResult> {
  const meta = readOnnxMetadata(bytes);
  const labels = meta.labels;
  const categoryNames = new Set(coco.categories.map((c) => c.name));
  const missing = labels.filter((l) => !categoryNames.has(l));
  if (missing.length) {
    throw new LabelMismatchError(`model label${missing.length > 1 ? 's' : ''} ${missing.map((l) => `'${l}'`).join(', ')} match${missing.length > 1 ? '' : 'es'} no category of the dataset (categories: ${coco.categories.map((c) => `'${c.name}'`).join(', ')})`);
  }
  // Every image is evaluated: mark them all as test so buildCropSet puts every crop there.
  const everyImage = { ...coco, images: coco.images.map((im) => ({ ...im, split: 'test' as const })) } as unknown as CocoDataset;
  const crops = await buildCropSet(everyImage, imageLoader(datasetFile), Object.fromEntries(labels.map((l, i) => [l, i])), meta.imageSize);
  const y = Array.from(crops.test.y);
  if (y.length === 0) throw new Error(`${path.basename(datasetFile)} has no boxes of the model's labels (${labels.join(', ')})`);
  const result = await evaluateOnnxClassifier(bytes, { x: crops.test.x, y: crops.test.y }, labels);
  const m = classificationMetrics(y, Array.from(result.predictions), labels);
  const skipped = crops.skipped.unknownLabel + crops.skipped.emptyBox + crops.skipped.unknownImage;
  const report: ClassifierReport = {
    task: 'classify', images: coco.images.length, crops: y.length, skipped, labels,
    accuracy: m.accuracy, macro: m.macro, weighted: m.weighted, per_class: m.perClass, confusion_matrix: m.confusionMatrix,
  };
  const text = [
    `${path.basename(modelFile)}: Assay classifier, input ${meta.imageSize}×${meta.imageSize}, ${labels.length} labels`,
    `${path.basename(datasetFile)}: ${coco.images.length} images, ${y.length} boxes cropped${skipped ? ` (${skipped} skipped: other categories or empty boxes)` : ''}`,
    '',
    `accuracy ${f3(m.accuracy)}   macro F1 ${f3(m.macro.f1)}   weighted F1 ${f3(m.weighted.f1)}`,
    '',
    table(['label', 'precision', 'recall', 'F1', 'boxes'], labels.map((l) => {
      const c = m.perClass[l];
      return [l, f3(c.precision), f3(c.recall), f3(c.f1), String(c.support)];
    })),
    '',
  ].join('\n');
  return { task: 'classify', report, text };
}

/** Errors about the model file or the dataset file get that file's name in front. */
function naming(modelFile: string, datasetFile: string, err: unknown): Error {
  const e = err as Error;
  const modelErrors = ['DetectorLayoutError', 'CorruptArtifactError', 'OnnxMetadataError', 'LabelMismatchError'];
  if (modelErrors.includes(e?.name)) return new Error(`${modelFile}: ${e.message}`, { cause: e });
  if (e?.name === 'DetectionDatasetError') return new Error(`${datasetFile}: ${e.message}`, { cause: e });
  return e instanceof Error ? e : new Error(String(err));
}

export async function evaluateModelFiles(modelFile: string, datasetFile: string, opts: { detectorOnly?: string } = {}): Promise<EvaluateFilesResult> {
  const [bytes, coco] = await Promise.all([readOrFail(modelFile, 'model'), loadDataset(datasetFile)]);
  try {
    const task = modelTaskOf(bytes);
    if (opts.detectorOnly && task !== 'detect') throw new Error(`${opts.detectorOnly} applies to detectors; ${modelFile} is a classifier`);
    return await (task === 'detect' ? evaluateDetectorFiles(modelFile, bytes, datasetFile, coco) : evaluateClassifierFiles(modelFile, bytes, datasetFile, coco));
  } catch (err) {
    throw naming(modelFile, datasetFile, err);
  }
}

/** COCO results JSON, one detection per line. */
export function detectionsJson(detections: CocoDetection[]): string {
  return `[\n${detections.map((d) => JSON.stringify(d)).join(',\n')}\n]\n`;
}
