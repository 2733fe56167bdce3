/**
 * A cheap mAP50 on the validation images during training, in input pixels (the letterboxed frame),
 * with the evaluation's post-processing (multi-label candidates > 0.001, class-aware NMS at 0.7,
 * 300 per image) and the pycocotools-exact evaluator.
 */
import * as tf from '@tensorflow/tfjs';
import { evaluateCoco, type CocoAnnotation, type CocoDetection } from '../../metrics/coco.js';
import type { DetectionSet } from './batch.js';
import { predictDetections, type Detector } from './model.js';

const CONF = 0.001;
const IOU = 0.7;
const MAX_CANDIDATES = 30_000;
const MAX_DETECTIONS = 300;

function iou(b: Float64Array, i: number, j: number): number {
  const iw = Math.min(b[i * 4 + 2], b[j * 4 + 2]) - Math.max(b[i * 4], b[j * 4]);
  const ih = Math.min(b[i * 4 + 3], b[j * 4 + 3]) - Math.max(b[i * 4 + 1], b[j * 4 + 1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const area = (k: number) => (b[k * 4 + 2] - b[k * 4]) * (b[k * 4 + 3] - b[k * 4 + 1]);
  return inter / (area(i) + area(j) - inter);
}

/** One image's [4+nc, N] output → kept detections (xyxy, score, class), highest score first. */
export function decodeOutput(out: Float32Array, nc: number, n: number): Array<{ box: number[]; score: number; cls: number }> {
  const cand: Array<{ i: number; c: number; s: number }> = [];
  for (let c = 0; c < nc; c++) {
    for (let i = 0; i < n; i++) {
      const s = out[(4 + c) * n + i];
      if (s > CONF) cand.push({ i, c, s });
    }
  }
  cand.sort((a, b) => b.s - a.s);
  cand.length = Math.min(cand.length, MAX_CANDIDATES);
  const boxes = new Float64Array(cand.length * 4);
  cand.forEach(({ i }, k) => {
    const cx = out[i], cy = out[n + i], w = out[2 * n + i], h = out[3 * n + i];
    boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], k * 4);
  });
  const kept: number[] = [];
  for (let k = 0; k < cand.length && kept.length < MAX_DETECTIONS; k++) {
    if (kept.some((j) => cand[j].c === cand[k].c && iou(boxes, j, k) > IOU)) continue;
    kept.push(k);
  }
  return kept.map((k) => ({ box: Array.from(boxes.subarray(k * 4, k * 4 + 4)), score: cand[k].s, cls: cand[k].c }));
}

/** mAP50 (and mAP50-95) of `model` on `set`; null when the set has no images. */
export function detectionMap(model: Detector, set: DetectionSet): { map50: number; map: number } | null {
  if (set.count === 0) return null;
  const s = set.size;
  const per = s * s * 3;
  const nc = model.spec.numClasses;
  const annotations: CocoAnnotation[] = [];
  const detections: CocoDetection[] = [];
  for (let from = 0; from < set.count; from += 16) {
    const to = Math.min(set.count, from + 16);
    const x = new Float32Array((to - from) * per);
    for (let j = 0; j < x.length; j++) x[j] = set.pixels[from * per + j] / 255;
    const out = tf.tidy(() => predictDetections(model, tf.tensor4d(x, [to - from, s, s, 3])).dataSync() as Float32Array);
    const size = out.length / (to - from);
    for (let img = from; img < to; img++) {
      for (const d of decodeOutput(out.subarray((img - from) * size, (img - from + 1) * size), nc, size / (4 + nc))) {
        detections.push({ image_id: img, category_id: d.cls, bbox: [d.box[0], d.box[1], d.box[2] - d.box[0], d.box[3] - d.box[1]], score: d.score });
      }
    }
  }
  for (let img = 0; img < set.count; img++) {
    for (let b = set.offsets[img]; b < set.offsets[img + 1]; b++) {
      const [x1, y1, x2, y2] = set.boxes.subarray(b * 4, b * 4 + 4);
      annotations.push({ id: b + 1, image_id: img, category_id: set.classes[b], bbox: [x1, y1, x2 - x1, y2 - y1], area: (x2 - x1) * (y2 - y1), iscrowd: 0 });
    }
  }
  const images = Array.from({ length: set.count }, (_, id) => ({ id }));
  const categories = Array.from({ length: nc }, (_, id) => ({ id }));
  const { stats } = evaluateCoco({ images, annotations, categories }, detections);
  // pycocotools reports −1 when nothing could be evaluated; treat that as 0 here.
  return { map50: Math.max(0, stats.AP50), map: Math.max(0, stats.AP) };
}
