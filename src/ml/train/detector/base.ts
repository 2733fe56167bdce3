/**
 * Fine-tuning (`new_version`): reading a base detector exported by export.ts and copying its
 * weights into a fresh model. The output convs are remapped by class name, so a new version may
 * add, drop or reorder classes; anything else that differs is refused with the reason.
 */
import * as tf from '@tensorflow/tfjs';
import { parseClassNames } from '../../detect/names.js';
import { decodeModel, readOnnxWeights } from '../../onnx/read.js';
import { BaseModelMismatchError, type NamedWeights } from '../model.js';
import { DETECTOR_META } from './export.js';
import { DETECTOR_FAMILY, detectorArchitectureSchema, type Detector, type DetectorArchitecture } from './model.js';

export { BaseModelMismatchError };

export interface BaseDetector {
  architecture: DetectorArchitecture;
  names: string[];
  weights: NamedWeights;
}

/** Reads a base detector; throws BaseModelMismatchError when it is not one of Assay's detectors. */
export function readBaseDetector(bytes: Uint8Array): BaseDetector {
  const model = decodeModel(bytes);
  const props: Record<string, string> = {};
  for (const p of model.metadataProps) props[p.key ?? ''] = p.value ?? '';
  if (props[DETECTOR_META.task] !== 'detect') {
    throw new BaseModelMismatchError(`the base model is not a detector (metadata task = ${JSON.stringify(props[DETECTOR_META.task] ?? null)}); fine-tuning a detector needs a detector exported by Assay`);
  }
  let architecture: DetectorArchitecture;
  try {
    architecture = detectorArchitectureSchema.parse(JSON.parse(props[DETECTOR_META.architecture] ?? 'null'));
  } catch {
    throw new BaseModelMismatchError(`the base detector was not trained by Assay (no valid '${DETECTOR_META.architecture}' metadata for ${DETECTOR_FAMILY}), so its weights cannot be fine-tuned here; train a new model instead`);
  }
  let names: string[];
  try {
    names = parseClassNames(props[DETECTOR_META.names] ?? '');
  } catch (err) {
    throw new BaseModelMismatchError(`the base detector's 'names' metadata is unreadable: ${(err as Error).message}`);
  }
  return { architecture, names, weights: readOnnxWeights(bytes) };
}

/** Human-readable differences between two architectures ('' when equal). */
export function architectureDifference(base: DetectorArchitecture, wanted: DetectorArchitecture): string {
  const diffs: string[] = [];
  if (base.inputSize !== wanted.inputSize) diffs.push(`input size ${base.inputSize} ≠ ${wanted.inputSize}`);
  if (base.widths.join() !== wanted.widths.join()) diffs.push(`widths [${base.widths}] ≠ [${wanted.widths}]`);
  if (base.headWidth !== wanted.headWidth) diffs.push(`head width ${base.headWidth} ≠ ${wanted.headWidth}`);
  return diffs.join(', ');
}

/** Copies `base` into `model` (output convs remapped by class name). Returns the classes that kept trained weights. */
export function loadBaseDetectorWeights(model: Detector, base: BaseDetector, names: string[]): { reusedNames: string[] } {
  const diff = architectureDifference(base.architecture, { family: DETECTOR_FAMILY, inputSize: model.spec.inputSize, widths: model.spec.widths, headWidth: model.spec.headWidth });
  if (diff) throw new BaseModelMismatchError(`the base detector's architecture differs: ${diff}`);
  const heads = new Set(model.levels.map((l) => l.head));
  tf.tidy(() => {
    for (const l of model.layers) {
      const kernel = base.weights.get(`${l.name}.kernel`);
      const bias = base.weights.get(`${l.name}.bias`);
      if (!kernel || !bias) throw new BaseModelMismatchError(`the base detector has no weights for layer ${l.name}`);
      const k = model.weights.get(`${l.name}.kernel`)!;
      const b = model.weights.get(`${l.name}.bias`)!;
      if (!heads.has(l.name)) {
        if (kernel.shape.join() !== k.shape.join() || bias.shape.join() !== b.shape.join()) {
          throw new BaseModelMismatchError(`layer ${l.name}: base weights ${kernel.shape} / ${bias.shape} do not fit ${k.shape} / ${b.shape}`);
        }
        k.assign(tf.tensor(kernel.values, kernel.shape));
        b.assign(tf.tensor(bias.values, bias.shape));
        continue;
      }
      // [1, 1, in, 4 + nc]: columns 0..3 are the box, then one per class.
      const [, , inUnits, outUnits] = k.shape;
      const baseOut = kernel.shape[3];
      if (kernel.shape[2] !== inUnits || baseOut !== 4 + base.names.length || bias.shape[0] !== baseOut) {
        throw new BaseModelMismatchError(`layer ${l.name}: base weights ${kernel.shape} do not fit ${base.names.length} classes over ${inUnits} inputs`);
      }
      const kv = k.dataSync().slice() as Float32Array;
      const bv = b.dataSync().slice() as Float32Array;
      const columns: Array<[number, number]> = [[0, 0], [1, 1], [2, 2], [3, 3]];
      names.forEach((name, j) => { const src = base.names.indexOf(name); if (src >= 0) columns.push([4 + j, 4 + src]); });
      for (const [dst, src] of columns) {
        for (let r = 0; r < inUnits; r++) kv[r * outUnits + dst] = kernel.values[r * baseOut + src];
        bv[dst] = bias.values[src];
      }
      k.assign(tf.tensor(kv, k.shape));
      b.assign(tf.tensor(bv, b.shape));
    }
  });
  return { reusedNames: names.filter((n) => base.names.includes(n)) };
}
