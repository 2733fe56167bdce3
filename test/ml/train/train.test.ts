import '../../helpers/node-realm.js'; // must precede onnxruntime-node (jest realm fix)
import * as tf from '@tensorflow/tfjs';
import { buildCropSet, type CropSet } from '../../../src/ml/dataset/crops.js';
import { evaluateOnnxClassifier } from '../../../src/ml/evaluate/onnx-classifier.js';
import { classificationMetrics } from '../../../src/ml/metrics/classification.js';
import { readOnnxMetadata } from '../../../src/ml/onnx/export.js';
import { selectBackend } from '../../../src/ml/train/backend.js';
import { runTrainingInWorker } from '../../../src/ml/train/run-in-worker.js';
import {
  TrainingCancelledError, trainClassifier, type EpochMetrics, type TrainingInput, type TrainingOutput,
} from '../../../src/ml/train/trainer.js';
import { generateSyntheticKit } from '../../helpers/synthetic-kit.js';

const quiet = { info: () => undefined };
const S = 32;
const hp = { epochs: 6, batchSize: 32, learningRate: 0.002, imageSize: S, seed: 7 };

let labels: string[];
let crops: CropSet;
let trained: TrainingOutput;
const progress: EpochMetrics[] = [];

function input(over: Partial<TrainingInput> = {}): TrainingInput {
  return { labels, train: crops.train, val: crops.val, hyperparameters: hp, ...over };
}

beforeAll(async () => {
  const kit = await generateSyntheticKit({ seed: 1, images: 150 });
  labels = kit.labels;
  crops = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(labels.map((l, i) => [l, i])), S);
  // In-process runs below use the same backend the worker picks.
  await selectBackend('auto', quiet);
  trained = await runTrainingInWorker(input(), { onProgress: (m) => progress.push(m), logger: quiet });
});

