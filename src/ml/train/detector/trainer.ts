/**
 * Trains the detector with a hand-written loop like the classifier's (seeded shuffle and flips,
 * cancellation between batches, progress per epoch) and exports it to a verified ONNX.
 * `trainDetector` is what the worker runs (detector/worker.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { DEFAULT_DETECTOR_HYPERPARAMETERS as DOMAIN_DETECTOR_DEFAULTS, DETECTOR_IMAGE_SIZE, hyperparameterFields } from '../../../domain/hyperparameters.js';
import { seededRandom } from '../../random.js';
import { selectBackend, type BackendLogger, type BackendPreference } from '../backend.js';
import { DataParallelRunner } from '../parallel/runner.js';
import { TrainingCancelledError, shuffled } from '../trainer.js';
import { BaseModelMismatchError, architectureDifference, loadBaseDetectorWeights, readBaseDetector, type BaseDetector } from './base.js';
import { makeBatch, validateDetectionSet, type DetectionSet, type DetectorBatch } from './batch.js';
import { exportDetectorToOnnx } from './export.js';
import { DEFAULT_LOSS, detectorLossTerms, type LossOptions } from './loss.js';
import { detectorReplica, detectorReplicaModel, detectorReplicaRef } from './replica.js';
import {
  DEFAULT_HEAD_WIDTH, DEFAULT_WIDTHS, DETECTOR_FAMILY, buildDetector, detectorArchitectureSchema, type Detector,
} from './model.js';
import { detectionMap } from './val-map.js';

export { TrainingCancelledError };

export const detectorHyperparametersSchema = z.object({
  // The domain's limits (src/domain/hyperparameters.ts), with the detector's image-size rule.
  ...hyperparameterFields,
  /** Square input side; a multiple of 16 (the largest stride). */
  imageSize: hyperparameterFields.imageSize.min(DETECTOR_IMAGE_SIZE.min).refine((s) => s % DETECTOR_IMAGE_SIZE.multipleOf === 0, { message: `imageSize must be a multiple of ${DETECTOR_IMAGE_SIZE.multipleOf}` }),
  widths: detectorArchitectureSchema.shape.widths.optional(),
  headWidth: detectorArchitectureSchema.shape.headWidth.optional(),
  /** Random left–right flips (default on). */
  augment: z.boolean().optional(),
  /** Validation mAP50 every this many epochs (and after the last); 0 turns it off. Default 5. */
  mapEvery: z.number().int().min(0).max(1000).optional(),
});
export type DetectorHyperparameters = z.infer<typeof detectorHyperparametersSchema>;

/** Measured on the demo-like set (bench/detector-training.bench.ts): mAP50 ≥ 0.9 within the time goal. */
export const DEFAULT_DETECTOR_HYPERPARAMETERS: DetectorHyperparameters = DOMAIN_DETECTOR_DEFAULTS;

export interface DetectorTrainingInput {
  /** Class names in output order; `classes` in the sets index into it. */
  labels: string[];
  train: DetectionSet;
  val: DetectionSet;
  hyperparameters: DetectorHyperparameters;
  /** 'new_version' fine-tunes from `baseModelOnnx` (required then); default: fine-tune iff a base is given. */
  mode?: 'new_model' | 'new_version';
  baseModelOnnx?: Uint8Array;
}

export interface DetectorEpochMetrics {
  epoch: number; // 1-based
  totalEpochs: number;
  /** Mean training loss and its parts (class BCE, GIoU), per batch. */
  loss: number;
  clsLoss: number;
  boxLoss: number;
  /** null when the validation set is empty. */
  valLoss: number | null;
  /** Validation mAP50 / mAP50-95 in the letterboxed frame; null in epochs where it was not computed. */
  valMap50: number | null;
  valMap: number | null;
  learningRate: number;
  etaSeconds: number;
  imagesPerSecond: number;
}

