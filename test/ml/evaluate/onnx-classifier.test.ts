import '../../helpers/node-realm.js'; // onnxruntime-node inside jest
import * as tf from '@tensorflow/tfjs';
import { CorruptArtifactError, LabelMismatchError, evaluateOnnxClassifier } from '../../../src/ml/evaluate/onnx-classifier.js';
import { exportClassifierToOnnx } from '../../../src/ml/onnx/export.js';
import { selectBackend } from '../../../src/ml/train/backend.js';
import { buildClassifier } from '../../../src/ml/train/model.js';

const labels = ['red_light', 'green_light', 'stop_sign'];
const S = 16;
const N = 50;

let onnxBytes: Uint8Array;
let x: Float32Array;
let tfPredictions: number[];

beforeAll(async () => {
  await selectBackend('wasm', { info: () => undefined });
  const model = buildClassifier({ imageSize: S, numClasses: labels.length, convFilters: [4, 8], seed: 5 });
  // Larger weights than the init so predictions spread over the labels (seeds ≥ 1: tfjs treats seed 0 as "unseeded").
  tf.tidy(() => model.layers.forEach((l, i) => {
    const ws = l.getWeights();
    if (ws.length) l.setWeights(ws.map((w, j) => tf.randomNormal(w.shape, 0, 0.4, 'float32', 10 * i + j + 1)));
  }));
  x = tf.tidy(() => tf.randomUniform([N, S, S, 3], 0, 1, 'float32', 9).dataSync() as Float32Array);
  tfPredictions = tf.tidy(() => Array.from((model.predict(tf.tensor4d(x, [N, S, S, 3])) as tf.Tensor).argMax(1).dataSync()));
  onnxBytes = (await exportClassifierToOnnx(model, { labels, imageSize: S })).onnx;
  model.dispose();
});

describe('evaluateOnnxClassifier', () => {
  it('predicts the same labels as the TF.js model, whatever the batch size', async () => {
    expect(new Set(tfPredictions).size).toBeGreaterThan(1);
    for (const batchSize of [1, 7, 64, 1000]) {
      const res = await evaluateOnnxClassifier(onnxBytes, { x }, labels, { batchSize });
      expect(Array.from(res.predictions)).toEqual(tfPredictions);
      expect(res.timing.batches).toBe(Math.ceil(N / batchSize));
      expect(res.timing.imagesPerSecond).toBeGreaterThan(0);
      expect(res.confidences.every((c) => c > 1 / labels.length - 1e-6 && c <= 1)).toBe(true);
    }
  });

  it('maps predictions onto the caller\'s label order', async () => {
    const reversed = [...labels].reverse();
    const res = await evaluateOnnxClassifier(onnxBytes, { x }, reversed);
    expect(Array.from(res.predictions)).toEqual(tfPredictions.map((p) => labels.length - 1 - p));
    expect(res.modelLabels).toEqual(labels);
  });

  it('rejects labels that are not the model\'s', async () => {
    await expect(evaluateOnnxClassifier(onnxBytes, { x }, ['red_light', 'green_light', 'yield_sign'])).rejects.toBeInstanceOf(LabelMismatchError);
  });

  it('rejects a test set of the wrong image size', async () => {
    await expect(evaluateOnnxClassifier(onnxBytes, { x: new Float32Array(2 * 8 * 8 * 3) }, labels)).rejects.toThrow(/16×16×3/);
  });

  const corruptions: Array<[string, () => Uint8Array]> = [
    ['empty', () => new Uint8Array(0)],
    ['random bytes', () => Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251)],
    ['a PNG header', () => Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13])],
    ...[0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99].map((f): [string, () => Uint8Array] => [`truncated to ${f * 100}%`, () => onnxBytes.slice(0, Math.floor(onnxBytes.length * f))]),
    ['missing the last byte', () => onnxBytes.slice(0, onnxBytes.length - 1)],
  ];

  it.each(corruptions)('fails with CorruptArtifactError on %s', async (_name, make) => {
    const err = await evaluateOnnxClassifier(make(), { x }, labels).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptArtifactError);
    expect(String(err)).toMatch(/^CorruptArtifactError: ONNX (artifact|Runtime)/);
  });
});