describe('training in a worker', () => {
  it('uses a few hundred synthetic crops', () => {
    expect(crops.train.y.length).toBeGreaterThan(300);
    expect(crops.test.y.length).toBeGreaterThan(80);
  });

  it('reports progress every epoch and returns the artifact description', () => {
    expect(progress.map((m) => m.epoch)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(trained.history).toEqual(progress);
    for (const m of progress) {
      expect(m.totalEpochs).toBe(6);
      expect(m.imagesPerSecond).toBeGreaterThan(0);
      expect(m.valAccuracy).not.toBeNull();
      expect(m.etaSeconds).toBeGreaterThanOrEqual(0);
    }
    expect(progress.at(-1)!.etaSeconds).toBe(0);
    expect(progress.at(-1)!.loss).toBeLessThan(progress[0].loss);
    expect(trained.backend).toBe('wasm'); // tfjs-node is not installed here
    expect(trained.labels).toEqual(labels);
    expect(trained.inputShape).toEqual([1, S, S, 3]);
    expect(trained.parityMaxAbsDiff).toBeLessThanOrEqual(1e-4);
    expect(trained.durationMs).toBeGreaterThan(0);
    expect(readOnnxMetadata(trained.onnx)).toMatchObject({ labels, imageSize: S, inputName: 'input', outputName: 'probabilities' });
  });

  it('reaches ≥ 95% test accuracy, evaluated from the exported ONNX in onnxruntime', async () => {
    const res = await evaluateOnnxClassifier(trained.onnx, crops.test, labels);
    const metrics = classificationMetrics(Array.from(crops.test.y), Array.from(res.predictions), labels);
    expect(metrics.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it('is cancelled through an AbortSignal between batches', async () => {
    const ac = new AbortController();
    const seen: EpochMetrics[] = [];
    let abortedAt = 0;
    const run = runTrainingInWorker(input({ hyperparameters: { ...hp, epochs: 200 } }), {
      logger: quiet,
      signal: ac.signal,
      onProgress: (m) => {
        seen.push(m);
        abortedAt = performance.now();
        ac.abort();
      },
    });
    await expect(run).rejects.toBeInstanceOf(TrainingCancelledError);
    expect(performance.now() - abortedAt).toBeLessThan(5000);
    expect(seen.length).toBeLessThanOrEqual(2);
  });

  it('rejects at once when the signal is already aborted', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(runTrainingInWorker(input(), { signal: ac.signal, logger: quiet })).rejects.toBeInstanceOf(TrainingCancelledError);
  });
});

describe('training in-process', () => {
  const oneEpoch = { ...hp, epochs: 1 };

  it('is deterministic for a seed: same first-epoch loss; another seed differs', async () => {
    const first = async (seed: number) => {
      const { model, history } = await trainClassifier(input({ hyperparameters: { ...oneEpoch, seed } }));
      model.dispose();
      return history[0];
    };
    const a = await first(11);
    const b = await first(11);
    const c = await first(12);
    expect(b.loss).toBe(a.loss);
    expect(b.accuracy).toBe(a.accuracy);
    expect(b.valLoss).toBe(a.valLoss);
    expect(c.loss).not.toBe(a.loss);
  });

  it('fine-tuning from the base ONNX starts with a lower first-epoch loss than from scratch', async () => {
    const scratch = await trainClassifier(input({ hyperparameters: oneEpoch }));
    const tuned = await trainClassifier(input({ hyperparameters: oneEpoch, mode: 'new_version', baseModelOnnx: trained.onnx }));
    scratch.model.dispose();
    tuned.model.dispose();
    expect(tuned.fineTuned).toBe(true);
    expect(tuned.history[0].loss).toBeLessThan(scratch.history[0].loss / 5);
  });

  it('fine-tuning maps the head by label name when the new version reorders labels', async () => {
    const order = [...labels].reverse();
    const remap = (ds: { x: Float32Array; y: Int32Array }) => ({ x: ds.x, y: Int32Array.from(ds.y, (v) => order.indexOf(labels[v])) });
    const tuned = await trainClassifier({
      labels: order, train: remap(crops.train), val: remap(crops.val), hyperparameters: oneEpoch, baseModelOnnx: trained.onnx,
    });
    tuned.model.dispose();
    // The trained head is reused column by column, so the first epoch is already accurate.
    expect(tuned.history[0].accuracy).toBeGreaterThan(0.9);
  });

  it('rejects a base model with a different input size', async () => {
    await expect(trainClassifier(input({ hyperparameters: { ...oneEpoch, imageSize: 24 }, train: { x: new Float32Array(2 * 24 * 24 * 3), y: Int32Array.from([0, 1]) }, val: { x: new Float32Array(0), y: new Int32Array(0) }, baseModelOnnx: trained.onnx })))
      .rejects.toThrow(/input size 32/);
  });

  it('frees every tensor it creates (model disposed by the caller, nothing else left)', async () => {
    const before = tf.memory().numTensors;
    const { model } = await trainClassifier(input({ hyperparameters: { ...oneEpoch, batchSize: 64 } }));
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(trainClassifier(input({ hyperparameters: oneEpoch }), { shouldCancel: () => true })).rejects.toThrow();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('stops with TrainingCancelledError when shouldCancel turns true', async () => {
    let batches = 0;
    await expect(trainClassifier(input({ hyperparameters: { ...hp, epochs: 50 } }), { shouldCancel: () => ++batches > 3 }))
      .rejects.toBeInstanceOf(TrainingCancelledError);
    expect(batches).toBe(4);
  });

  it('validates its input', async () => {
    await expect(trainClassifier(input({ hyperparameters: { ...hp, epochs: 0 } }))).rejects.toThrow();
    await expect(trainClassifier(input({ train: { x: crops.train.x, y: crops.train.y.subarray(1) } }))).rejects.toThrow(/expected/);
    await expect(trainClassifier(input({ mode: 'new_version' }))).rejects.toThrow(/baseModelOnnx/);
  });
});
