/**
 * TF.js LayersModel → ONNX (opset 13, IR 7) built with onnx-proto's ModelProto, then verified:
 * ONNX Runtime must reproduce TF.js's probabilities within 1e-4 or the export throws.
 *
 * Graph contract (what edge servers feed):
 *   input  "input"         float32 [N, S, S, 3]  NHWC, RGB, values 0..1 (pixel / 255)
 *   output "probabilities" float32 [N, numLabels] softmax, label order = metadata "labels"
 * Internally the graph transposes to NCHW for Conv/MaxPool and back to NHWC before Flatten,
 * so the Dense weights keep TF's flatten order.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { OnnxExportMismatchError, UnsupportedLayerError } from './errors.js';
import {
  GraphBuilder, encodeModel, floatTensor, int, ints, maxAbsDifference, randomUnitValues, runOnnx, valueInfo, type Attr,
} from './graph.js';
import { META, permute } from './read.js';

export { readOnnxMetadata, readOnnxWeights, type OnnxModelMetadata } from './read.js';
export { CorruptArtifactError, OnnxExportMismatchError, UnsupportedLayerError, OnnxMetadataError } from './errors.js';

export const ONNX_INPUT_NAME = 'input';
export const ONNX_OUTPUT_NAME = 'probabilities';
export { IR_VERSION, OPSET_VERSION } from './graph.js';
export const PARITY_TOLERANCE = 1e-4;

/** How crops must be prepared before inference; stored verbatim in metadata_props. */
export const PREPROCESSING = {
  crop: 'annotation bbox, clamped to the image',
  resize: 'stretch to imageSize×imageSize (sharp fit=fill, bilinear/lanczos)',
  color: 'RGB (alpha dropped)',
  scale: 1 / 255,
  mean: [0, 0, 0],
  std: [1, 1, 1],
  layout: 'NHWC',
} as const;

export interface ExportOptions {
  labels: string[];
  imageSize: number;
  /** Up to 32 images (N·S·S·3, 0..1) used for the parity check, e.g. validation crops. Random images are added. */
  verificationInputs?: Float32Array;
}

export interface ExportResult {
  onnx: Uint8Array;
  /** max |ORT − TF.js| over the verification batch. */
  maxAbsDiff: number;
  verifiedOn: number;
}

const pair = (v: number | number[]): [number, number] => (Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [v, v]);

