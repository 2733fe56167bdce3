/**
 * Evaluates an exported classifier exactly as edge servers run it: the ONNX bytes in ONNX Runtime.
 * Metrics (accuracy, confusion...) are computed elsewhere from the returned predictions.
 */
import * as ort from 'onnxruntime-node';
import { CorruptArtifactError, OnnxMetadataError } from '../onnx/errors.js';
import { readOnnxMetadata, type OnnxModelMetadata } from '../onnx/read.js';

export { CorruptArtifactError } from '../onnx/errors.js';

export interface EvaluationSet {
  /** N·S·S·3 float32, NHWC RGB 0..1 — same preprocessing as training. */
  x: Float32Array;
  y?: Int32Array;
}

export interface EvaluationResult {
  /** argmax per image, as an index into the `labels` argument. */
  predictions: Int32Array;
  /** Probability of the predicted label. */
  confidences: Float32Array;
  modelLabels: string[];
  timing: { loadMs: number; inferenceMs: number; totalMs: number; imagesPerSecond: number; batches: number; batchSize: number };
}

/** The model's labels are not the evaluation set's labels (not even reordered). */
export class LabelMismatchError extends Error {
  override name = 'LabelMismatchError';
}

/** model output index → index in `labels`, tolerating a different order but not different label sets. */
function labelMapping(modelLabels: string[], labels: string[]): Int32Array {
  const same = modelLabels.length === labels.length && new Set(modelLabels).size === modelLabels.length && modelLabels.every((l) => labels.includes(l));
  if (!same) {
    throw new LabelMismatchError(`model labels ${JSON.stringify(modelLabels)} do not match evaluation labels ${JSON.stringify(labels)}`);
  }
  return Int32Array.from(modelLabels, (l) => labels.indexOf(l));
}

export async function evaluateOnnxClassifier(
  onnxBytes: Uint8Array,
  testSet: EvaluationSet,
  labels: string[],
  opts: { batchSize?: number } = {},
): Promise<EvaluationResult> {
  const started = performance.now();
  let meta: OnnxModelMetadata;
  try {
    meta = readOnnxMetadata(onnxBytes); // throws CorruptArtifactError on undecodable bytes
  } catch (err) {
    // Every stored artifact is one of our exports, so missing metadata means a damaged file (e.g. cut at a field boundary).
    if (err instanceof OnnxMetadataError) throw new CorruptArtifactError(`ONNX artifact (${onnxBytes.length} bytes) is incomplete: ${err.message}`, { cause: err });
    throw err;
  }
  const toEvalIndex = labelMapping(meta.labels, labels);
  const s = meta.imageSize;
  const per = s * s * 3;
  if (testSet.x.length % per !== 0) {
    throw new Error(`test set holds ${testSet.x.length} floats, not a multiple of ${s}×${s}×3 (the model's input size)`);
  }
  const n = testSet.x.length / per;
  if (testSet.y && testSet.y.length !== n) throw new Error(`test set has ${n} images but ${testSet.y.length} labels`);

  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(Buffer.from(onnxBytes.buffer, onnxBytes.byteOffset, onnxBytes.byteLength));
  } catch (err) {
    throw new CorruptArtifactError(`ONNX Runtime cannot load the artifact (${onnxBytes.length} bytes): ${(err as Error).message}`, { cause: err });
  }
  const loadMs = performance.now() - started;
  const batchSize = Math.max(1, opts.batchSize ?? 64);
  const predictions = new Int32Array(n);
  const confidences = new Float32Array(n);
  const k = meta.labels.length;
  const t0 = performance.now();
  let batches = 0;
  try {
    for (let from = 0; from < n; from += batchSize) {
      const b = Math.min(batchSize, n - from);
      const input = new ort.Tensor('float32', testSet.x.subarray(from * per, (from + b) * per), [b, s, s, 3]);
      const out = await session.run({ [meta.inputName]: input });
      const probs = out[meta.outputName].data as Float32Array;
      for (let i = 0; i < b; i++) {
        let best = 0;
        for (let j = 1; j < k; j++) if (probs[i * k + j] > probs[i * k + best]) best = j;
        predictions[from + i] = toEvalIndex[best];
        confidences[from + i] = probs[i * k + best];
      }
      batches++;
    }
  } finally {
    await session.release();
  }
  const inferenceMs = performance.now() - t0;
  return {
    predictions, confidences, modelLabels: meta.labels,
    timing: { loadMs, inferenceMs, totalMs: performance.now() - started, imagesPerSecond: n / (inferenceMs / 1000), batches, batchSize },
  };
}
