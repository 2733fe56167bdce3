// Benchmark: evaluation throughput of evaluateOnnxClassifier (metadata check, session, batching,
// argmax, label mapping) vs a bare onnxruntime-node loop running the same model over the same
// tensors (session create + session.run per batch). Both count session creation. 9 pairs of runs in
// alternating order (ABBA); the ratio is the median of the per-pair ratios.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-node';
import { evaluateOnnxClassifier } from '../src/ml/evaluate/onnx-classifier.js';
import { exportClassifierToOnnx } from '../src/ml/onnx/export.js';
import { selectBackend } from '../src/ml/train/backend.js';
import { DEFAULT_CONV_FILTERS, buildClassifier } from '../src/ml/train/model.js';
import { abOrder, pairedRatios, show, spread, type SummaryRow } from './stats.js';

const S = 32;
const N = 4000;
const BATCH = 64;
const RUNS = 9;
const labels = ['red_light', 'yellow_light', 'green_light', 'stop_sign', 'yield_sign', 'warning_sign'];

async function bareLoop(bytes: Uint8Array, x: Float32Array): Promise<number> {
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(Buffer.from(bytes));
  const per = S * S * 3;
  for (let from = 0; from < N; from += BATCH) {
    const b = Math.min(BATCH, N - from);
    await session.run({ input: new ort.Tensor('float32', x.subarray(from * per, (from + b) * per), [b, S, S, 3]) });
  }
  await session.release();
  return N / ((performance.now() - t0) / 1000);
}

export async function run() {
  await selectBackend('wasm', { info: () => undefined });
  const model = buildClassifier({ imageSize: S, numClasses: labels.length, convFilters: DEFAULT_CONV_FILTERS, seed: 1 });
  const { onnx } = await exportClassifierToOnnx(model, { labels, imageSize: S });
  model.dispose();
  // A plain LCG: tf.randomUniform's seeded generator needs ~50 s for these 12M values.
  let seed = 3;
  const x = Float32Array.from({ length: N * S * S * 3 }, () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);

  const assay: number[] = [];
  const assayInference: number[] = [];
  const bare: number[] = [];
  await bareLoop(onnx, x); // warm-up (ORT first-load costs)
  for (let r = 0; r < RUNS; r++) {
    // Alternate which goes first so drift in machine load hits both sides alike.
    for (const side of abOrder(r)) {
      if (side === 'b') {
        bare.push(await bareLoop(onnx, x));
        continue;
      }
      const t0 = performance.now();
      const res = await evaluateOnnxClassifier(onnx, { x }, labels, { batchSize: BATCH });
      assay.push(N / ((performance.now() - t0) / 1000));
      assayInference.push(res.timing.imagesPerSecond);
    }
  }
  const ratio = spread(pairedRatios(assay, bare), 3);
  const summary: SummaryRow[] = [{
    figure: `classifier evaluation, images/s (${S}×${S}, batch ${BATCH})`,
    assay: show(spread(assay, 3), '/s'),
    baseline: `bare onnxruntime-node loop: ${show(spread(bare, 3), '/s')}`,
    ratio: `${ratio.median} (${ratio.min}–${ratio.max}, paired)`,
    goal: '≥ 0.9 × bare ORT',
    met: ratio.median >= 0.9,
  }];
  return {
    summary,
    images: N,
    batchSize: BATCH,
    modelBytes: onnx.length,
    assayImagesPerSecond: spread(assay, 3),
    assayInferenceOnlyImagesPerSecond: spread(assayInference, 3),
    bareOrtImagesPerSecond: spread(bare, 3),
    ratioAssayOverBarePaired: ratio,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
}
