/**
 * A cheap mAP50 on the validation images during training, in input pixels (the letterboxed frame),
 * with the evaluation's post-processing (src/ml/detect/postprocess.ts) and the pycocotools-exact
 * evaluator.
 */
import * as tf from '@tensorflow/tfjs';
import { decodeDetections } from '../../detect/postprocess.js';
import { evaluateCoco, type CocoAnnotation, type CocoDetection } from '../../metrics/coco.js';
import type { DetectionSet } from './batch.js';
import { predictDetections, type Detector } from './model.js';

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
      const d = decodeDetections(out.subarray((img - from) * size, (img - from + 1) * size), nc, size / (4 + nc));
      for (let k = 0; k < d.count; k++) {
        const [x1, y1, x2, y2] = d.boxes.subarray(k * 4, k * 4 + 4);
        detections.push({ image_id: img, category_id: d.classes[k], bbox: [x1, y1, x2 - x1, y2 - y1], score: d.scores[k] });
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
