/**
 * Trains the kit classifier with a hand-written loop (not model.fit) so that shuffling is seeded,
 * cancellation is checked between batches and progress is reported per epoch. `trainAndExport`
 * adds backend selection and the verified ONNX export; it is what the worker runs.
 */
import * as tf from '@tensorflow/tfjs';
import { exportClassifierToOnnx } from '../onnx/export.js';
import { readOnnxMetadata, readOnnxWeights } from '../onnx/read.js';
import { selectBackend, type BackendLogger, type BackendPreference } from './backend.js';
import {
  BaseModelMismatchError, DEFAULT_CONV_FILTERS, buildClassifier, classifierHyperparametersSchema, loadBaseWeights, type Hyperparameters,
} from './model.js';
import { seededRandom as rng } from '../random.js';
import { classifierReplica, classifierReplicaModel, classifierReplicaRef } from './classifier-replica.js';
import { DataParallelRunner } from './parallel/runner.js';

export interface Dataset {
  /** N·S·S·3 float32, NHWC, RGB, 0..1. */
  x: Float32Array;
  /** N label indices into `labels`. */
  y: Int32Array;
}

export interface TrainingInput {
  labels: string[];
  train: Dataset;
  val: Dataset;
  hyperparameters: Hyperparameters;
  /** 'new_version' fine-tunes from `baseModelOnnx` (required then); 'new_model' trains from scratch. Default: fine-tune iff a base is given. */
  mode?: 'new_model' | 'new_version';
  baseModelOnnx?: Uint8Array;
}

export interface EpochMetrics {
  epoch: number; // 1-based
  totalEpochs: number;
  loss: number;
  accuracy: number;
  /** null when the validation set is empty. */
  valLoss: number | null;
  valAccuracy: number | null;
  etaSeconds: number;
  imagesPerSecond: number;
}

export interface TrainingOutput {
  onnx: Uint8Array;
  history: EpochMetrics[];
  backend: string;
  labels: string[];
  /** NHWC; the ONNX batch dimension is dynamic ('N'), 1 is the per-image shape. */
  inputShape: [1, number, number, 3];
  durationMs: number;
  seed: number;
  fineTuned: boolean;
  /** Data-parallel replicas the run used (the loss curve is reproducible for a seed and this count). */
  replicas: number;
  /** max |ONNX Runtime − TF.js| measured by the export check (≤ 1e-4 or the export threw). */
  parityMaxAbsDiff: number;
}

export interface TrainCallbacks {
  onProgress?: (m: EpochMetrics) => void;
  /** Polled before every batch; returning true rejects the run with TrainingCancelledError. */
  shouldCancel?: () => boolean;
  logger?: BackendLogger;
  /**
   * Model replicas trained data-parallel, one per worker thread (this thread is one of them).
   * Default 1. The loss curve is reproducible for a given seed and replica count.
   */
  replicas?: number;
}

export class TrainingCancelledError extends Error {
  override name = 'TrainingCancelledError';
  constructor(message = 'training was cancelled') {
    super(message);
  }
}


/** The seeded epoch order (Fisher–Yates); the trainer draws one per epoch from one generator. */
export function shuffled(n: number, random: () => number): Int32Array {
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [idx[i], idx[j]] = [idx[j], idx[i]];
  }
  return idx;
}

function validate(input: TrainingInput, hp: Hyperparameters): void {
  const per = hp.imageSize * hp.imageSize * 3;
  if (input.labels.length < 2) throw new Error(`need at least 2 labels, got ${input.labels.length}`);
  for (const [name, ds] of [['train', input.train], ['val', input.val]] as const) {
    if (ds.x.length !== ds.y.length * per) {
      throw new Error(`${name}.x has ${ds.x.length} floats; expected ${ds.y.length} × ${hp.imageSize}×${hp.imageSize}×3 = ${ds.y.length * per}`);
    }
    const bad = ds.y.findIndex((v) => v < 0 || v >= input.labels.length);
    if (bad >= 0) throw new Error(`${name}.y[${bad}] = ${ds.y[bad]} is not a label index`);
  }
  if (input.train.y.length === 0) throw new Error('the training set is empty');
  if (input.mode === 'new_version' && !input.baseModelOnnx) throw new Error("mode 'new_version' needs baseModelOnnx");
}

/** x/y rows `idx[from..to)` as typed arrays (views when `idx` is null). */
function batchArrays(ds: Dataset, idx: Int32Array | null, from: number, to: number, s: number): { x: Float32Array; y: Int32Array } {
  const per = s * s * 3;
  const n = to - from;
  if (!idx) return { x: ds.x.subarray(from * per, to * per), y: ds.y.subarray(from, to) };
  const x = new Float32Array(n * per);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const row = idx[from + i];
    x.set(ds.x.subarray(row * per, (row + 1) * per), i * per);
    y[i] = ds.y[row];
  }
  return { x, y };
}

