/**
 * The detector's training loss (see model.ts for the recipe): `detectorLoss(model, batch)` is a
 * scalar usable inside `tf.variableGrads` / `optimizer.minimize`; batches are plain typed arrays.
 */
import * as tf from '@tensorflow/tfjs';
import type { DetectorBatch } from './batch.js';
import { anchorPoints, boxDistances, distancesToCorners, rawPredictions, type Detector } from './model.js';

export interface LossOptions {
  /** Weight of the GIoU term (the class term has weight 1). */
  boxWeight: number;
  /** Use the detached IoU of each positive's predicted box as its class target (else 1). */
  qualityTarget: boolean;
}

export const DEFAULT_LOSS: LossOptions = { boxWeight: 2.5, qualityTarget: true };

/** The loss terms of one batch, each already normalised by the number of positives. */
export interface LossTerms {
  total: tf.Scalar;
  cls: tf.Scalar;
  box: tf.Scalar;
  /** cls and box before the division by max(1, positives): these add up across shards. */
  clsSum: tf.Scalar;
  boxSum: tf.Scalar;
}

const EPS = 1e-7;

/** Identity whose gradient is zero: tfjs has no stop_gradient op. */
const stopGradient = tf.customGrad(((x: tf.Tensor) => ({ value: x.clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]);

/** Elementwise IoU and GIoU of two [..., 4] corner tensors. */
export function iouAndGiou(a: tf.Tensor, b: tf.Tensor): { iou: tf.Tensor; giou: tf.Tensor } {
  const [ax1, ay1, ax2, ay2] = tf.unstack(a, -1);
  const [bx1, by1, bx2, by2] = tf.unstack(b, -1);
  const iw = tf.relu(tf.sub(tf.minimum(ax2, bx2), tf.maximum(ax1, bx1)));
  const ih = tf.relu(tf.sub(tf.minimum(ay2, by2), tf.maximum(ay1, by1)));
  const inter = tf.mul(iw, ih);
  const areaA = tf.mul(tf.sub(ax2, ax1), tf.sub(ay2, ay1));
  const areaB = tf.mul(tf.sub(bx2, bx1), tf.sub(by2, by1));
  const union = tf.add(tf.sub(tf.add(areaA, areaB), inter), EPS);
  const iou = tf.div(inter, union);
  const cw = tf.sub(tf.maximum(ax2, bx2), tf.minimum(ax1, bx1));
  const ch = tf.sub(tf.maximum(ay2, by2), tf.minimum(ay1, by1));
  const hull = tf.add(tf.mul(cw, ch), EPS);
  return { iou, giou: tf.sub(iou, tf.div(tf.sub(hull, union), hull)) };
}

/** Numerically stable BCE with logits, elementwise: max(x,0) − x·z + log(1 + e^−|x|). */
function bceWithLogits(z: tf.Tensor, x: tf.Tensor): tf.Tensor {
  return tf.add(tf.sub(tf.relu(x), tf.mul(x, z)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
}

/** All loss terms (tensors; call inside a tidy or variableGrads). */
export function detectorLossTerms(model: Detector, batch: DetectorBatch, opts: LossOptions = DEFAULT_LOSS): LossTerms {
  const s = batch.size;
  const anchors = anchorPoints(s);
  const n = anchors.count;
  const b = batch.count;
  const nc = batch.numClasses;
  if (s !== model.spec.inputSize || nc !== model.spec.numClasses) {
    throw new Error(`batch is ${s}px × ${nc} classes; the model is ${model.spec.inputSize}px × ${model.spec.numClasses} classes`);
  }
  const raw = rawPredictions(model, tf.tensor4d(batch.images, [b, s, s, 3]));
  const pred = distancesToCorners(boxDistances(raw.slice([0, 0, 0], [-1, -1, 4]), anchors), anchors);
  const logits = raw.slice([0, 0, 4], [-1, -1, nc]);
  const fg = tf.tensor2d(batch.fg, [b, n]);
  const norm = Math.max(1, batch.positives);
  const { iou, giou } = iouAndGiou(pred, tf.tensor3d(batch.boxTarget, [b, n, 4]));
  const boxSum = tf.sum(tf.mul(tf.sub(1, giou), fg)) as tf.Scalar;
  const box = tf.div(boxSum, norm) as tf.Scalar;
  let target: tf.Tensor = tf.tensor3d(batch.clsTarget, [b, n, nc]);
  if (opts.qualityTarget) target = tf.mul(target, tf.expandDims(stopGradient(tf.clipByValue(iou, 0, 1)), 2));
  const clsSum = tf.sum(bceWithLogits(target, logits)) as tf.Scalar;
  const cls = tf.div(clsSum, norm) as tf.Scalar;
  return { total: tf.add(cls, tf.mul(box, opts.boxWeight)) as tf.Scalar, cls, box, clsSum, boxSum };
}

/** The scalar to minimise. */
export function detectorLoss(model: Detector, batch: DetectorBatch, opts: LossOptions = DEFAULT_LOSS): tf.Scalar {
  return detectorLossTerms(model, batch, opts).total;
}
