import '../../helpers/node-realm.js'; // onnxruntime-node inside jest
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import {
  OnnxExportMismatchError, UnsupportedLayerError, buildOnnxGraph, exportClassifierToOnnx, readOnnxMetadata, readOnnxWeights, verifyOnnxExport,
} from '../../../src/ml/onnx/export.js';
import { selectBackend } from '../../../src/ml/train/backend.js';
import { buildClassifier } from '../../../src/ml/train/model.js';

const { onnx } = onnxProto;
const labels = ['red_light', 'green_light', 'stop_sign', 'yield_sign'];
const S = 32;

function images(n: number, size: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n * size * size * 3 }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  });
}

/** max |ORT − TF.js softmax| on `x`, computed independently of the exporter's own check. */
async function parity(bytes: Uint8Array, model: tf.LayersModel, x: Float32Array, size: number): Promise<number> {
  const n = x.length / (size * size * 3);
  const want = Array.from(tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x, [n, size, size, 3])) as tf.Tensor).dataSync()));
  const session = await ort.InferenceSession.create(Buffer.from(bytes));
  const got = (await session.run({ input: new ort.Tensor('float32', x, [n, size, size, 3]) })).probabilities.data as Float32Array;
  await session.release();
  expect(got.length).toBe(want.length);
  return want.reduce((m, v, i) => Math.max(m, Math.abs(v - got[i])), 0);
}

/** Pushes weights away from the init so a layout bug cannot hide behind near-uniform outputs. */
function perturb(model: tf.LayersModel, seed: number): void {
  tf.tidy(() => model.layers.forEach((layer, i) => {
    const ws = layer.getWeights();
    if (ws.length) layer.setWeights(ws.map((w, j) => tf.randomNormal(w.shape, 0, 0.3, 'float32', seed * 100 + i * 10 + j)));
  }));
}

let model: tf.Sequential;
let bytes: Uint8Array;

beforeAll(async () => {
  await selectBackend('wasm', { info: () => undefined });
  model = buildClassifier({ imageSize: S, numClasses: labels.length, convFilters: [8, 16], seed: 3 });
  perturb(model, 3);
  bytes = (await exportClassifierToOnnx(model, { labels, imageSize: S, verificationInputs: images(8, S, 1) })).onnx;
});

afterAll(() => model.dispose());

describe('ONNX export', () => {
  it('reproduces TF.js probabilities in onnxruntime within 1e-4', async () => {
    const diff = await parity(bytes, model, images(24, S, 2), S);
    expect(diff).toBeLessThanOrEqual(1e-4);
  });

  it('writes an opset-13 / IR-7 graph with an NHWC input and a softmax output', () => {
    const m = onnx.ModelProto.decode(bytes);
    expect(Number(m.irVersion)).toBe(7);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 13]]);
    const g = m.graph as onnxProto.onnx.GraphProto;
    const dims = (v: onnxProto.onnx.IValueInfoProto) => v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(g.input.map((i) => i.name)).toEqual(['input']);
    expect(dims(g.input[0])).toEqual(['N', S, S, 3]);
    expect(g.output.map((o) => o.name)).toEqual(['probabilities']);
    expect(dims(g.output[0])).toEqual(['N', labels.length]);
    expect(g.node.map((n) => n.opType)).toEqual([
      'Transpose', 'Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Transpose', 'Flatten', 'Gemm', 'Relu', 'Gemm', 'Softmax',
    ]);
  });

  it('stores labels, input size and preprocessing in metadata_props', () => {
    const meta = readOnnxMetadata(bytes);
    expect(meta).toMatchObject({ labels, imageSize: S, inputName: 'input', outputName: 'probabilities', layout: 'NHWC', irVersion: 7, opsetVersion: 13 });
    expect(meta.preprocessing).toMatchObject({ scale: 1 / 255, layout: 'NHWC' });
    expect(meta.architecture).toEqual({ convFilters: [8, 16] });
  });

  it('reads every layer weight back in TF.js layout', () => {
    const weights = readOnnxWeights(bytes);
    for (const layer of model.layers) {
      const ws = layer.getWeights();
      if (!ws.length) continue;
      const [k, b] = ws;
      expect(weights.get(`${layer.name}.kernel`)!.shape).toEqual(k.shape);
      expect(Array.from(weights.get(`${layer.name}.kernel`)!.values)).toEqual(Array.from(k.dataSync()));
      expect(Array.from(weights.get(`${layer.name}.bias`)!.values)).toEqual(Array.from(b.dataSync()));
    }
  });

  it('throws OnnxExportMismatchError when the ONNX graph does not match the model', async () => {
    const other = buildClassifier({ imageSize: S, numClasses: labels.length, convFilters: [8, 16], seed: 4 });
    perturb(other, 4);
    const wrong = buildOnnxGraph(other, labels, S);
    other.dispose();
    const err = await verifyOnnxExport(wrong, model, S).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OnnxExportMismatchError);
    expect((err as OnnxExportMismatchError).maxAbsDiff).toBeGreaterThan(1e-4);
    expect(String(err)).toMatch(/^OnnxExportMismatchError: ONNX export does not reproduce/);
  });

  it('exports strided, non-square, same-padded convs and pools on odd input sizes', async () => {
    const size = 27;
    const m = tf.sequential({ layers: [
      tf.layers.conv2d({ inputShape: [size, size, 3], filters: 5, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.conv2d({ filters: 4, kernelSize: [2, 4], strides: [1, 2], padding: 'valid' }),
      tf.layers.averagePooling2d({ poolSize: 2, strides: 1, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 3 }),
    ] });
    perturb(m, 5);
    const res = await exportClassifierToOnnx(m, { labels: ['a', 'b', 'c'], imageSize: size });
    expect(await parity(res.onnx, m, images(6, size, 6), size)).toBeLessThanOrEqual(1e-4);
    m.dispose();
  });

  it('refuses layers and activations it cannot express', () => {
    const withTanh = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 3] }), tf.layers.dense({ units: 2, activation: 'tanh' })] });
    expect(() => buildOnnxGraph(withTanh, ['a', 'b'], 4)).toThrow(UnsupportedLayerError);
    const withBn = tf.sequential({ layers: [tf.layers.batchNormalization({ inputShape: [4, 4, 3] }), tf.layers.flatten(), tf.layers.dense({ units: 2 })] });
    expect(() => buildOnnxGraph(withBn, ['a', 'b'], 4)).toThrow(/BatchNormalization is not exported/);
    const plain = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 3] }), tf.layers.dense({ units: 2 })] });
    expect(() => buildOnnxGraph(plain, ['a', 'b', 'c'], 4)).toThrow(/3 labels/);
    plain.dispose();
    withTanh.dispose();
    withBn.dispose();
  });
});
