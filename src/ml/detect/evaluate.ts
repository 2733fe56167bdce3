/**
 * Evaluates an Ultralytics-layout detector exactly as an edge runs it — the ONNX bytes in ONNX
 * Runtime, letterbox, decode, NMS — with Ultralytics' validation conventions, then scores the
 * COCO results with the pycocotools-exact evaluator (src/ml/metrics/coco.ts).
 */
import * as ort from 'onnxruntime-node';
import { decodeRgb } from '../dataset/crops.js';
import { evaluateCoco, matchCountsKey, type CocoAnnotation, type CocoDetection, type CocoId, type CocoStats } from '../metrics/coco.js';
import { CorruptArtifactError } from '../onnx/errors.js';
import { DETECT_DEFAULTS, DetectorLayoutError, readDetectorInfo, type DetectorInfo } from './layout.js';
import { letterbox } from './letterbox.js';
import { decodeDetections, mapBack, type DecodeOptions } from './postprocess.js';

/** The dataset does not fit the model: class names without a category, an image that does not decode... */
export class DetectionDatasetError extends Error {
  override name = 'DetectionDatasetError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface DetectionImage {
  id: CocoId;
  file_name?: string;
  width?: number;
  height?: number;
  [extra: string]: unknown;
}

export interface DetectionDataset {
  images: DetectionImage[];
  annotations: Array<{ id: number | string; image_id: CocoId; category_id: CocoId; bbox: readonly number[]; area?: number; iscrowd?: number | boolean; [extra: string]: unknown }>;
  categories: Array<{ id: CocoId; name: string; [extra: string]: unknown }>;
}

export interface DetectionClassMetrics {
  category_id: CocoId;
  num_gt: number;
  num_dets: number;
  AP: number;
  AP50: number;
  AP75: number;
  AR100: number;
  /** Detections with score ≥ 0.25 matched at IoU ≥ 0.5 (pycocotools' matching, area all, 100 per image and class). */
  precision: number;
  recall: number;
}

export type DetectionMetrics = { task: 'detect' } & CocoStats & {
  /** Keyed by class name: the model's classes, then dataset categories the model cannot predict. */
  per_class: Record<string, DetectionClassMetrics>;
  images: number;
  detections: number;
};

export interface EvaluateDetectorOptions extends DecodeOptions {
  /** Score cut of per-class precision/recall (default 0.25, the edge default). */
  prScoreThreshold?: number;
  /** Images decoded and letterboxed ahead of inference (default 3). */
  prefetch?: number;
  /** Accept a model class with no box in the dataset (its AP is then -1, as pycocotools reports). Default false. */
  allowClassesWithoutBoxes?: boolean;
}

export interface DetectorEvaluation {
  detections: CocoDetection[];
  metrics: DetectionMetrics;
  info: DetectorInfo;
  timing: { loadMs: number; inferenceMs: number; postprocessMs: number; metricsMs: number; totalMs: number; imagesPerSecond: number };
}

const imageLabel = (image: DetectionImage): string => `image ${JSON.stringify(image.id)}${image.file_name && !image.file_name.startsWith('data:') ? ` (${image.file_name})` : ''}`;

/** Model class index → COCO category id, by name; refuses names the dataset lacks or has twice. */
function categoryIds(names: string[], coco: DetectionDataset, allowClassesWithoutBoxes: boolean): CocoId[] {
  const byName = new Map<string, CocoId>();
  for (const c of coco.categories) {
    const seen = byName.get(c.name);
    if (seen !== undefined && names.includes(c.name)) {
      throw new DetectionDatasetError(`the dataset has two categories named '${c.name}' (ids ${seen} and ${c.id}); class names must map to one category`);
    }
    if (seen === undefined) byName.set(c.name, c.id);
  }
  const missing = names.filter((n) => !byName.has(n));
  if (missing.length) {
    throw new DetectionDatasetError(
      `model class${missing.length > 1 ? 'es' : ''} ${missing.map((n) => `'${n}'`).join(', ')} match${missing.length > 1 ? '' : 'es'} no category of the dataset (categories: ${coco.categories.map((c) => `'${c.name}'`).join(', ')})`);
  }
  const ids = names.map((n) => byName.get(n)!);
  if (!allowClassesWithoutBoxes) {
    const withBoxes = new Set(coco.annotations.map((a) => String(a.category_id)));
    const empty = names.filter((_, k) => !withBoxes.has(String(ids[k])));
    if (empty.length) {
      throw new DetectionDatasetError(`the dataset has no boxes of class${empty.length > 1 ? 'es' : ''} ${empty.map((n) => `'${n}'`).join(', ')}, so ${empty.length > 1 ? 'their' : 'its'} AP cannot be measured`);
    }
  }
  return ids;
}