/** x/y rows `from..to)` as tensors. */
function batchTensors(ds: Dataset, from: number, to: number, s: number, k: number) {
  const { x, y } = batchArrays(ds, null, from, to, s);
  const ys = tf.tensor1d(y, 'int32');
  return { xs: tf.tensor4d(x, [to - from, s, s, 3]), ys, oneHot: tf.oneHot(ys, k) };
}

function evaluate(model: tf.LayersModel, ds: Dataset, s: number, k: number): { loss: number | null; accuracy: number | null } {
  const n = ds.y.length;
  if (n === 0) return { loss: null, accuracy: null };
  let lossSum = 0;
  let correct = 0;
  for (let from = 0; from < n; from += 256) {
    const to = Math.min(n, from + 256);
    const [l, c] = tf.tidy(() => {
      const { xs, ys, oneHot } = batchTensors(ds, from, to, s, k);
      const logits = model.predict(xs) as tf.Tensor2D;
      const loss = tf.losses.softmaxCrossEntropy(oneHot, logits, undefined, 0, tf.Reduction.SUM);
      const hits = tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), ys), 'float32'));
      return [loss.dataSync()[0], hits.dataSync()[0]];
    });
    lossSum += l;
    correct += c;
  }
  return { loss: lossSum / n, accuracy: correct / n };
}

/** Trains on the active backend and returns the TF.js model (caller disposes it). */
export async function trainClassifier(input: TrainingInput, cb: TrainCallbacks = {}): Promise<{ model: tf.Sequential; history: EpochMetrics[]; seed: number; fineTuned: boolean; replicas: number }> {
  const hp = classifierHyperparametersSchema.parse(input.hyperparameters);
  validate(input, hp);
  const s = hp.imageSize;
  const k = input.labels.length;
  const seed = hp.seed ?? Math.floor(Math.random() * 2 ** 31);
  const fineTuned = input.baseModelOnnx !== undefined && input.mode !== 'new_model';
  const base = fineTuned ? readOnnxMetadata(input.baseModelOnnx!) : null;
  if (base && base.imageSize !== s) throw new BaseModelMismatchError(`base model input size ${base.imageSize} ≠ imageSize ${s}`);
  const convFilters = hp.convFilters ?? base?.architecture?.convFilters ?? DEFAULT_CONV_FILTERS;

  const spec = { imageSize: s, numClasses: k, convFilters, seed };
  const model = buildClassifier(spec);
  const optimizer = tf.train.adam(hp.learningRate);
  let runner: DataParallelRunner<typeof spec, ReturnType<typeof batchArrays>> | null = null;
  try {
    if (base) loadBaseWeights(model, readOnnxWeights(input.baseModelOnnx!), base.labels, input.labels);
    runner = await DataParallelRunner.start({
      model: classifierReplicaModel, ref: classifierReplicaRef, spec, replica: classifierReplica(model, spec), optimizer,
      replicas: Math.max(1, Math.min(cb.replicas ?? 1, hp.batchSize)), backend: tf.getBackend() as BackendPreference,
    });
    const random = rng(seed);
    const history: EpochMetrics[] = [];
    const started = performance.now();
    const n = input.train.y.length;
    for (let epoch = 1; epoch <= hp.epochs; epoch++) {
      const order = shuffled(n, random);
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      for (let from = 0; from < n; from += hp.batchSize) {
        // Yield so in-process callers' timers/messages run; then honour cancellation.
        await new Promise<void>((r) => setImmediate(r));
        if (cb.shouldCancel?.()) throw new TrainingCancelledError(`training was cancelled in epoch ${epoch}`);
        const to = Math.min(n, from + hp.batchSize);
        const r = await runner.step(batchArrays(input.train, order, from, to, s));
        lossSum += r.loss * (to - from);
        correct += r.sums.hits ?? 0;
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      if (cb.shouldCancel?.()) throw new TrainingCancelledError(`training was cancelled in epoch ${epoch}`);
      const val = evaluate(model, input.val, s, k);
      const elapsed = (performance.now() - started) / 1000;
      const m: EpochMetrics = {
        epoch, totalEpochs: hp.epochs, loss: lossSum / n, accuracy: correct / n, valLoss: val.loss, valAccuracy: val.accuracy,
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

/** Selects a backend, trains, exports to ONNX and verifies the export against TF.js. */
export async function trainAndExport(input: TrainingInput, opts: TrainCallbacks & { backend?: BackendPreference } = {}): Promise<TrainingOutput> {
  const started = performance.now();
  const choice = await selectBackend(opts.backend ?? 'auto', opts.logger);
  const { model, history, seed, fineTuned, replicas } = await trainClassifier(input, opts);
  try {
    const s = input.hyperparameters.imageSize;
    const verificationInputs = input.val.y.length > 0 ? input.val.x : input.train.x;
    const exported = await exportClassifierToOnnx(model, { labels: input.labels, imageSize: s, verificationInputs });
    return {
      onnx: exported.onnx, history, backend: choice.name, labels: [...input.labels], inputShape: [1, s, s, 3],
      durationMs: performance.now() - started, seed, fineTuned, replicas, parityMaxAbsDiff: exported.maxAbsDiff,
    };
  } finally {
    model.dispose();
  }
}