export interface DetectorTrainingOutput {
  onnx: Uint8Array;
  history: DetectorEpochMetrics[];
  inputSize: { height: number; width: number };
  names: string[];
  /** max |ONNX Runtime − TF.js| over the export check's outputs (scores ≤ 1e-4, boxes ≤ 1e-3 px, or the export threw). */
  parityMaxAbsDiff: number;
  durationMs: number;
  seed: number;
  fineTuned: boolean;
  backend: string;
  /** Data-parallel replicas the run used (the loss curve is reproducible for a seed and this count). */
  replicas: number;
}

export interface DetectorTrainCallbacks {
  onProgress?: (m: DetectorEpochMetrics) => void;
  /** Polled before every batch; returning true rejects with TrainingCancelledError. */
  shouldCancel?: () => boolean;
  logger?: BackendLogger;
  /** Replicas trained data-parallel, one per worker thread (this thread is one). Default 1. */
  replicas?: number;
}

/** Linear warm-up over `warmup` steps, then cosine decay to 5 % of `base` at `total`. */
export function learningRateAt(step: number, total: number, warmup: number, base: number): number {
  const warm = warmup > 0 ? Math.min(1, (step + 1) / warmup) : 1;
  const progress = total > 1 ? step / (total - 1) : 1;
  return base * warm * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress)));
}

function validateInput(input: DetectorTrainingInput, hp: DetectorHyperparameters): void {
  if (input.labels.length < 1) throw new Error('need at least 1 label');
  if (new Set(input.labels).size !== input.labels.length) throw new Error('labels must be unique');
  validateDetectionSet('train', input.train, hp.imageSize, input.labels.length);
  validateDetectionSet('val', input.val, hp.imageSize, input.labels.length);
  if (input.train.count === 0) throw new Error('the training set is empty');
}

function validationLoss(model: Detector, set: DetectionSet, nc: number, loss: LossOptions): number | null {
  if (set.count === 0) return null;
  let sum = 0;
  let batches = 0;
  for (let from = 0; from < set.count; from += 16) {
    const batch = makeBatch(set, Array.from({ length: Math.min(16, set.count - from) }, (_, i) => from + i), nc);
    sum += tf.tidy(() => detectorLossTerms(model, batch, loss).total.dataSync()[0]);
    batches++;
  }
  return sum / batches;
}