export async function evaluateDetector(
  onnxBytes: Uint8Array,
  coco: DetectionDataset,
  loadImage: (image: DetectionImage) => Promise<Buffer>,
  opts: EvaluateDetectorOptions = {},
): Promise<DetectorEvaluation> {
  const started = performance.now();
  const info = readDetectorInfo(onnxBytes); // DetectorLayoutError when the file does not fit
  const catIds = categoryIds(info.names, coco, opts.allowClassesWithoutBoxes ?? false);
  if (coco.images.length === 0) throw new DetectionDatasetError('the dataset has no images');
  const seen = new Set<string>();
  for (const im of coco.images) {
    const key = `${typeof im.id}:${im.id}`;
    if (seen.has(key)) throw new DetectionDatasetError(`image id ${JSON.stringify(im.id)} appears twice in the dataset`);
    seen.add(key);
  }

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(Buffer.from(onnxBytes.buffer, onnxBytes.byteOffset, onnxBytes.byteLength));
  } catch (err) {
    throw new CorruptArtifactError(`ONNX Runtime cannot load the artifact (${onnxBytes.length} bytes): ${(err as Error).message}`, { cause: err });
  }
  const loadMs = performance.now() - started;

  const { height: H, width: W } = info.inputSize;
  const nc = info.names.length;
  const n = info.candidates;
  const images = coco.images;
  const prefetch = Math.max(1, Math.min(opts.prefetch ?? 3, images.length));
  // One tensor buffer per image in flight, reused: image i uses pool[i % prefetch].
  const pool = Array.from({ length: prefetch }, () => new Float32Array(3 * H * W));

  const prepare = async (i: number) => {
    const image = images[i];
    const bytes = await loadImage(image);
    let rgb: Awaited<ReturnType<typeof decodeRgb>>;
    try {
      rgb = await decodeRgb(bytes);
    } catch (err) {
      throw new DetectionDatasetError(`${imageLabel(image)} cannot be decoded: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    if ((image.width !== undefined && image.width !== rgb.width) || (image.height !== undefined && image.height !== rgb.height)) {
      throw new DetectionDatasetError(`${imageLabel(image)} is ${rgb.width}×${rgb.height} but the dataset says ${image.width}×${image.height}; its boxes would not line up`);
    }
    const lb = await letterbox(rgb.data, rgb.width, rgb.height, info.inputSize, DETECT_DEFAULTS.padValue, pool[i % prefetch]);
    return { lb, width: rgb.width, height: rgb.height };
  };

  const detections: CocoDetection[] = [];
  let inferenceMs = 0;
  let postprocessMs = 0;
  try {
    const pending: Array<ReturnType<typeof prepare>> = [];
    const start = (i: number) => {
      pending[i] = prepare(i);
      pending[i].catch(() => undefined); // awaited in order below; no unhandled rejection meanwhile
    };
    for (let i = 0; i < prefetch; i++) start(i);
    for (let i = 0; i < images.length; i++) {
      const { lb, width, height } = await pending[i];
      const t0 = performance.now();
      const result = await session.run({ [info.inputName]: new ort.Tensor('float32', lb.data, [1, 3, H, W]) });
      const t1 = performance.now();
      // The buffer of image i is free again: start the image that will use it.
      if (i + prefetch < images.length) start(i + prefetch);
      const tensor = result[info.outputName];
      if (tensor.dims.length !== 3 || tensor.dims[0] !== 1 || tensor.dims[1] !== 4 + nc || tensor.dims[2] !== n) {
        throw new DetectorLayoutError(`ONNX Runtime's output '${info.outputName}' has shape [${tensor.dims.join(', ')}], not the declared [1, ${4 + nc}, ${n}]`);
      }
      const output = tensor.data as Float32Array;
      const dets = decodeDetections(output, nc, n, opts);
      const boxes = mapBack(dets.boxes, lb, width, height);
      const imageId = images[i].id;
      for (let d = 0; d < dets.count; d++) {
        const x1 = boxes[4 * d], y1 = boxes[4 * d + 1];
        detections.push({ image_id: imageId, category_id: catIds[dets.classes[d]], bbox: [x1, y1, boxes[4 * d + 2] - x1, boxes[4 * d + 3] - y1], score: dets.scores[d] });
      }
      inferenceMs += t1 - t0;
      postprocessMs += performance.now() - t1;
    }
  } finally {
    await session.release();
  }

  const t2 = performance.now();
  const metrics = detectionMetrics(coco, detections, info.names, catIds, opts.prScoreThreshold ?? DETECT_DEFAULTS.confThreshold);
  const metricsMs = performance.now() - t2;
  const totalMs = performance.now() - started;
  return {
    detections, metrics, info,
    timing: { loadMs, inferenceMs, postprocessMs, metricsMs, totalMs, imagesPerSecond: images.length / (totalMs / 1000) },
  };
}

/** The 12 COCO stats and per-class AP/AR (pycocotools), plus precision/recall at a score cut and IoU 0.5. */
export function detectionMetrics(coco: DetectionDataset, detections: CocoDetection[], names: string[], catIds: CocoId[], prScoreThreshold: number): DetectionMetrics {
  // pycocotools buckets GT by the area field; Assay datasets may omit it, and for a box it is w·h.
  const annotations = coco.annotations.map((a) => (a.area === undefined ? { ...a, area: a.bbox[2] * a.bbox[3] } : a)) as CocoAnnotation[];
  const result = evaluateCoco({ images: coco.images, annotations, categories: coco.categories }, detections, {
    countIouThresholds: [0.5], countScoreThresholds: [prScoreThreshold],
  });
  const counts = result.matchCounts[matchCountsKey(0.5, prScoreThreshold)].perClass;
  const per_class: Record<string, DetectionClassMetrics> = {};
  const entry = (name: string, id: CocoId): void => {
    const c = result.perClass[String(id)];
    const pr = counts[String(id)];
    per_class[name] = { category_id: id, num_gt: c.numGt, num_dets: c.numDets, AP: c.AP, AP50: c.AP50, AP75: c.AP75, AR100: c.AR100, precision: pr.precision, recall: pr.recall };
  };
  names.forEach((name, k) => entry(name, catIds[k]));
  for (const c of coco.categories) if (!(c.name in per_class)) entry(c.name, c.id);
  return { task: 'detect', ...result.stats, per_class, images: coco.images.length, detections: detections.length };
}
