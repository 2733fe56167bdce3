/**
 * The kit-reading classifier: [conv3×3(same)+ReLU → maxpool2]×len(convFilters) → flatten →
 * dense(64)+ReLU → dense(numClasses) logits. Input is NHWC float32 RGB in 0..1.
 * Every layer maps 1:1 onto ONNX ops (see ../onnx/export.ts). No dropout: tfjs's seeded dropout
 * repeats one mask every step, and unseeded dropout would break determinism.
 */
import * as tf from '@tensorflow/tfjs';

export const DEFAULT_CONV_FILTERS = [16, 32, 32];
export const DENSE_UNITS = 64;
/** Name of the final (label-dependent) layer; fine-tuning remaps its columns by label. */
export const HEAD_LAYER = 'logits';

export { classifierHyperparametersSchema, type Hyperparameters } from './hyperparameters.js';

export interface ClassifierSpec {
  imageSize: number;
  numClasses: number;
  convFilters: number[];
  seed: number;
}

/** Builds the model with seeded initialisers (each layer gets its own seed derived from `seed`). */
export function buildClassifier(spec: ClassifierSpec): tf.Sequential {
  if (spec.numClasses < 2) throw new Error(`need at least 2 labels, got ${spec.numClasses}`);
  let layerSeed = spec.seed * 7919;
  const init = () => tf.initializers.heNormal({ seed: ++layerSeed });
  const model = tf.sequential({ name: 'kit_classifier' });
  let size = spec.imageSize;
  spec.convFilters.forEach((filters, i) => {
    model.add(tf.layers.conv2d({
      name: `conv${i}`, filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(),
      ...(i === 0 ? { inputShape: [spec.imageSize, spec.imageSize, 3] } : {}),
    }));
    if (size >= 2) {
      model.add(tf.layers.maxPooling2d({ name: `pool${i}`, poolSize: 2, strides: 2, padding: 'valid' }));
      size = Math.floor(size / 2);
    }
  });
  model.add(tf.layers.flatten({ name: 'flatten' }));
  model.add(tf.layers.dense({ name: 'dense0', units: DENSE_UNITS, activation: 'relu', kernelInitializer: init() }));
  model.add(tf.layers.dense({
    name: HEAD_LAYER, units: spec.numClasses, kernelInitializer: tf.initializers.glorotUniform({ seed: ++layerSeed }),
  }));
  return model;
}

export class BaseModelMismatchError extends Error {
  override name = 'BaseModelMismatchError';
}

/** Weights in TF.js layout keyed `<layer>.kernel` / `<layer>.bias` (see readOnnxWeights). */
export type NamedWeights = Map<string, { shape: number[]; values: Float32Array }>;

/**
 * Copies a base model's weights into `model`. The head is remapped by label name, so a new
 * version may add, drop or reorder labels: known labels keep their trained column, new ones keep
 * their fresh initialisation. Any other shape mismatch (e.g. different imageSize) is an error.
 */
export function loadBaseWeights(model: tf.LayersModel, weights: NamedWeights, baseLabels: string[], labels: string[]): { reusedLabels: string[] } {
  const reusedLabels = labels.filter((l) => baseLabels.includes(l));
  // tidy frees the tensors made here; setWeights makes the variables hold their own reference.
  tf.tidy(() => {
  for (const layer of model.layers) {
    const vars = layer.getWeights(); // the live variables: never dispose these
    if (vars.length === 0) continue;
    const kernel = weights.get(`${layer.name}.kernel`);
    const bias = weights.get(`${layer.name}.bias`);
    if (!kernel || !bias) throw new BaseModelMismatchError(`base model has no weights for layer ${layer.name}`);
    const [k, b] = vars;
    if (layer.name === HEAD_LAYER) {
      const [inUnits, outUnits] = k.shape;
      if (kernel.shape[0] !== inUnits) throw new BaseModelMismatchError(`head input ${kernel.shape[0]} ≠ ${inUnits}`);
      const kv = k.dataSync().slice() as Float32Array;
      const bv = b.dataSync().slice() as Float32Array;
      const baseOut = kernel.shape[1];
      labels.forEach((label, j) => {
        const src = baseLabels.indexOf(label);
        if (src < 0) return;
        for (let r = 0; r < inUnits; r++) kv[r * outUnits + j] = kernel.values[r * baseOut + src];
        bv[j] = bias.values[src];
      });
      layer.setWeights([tf.tensor(kv, k.shape), tf.tensor(bv, b.shape)]);
    } else {
      if (kernel.shape.join() !== k.shape.join() || bias.shape.join() !== b.shape.join()) {
        throw new BaseModelMismatchError(
          `layer ${layer.name}: base weights ${kernel.shape} / ${bias.shape} do not fit ${k.shape} / ${b.shape} (different imageSize or convFilters?)`);
      }
      layer.setWeights([tf.tensor(kernel.values, kernel.shape), tf.tensor(bias.values, bias.shape)]);
    }
  }
  });
  return { reusedLabels };
}