/** Trains on the active backend; returns the model (caller disposes it). */
export async function trainDetectorModel(input: DetectorTrainingInput, cb: DetectorTrainCallbacks = {}): Promise<{ model: Detector; history: DetectorEpochMetrics[]; seed: number; fineTuned: boolean; replicas: number }> {
  const hp = detectorHyperparametersSchema.parse(input.hyperparameters);
  if (input.mode === 'new_version' && !input.baseModelOnnx) throw new Error("mode 'new_version' needs baseModelOnnx");
  const fineTuned = input.baseModelOnnx !== undefined && input.mode !== 'new_model';
  // The base is checked first: its architecture decides what the sets must look like.
  const base: BaseDetector | null = fineTuned ? readBaseDetector(input.baseModelOnnx!) : null;
  const widths = hp.widths ?? base?.architecture.widths ?? DEFAULT_WIDTHS;
  const headWidth = hp.headWidth ?? base?.architecture.headWidth ?? DEFAULT_HEAD_WIDTH;
  const architecture = detectorArchitectureSchema.parse({ family: DETECTOR_FAMILY, inputSize: hp.imageSize, widths, headWidth });
  const diff = base ? architectureDifference(base.architecture, architecture) : '';
  if (diff) throw new BaseModelMismatchError(`the base detector's architecture differs: ${diff}`);
  validateInput(input, hp);
  const nc = input.labels.length;
  const seed = hp.seed ?? Math.floor(Math.random() * 2 ** 31);

  const spec = { inputSize: hp.imageSize, numClasses: nc, widths, headWidth, seed };
  const model = buildDetector(spec);
  const optimizer = tf.train.adam(hp.learningRate);
  let runner: DataParallelRunner<typeof spec, DetectorBatch> | null = null;
  try {
    if (base) loadBaseDetectorWeights(model, base, input.labels);
    runner = await DataParallelRunner.start({
      model: detectorReplicaModel, ref: detectorReplicaRef, spec, replica: detectorReplica(model), optimizer,
      replicas: Math.max(1, Math.min(cb.replicas ?? 1, hp.batchSize)), backend: tf.getBackend() as BackendPreference,
    });
    const random = seededRandom(seed);
    const n = input.train.count;
    const perEpoch = Math.ceil(n / hp.batchSize);
    const totalSteps = hp.epochs * perEpoch;
    // Warm up for one epoch, fine-tunes too: Adam's first steps move every weight by about the
    // full learning rate whatever its gradient, which would wreck a trained base.
    const warmup = perEpoch;
    const mapEvery = hp.mapEvery ?? 5;
    const history: DetectorEpochMetrics[] = [];
    const started = performance.now();
    let step = 0;
    let lr = hp.learningRate;
    for (let epoch = 1; epoch <= hp.epochs; epoch++) {
      const order = shuffled(n, random);
      const t0 = performance.now();
      const sums = { loss: 0, cls: 0, box: 0 };
      for (let from = 0; from < n; from += hp.batchSize) {
        // Yield so in-process callers' timers/messages run; then honour cancellation.
        await new Promise<void>((r) => setImmediate(r));
        if (cb.shouldCancel?.()) throw new TrainingCancelledError(`training was cancelled in epoch ${epoch}`);
        const idx = order.subarray(from, Math.min(n, from + hp.batchSize));
        const flips = hp.augment === false ? undefined : Array.from(idx, () => random() < 0.5);
        const batch = makeBatch(input.train, idx, nc, flips);
        lr = learningRateAt(step++, totalSteps, warmup, hp.learningRate);
        (optimizer as unknown as { learningRate: number }).learningRate = lr;
        const r = await runner.step(batch);
        const norm = Math.max(1, batch.positives);
        sums.loss += r.loss;
        sums.cls += (r.sums.cls ?? 0) / norm;
        sums.box += (r.sums.box ?? 0) / norm;
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      if (cb.shouldCancel?.()) throw new TrainingCancelledError(`training was cancelled in epoch ${epoch}`);
      const valLoss = validationLoss(model, input.val, nc, DEFAULT_LOSS);
      const map = mapEvery > 0 && (epoch % mapEvery === 0 || epoch === hp.epochs) ? detectionMap(model, input.val) : null;
      const elapsed = (performance.now() - started) / 1000;
      const m: DetectorEpochMetrics = {
        epoch, totalEpochs: hp.epochs, loss: sums.loss / perEpoch, clsLoss: sums.cls / perEpoch, boxLoss: sums.box / perEpoch,
        valLoss, valMap50: map?.map50 ?? null, valMap: map?.map ?? null, learningRate: lr,
        etaSeconds: (elapsed / epoch) * (hp.epochs - epoch), imagesPerSecond: n / trainSeconds,
      };
      history.push(m);
      cb.onProgress?.(m);
    }
    return { model, history, seed, fineTuned, replicas: runner.replicas };
  } catch (err) {
    model.dispose();
    throw err;
  } finally {
    await runner?.close();
    optimizer.dispose();
  }
}

/** Selects a backend, trains, exports to the Ultralytics-layout ONNX and verifies it against TF.js. */
export async function trainDetector(input: DetectorTrainingInput, opts: DetectorTrainCallbacks & { backend?: BackendPreference } = {}): Promise<DetectorTrainingOutput> {
  const started = performance.now();
  const choice = await selectBackend(opts.backend ?? 'auto', opts.logger);
  const { model, history, seed, fineTuned, replicas } = await trainDetectorModel(input, opts);
  try {
    const s = model.spec.inputSize;
    const check = input.val.count > 0 ? input.val : input.train;
    const verification = makeBatch(check, Array.from({ length: Math.min(4, check.count) }, (_, i) => i), input.labels.length).images;
    const exported = await exportDetectorToOnnx(model, input.labels, verification);
    return {
      onnx: exported.onnx, history, inputSize: { height: s, width: s }, names: [...input.labels],
      parityMaxAbsDiff: exported.maxAbsDiff, durationMs: performance.now() - started, seed, fineTuned, backend: choice.name, replicas,
    };
  } finally {
    model.dispose();
  }
}