/** Builds the ONNX bytes for a Sequential of Conv2D / MaxPooling2D / AveragePooling2D / Flatten / Dense. */
export function buildOnnxGraph(model: tf.LayersModel, labels: string[], imageSize: number): Uint8Array {
  const graph = new GraphBuilder();
  const initializers = graph.initializers;
  let current = ONNX_INPUT_NAME;
  let nchw = false;
  let shape = [imageSize, imageSize, 3]; // NHWC spatial shape of `current` (without batch)
  const convFilters: number[] = [];
  const add = (opType: string, inputs: string[], attribute: Attr[] = [], out?: string) => {
    current = graph.add(opType, inputs, attribute, out);
    return current;
  };
  const toLayout = (wantNchw: boolean) => {
    if (nchw !== wantNchw) add('Transpose', [current], [ints('perm', wantNchw ? [0, 3, 1, 2] : [0, 2, 3, 1])]);
    nchw = wantNchw;
  };
  const activation = (layer: tf.layers.Layer, act: unknown) => {
    if (act === 'relu') add('Relu', [current]);
    else if (act !== 'linear' && act !== undefined) throw new UnsupportedLayerError(`${layer.name}: activation ${String(act)} is not exported`);
  };

  for (const layer of model.layers) {
    const cls = layer.getClassName();
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (cfg.dataFormat && cfg.dataFormat !== 'channelsLast') throw new UnsupportedLayerError(`${layer.name}: only channelsLast is exported`);
    if (cls === 'Conv2D') {
      toLayout(true);
      const [kernel, bias] = layer.getWeights();
      const [kh, kw, cin, cout] = kernel.shape;
      const strides = pair(cfg.strides as number | number[]);
      const dil = pair((cfg.dilationRate as number | number[] | undefined) ?? 1);
      const info = tf.backend_util.computeConv2DInfo([1, shape[0], shape[1], cin], [kh, kw, cin, cout], strides, dil, cfg.padding as 'same' | 'valid');
      const w = `${layer.name}.kernel`;
      initializers.push(floatTensor(w, [cout, cin, kh, kw], permute(kernel.dataSync() as Float32Array, kernel.shape, [3, 2, 0, 1])));
      const inputs = [current, w];
      if (bias) {
        initializers.push(floatTensor(`${layer.name}.bias`, [cout], bias.dataSync() as Float32Array));
        inputs.push(`${layer.name}.bias`);
      }
      const p = info.padInfo;
      add('Conv', inputs, [ints('kernel_shape', [kh, kw]), ints('strides', strides), ints('dilations', dil), ints('pads', [p.top, p.left, p.bottom, p.right])]);
      activation(layer, cfg.activation);
      shape = [info.outHeight, info.outWidth, cout];
      convFilters.push(cout);
    } else if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D') {
      toLayout(true);
      const size = pair(cfg.poolSize as number | number[]);
      const strides = pair((cfg.strides as number | number[] | null) ?? size);
      const info = tf.backend_util.computePool2DInfo([1, shape[0], shape[1], shape[2]], size, strides, 1, cfg.padding as 'same' | 'valid');
      const p = info.padInfo;
      const attrs = [ints('kernel_shape', size), ints('strides', strides), ints('pads', [p.top, p.left, p.bottom, p.right])];
      // TF's average pooling ignores padded cells.
      if (cls === 'AveragePooling2D') attrs.push(int('count_include_pad', 0));
      add(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [current], attrs);
      shape = [info.outHeight, info.outWidth, shape[2]];
    } else if (cls === 'Flatten') {
      toLayout(false); // TF flattens NHWC; keep that order so Dense weights need no permutation
      add('Flatten', [current], [int('axis', 1)]);
      shape = [shape.reduce((a, b) => a * b, 1)];
    } else if (cls === 'Dense') {
      if (shape.length !== 1) throw new UnsupportedLayerError(`${layer.name}: Dense must follow Flatten`);
      const [kernel, bias] = layer.getWeights();
      const w = `${layer.name}.kernel`;
      initializers.push(floatTensor(w, kernel.shape, kernel.dataSync() as Float32Array));
      const inputs = [current, w];
      if (bias) {
        initializers.push(floatTensor(`${layer.name}.bias`, bias.shape, bias.dataSync() as Float32Array));
        inputs.push(`${layer.name}.bias`);
      }
      add('Gemm', inputs);
      activation(layer, cfg.activation);
      shape = [kernel.shape[1] as number];
    } else if (cls !== 'InputLayer') {
      throw new UnsupportedLayerError(`${layer.name}: layer type ${cls} is not exported`);
    }
  }
  if (shape.length !== 1 || shape[0] !== labels.length) {
    throw new UnsupportedLayerError(`model outputs ${shape} values but there are ${labels.length} labels`);
  }
  add('Softmax', [current], [int('axis', -1)], ONNX_OUTPUT_NAME);

  const metadata: Record<string, string> = {
    [META.labels]: JSON.stringify(labels),
    [META.inputSize]: String(imageSize),
    [META.inputName]: ONNX_INPUT_NAME,
    [META.outputName]: ONNX_OUTPUT_NAME,
    [META.layout]: 'NHWC',
    [META.preprocessing]: JSON.stringify(PREPROCESSING),
    [META.architecture]: JSON.stringify({ convFilters }),
  };
  return encodeModel({
    graphName: model.name || 'kit_classifier',
    docString: 'Assay kit-reading classifier',
    graph,
    inputs: [valueInfo(ONNX_INPUT_NAME, ['N', imageSize, imageSize, 3])],
    outputs: [valueInfo(ONNX_OUTPUT_NAME, ['N', labels.length])],
    metadata,
  });
}

/**
 * Runs `bytes` in ONNX Runtime and TF.js's `model` on the same images (given ones plus 8 random);
 * throws OnnxExportMismatchError when any probability differs by more than 1e-4.
 */
export async function verifyOnnxExport(bytes: Uint8Array, model: tf.LayersModel, imageSize: number, inputs?: Float32Array): Promise<{ maxAbsDiff: number; verifiedOn: number }> {
  const per = imageSize * imageSize * 3;
  const given = inputs ? inputs.subarray(0, Math.min(32, Math.floor(inputs.length / per)) * per) : new Float32Array(0);
  const x = new Float32Array(given.length + 8 * per);
  x.set(given);
  x.set(randomUnitValues(8 * per), given.length);
  const n = x.length / per;

  const expected = tf.tidy(() => tf.softmax(model.predict(tf.tensor4d(x, [n, imageSize, imageSize, 3])) as tf.Tensor2D).dataSync() as Float32Array);
  const [actual] = await runOnnx(bytes, [{ [ONNX_INPUT_NAME]: new ort.Tensor('float32', x, [n, imageSize, imageSize, 3]) }], ONNX_OUTPUT_NAME);
  const maxAbsDiff = maxAbsDifference(expected, actual);
  if (!(maxAbsDiff <= PARITY_TOLERANCE)) {
    throw new OnnxExportMismatchError(
      `ONNX export does not reproduce the TF.js model: max |ORT − TF.js| = ${maxAbsDiff} over ${n} images (tolerance ${PARITY_TOLERANCE}). Refusing to ship this artifact.`,
      maxAbsDiff);
  }
  return { maxAbsDiff, verifiedOn: n };
}

/** Exports and verifies; throws OnnxExportMismatchError when ORT and TF.js disagree by more than 1e-4. */
export async function exportClassifierToOnnx(model: tf.LayersModel, opts: ExportOptions): Promise<ExportResult> {
  const bytes = buildOnnxGraph(model, opts.labels, opts.imageSize);
  const { maxAbsDiff, verifiedOn } = await verifyOnnxExport(bytes, model, opts.imageSize, opts.verificationInputs);
  return { onnx: bytes, maxAbsDiff, verifiedOn };
}
