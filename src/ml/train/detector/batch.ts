/**
 * Detection samples and training batches as plain typed arrays (transferable to workers, and what
 * a data-parallel runner hands each replica): letterboxed images as bytes, boxes in input pixels.
 */
import { assignTargets } from './assign.js';
import { anchorPoints } from './model.js';

/** Letterboxed images (S×S, pad 114, RGB) with their boxes. Image i's boxes are rows offsets[i]..offsets[i+1]. */
export interface DetectionSet {
  size: number;
  count: number;
  /** count·S·S·3 bytes, HWC RGB: the letterboxed image (÷255 gives the network input). */
  pixels: Uint8Array;
  /** 4 per box: x1, y1, x2, y2 in input pixels. */
  boxes: Float32Array;
  /** One class index per box. */
  classes: Int32Array;
  /** count + 1 box offsets. */
  offsets: Int32Array;
}

export interface DetectorBatch {
  size: number;
  count: number;
  numClasses: number;
  /** count·S·S·3 floats in 0..1, NHWC. */
  images: Float32Array;
  /** count·N·nc: 1 at a positive anchor's class, else 0. */
  clsTarget: Float32Array;
  /** count·N·4: the assigned box (x1, y1, x2, y2) of positive anchors, 0 elsewhere. */
  boxTarget: Float32Array;
  /** count·N: 1 for positive anchors. */
  fg: Float32Array;
  positives: number;
}

export function emptyDetectionSet(size: number): DetectionSet {
  return { size, count: 0, pixels: new Uint8Array(0), boxes: new Float32Array(0), classes: new Int32Array(0), offsets: Int32Array.of(0) };
}

/** Checks a set's arrays agree with each other, with `size` and with the class count. */
export function validateDetectionSet(name: string, set: DetectionSet, size: number, numClasses: number): void {
  const fail = (msg: string) => { throw new Error(`${name}: ${msg}`); };
  if (set.size !== size) fail(`images are ${set.size}×${set.size}, the model input is ${size}×${size}`);
  if (set.pixels.length !== set.count * size * size * 3) fail(`pixels hold ${set.pixels.length} bytes; expected ${set.count} × ${size}×${size}×3`);
  if (set.offsets.length !== set.count + 1 || set.offsets[0] !== 0) fail(`offsets must have count + 1 = ${set.count + 1} entries starting at 0`);
  const total = set.offsets[set.count];
  if (set.boxes.length !== total * 4 || set.classes.length !== total) fail(`offsets end at ${total} boxes but there are ${set.boxes.length / 4} boxes and ${set.classes.length} classes`);
  for (let i = 0; i < set.count; i++) if (set.offsets[i + 1] < set.offsets[i]) fail(`offsets decrease at image ${i}`);
  const bad = set.classes.findIndex((c) => c < 0 || c >= numClasses);
  if (bad >= 0) fail(`box ${bad} has class ${set.classes[bad]}, not one of 0..${numClasses - 1}`);
  for (let b = 0; b < total; b++) {
    const [x1, y1, x2, y2] = set.boxes.subarray(b * 4, b * 4 + 4);
    if (!(x2 > x1 && y2 > y1) || [x1, y1, x2, y2].some((v) => !Number.isFinite(v))) fail(`box ${b} (${x1}, ${y1}, ${x2}, ${y2}) is empty or not finite`);
  }
}

/**
 * Cuts a batch into at most `parts` contiguous shards of images for data-parallel replicas, with
 * weights such that Σ weight·∇loss(shard) = ∇loss(batch): the loss is a sum over the batch divided
 * by max(1, positives), so a shard's weight is max(1, its positives) / max(1, the batch's).
 */
export function splitDetectorBatch(batch: DetectorBatch, parts: number): Array<{ batch: DetectorBatch; weight: number }> {
  const k = Math.max(1, Math.min(parts, batch.count));
  const n = batch.fg.length / Math.max(1, batch.count);
  const per = batch.size * batch.size * 3;
  const nc = batch.numClasses;
  const shards = [];
  for (let r = 0; r < k; r++) {
    const a = Math.floor((r * batch.count) / k);
    const b = Math.floor(((r + 1) * batch.count) / k);
    const fg = batch.fg.subarray(a * n, b * n);
    let positives = 0;
    for (let i = 0; i < fg.length; i++) positives += fg[i];
    shards.push({
      batch: {
        size: batch.size, count: b - a, numClasses: nc, positives, fg,
        images: batch.images.subarray(a * per, b * per),
        clsTarget: batch.clsTarget.subarray(a * n * nc, b * n * nc),
        boxTarget: batch.boxTarget.subarray(a * n * 4, b * n * 4),
      },
      weight: Math.max(1, positives) / Math.max(1, batch.positives),
    });
  }
  return shards;
}

/**
 * Images `indices` of `set` as a batch with their targets; `flip[i]` mirrors image i left–right
 * (the only augmentation: traffic-light panels are symmetric, and it doubles the poses cheaply).
 */
export function makeBatch(set: DetectionSet, indices: ArrayLike<number>, numClasses: number, flip?: ArrayLike<boolean>): DetectorBatch {
  const s = set.size;
  const per = s * s * 3;
  const anchors = anchorPoints(s);
  const n = anchors.count;
  const count = indices.length;
  const images = new Float32Array(count * per);
  const clsTarget = new Float32Array(count * n * numClasses);
  const boxTarget = new Float32Array(count * n * 4);
  const fg = new Float32Array(count * n);
  let positives = 0;
  for (let b = 0; b < count; b++) {
    const img = indices[b];
    const mirrored = flip?.[b] ?? false;
    const src = set.pixels.subarray(img * per, (img + 1) * per);
    const dst = images.subarray(b * per, (b + 1) * per);
    if (!mirrored) {
      for (let i = 0; i < per; i++) dst[i] = src[i] / 255;
    } else {
      for (let y = 0; y < s; y++) {
        for (let x = 0; x < s; x++) {
          const from = (y * s + (s - 1 - x)) * 3;
          const to = (y * s + x) * 3;
          dst[to] = src[from] / 255;
          dst[to + 1] = src[from + 1] / 255;
          dst[to + 2] = src[from + 2] / 255;
        }
      }
    }
    const first = set.offsets[img];
    const boxes = set.boxes.slice(first * 4, set.offsets[img + 1] * 4);
    if (mirrored) {
      for (let g = 0; g < boxes.length; g += 4) {
        const x1 = boxes[g];
        boxes[g] = s - boxes[g + 2];
        boxes[g + 2] = s - x1;
      }
    }
    const t = assignTargets(boxes, anchors);
    positives += t.positives;
    for (let i = 0; i < n; i++) {
      const g = t.assigned[i];
      if (g < 0) continue;
      const a = b * n + i;
      fg[a] = 1;
      clsTarget[a * numClasses + set.classes[first + g]] = 1;
      boxTarget.set(boxes.subarray(g * 4, g * 4 + 4), a * 4);
    }
  }
  return { size: s, count, numClasses, images, clsTarget, boxTarget, fg, positives };
}
