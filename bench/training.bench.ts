// Benchmark: training throughput of the kit classifier (32×32 crops, convFilters [16,32,32],
// batch 32) on our wasm path (XNNPACK + the gradient kernels in src/ml/train/wasm-kernels.ts)
// vs tfjs's plain 'cpu' backend, same model, same seed, same batches, in one run. cpu is kept to
// a few batches (~15 s each). Also checks both backends produce the same losses.
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { buildCropSet } from '../src/ml/dataset/crops.js';
import { selectBackend } from '../src/ml/train/backend.js';
import { DEFAULT_CONV_FILTERS, buildClassifier } from '../src/ml/train/model.js';
import { trainClassifier, type Dataset } from '../src/ml/train/trainer.js';
import { generateSyntheticKit } from '../test/helpers/synthetic-kit.js';

const S = 32;
const BATCH = 32;
const WASM_STEPS = 20;
const WASM_RUNS = 3;
const CPU_STEPS = 2;
const quiet = { info: () => undefined };

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Times `steps` optimizer steps (after one warm-up step) on the active backend; returns images/s and the losses. */
function timeSteps(train: Dataset, k: number, steps: number): { imagesPerSecond: number; losses: number[] } {
  const model = buildClassifier({ imageSize: S, numClasses: k, convFilters: DEFAULT_CONV_FILTERS, seed: 1 });
  const optimizer = tf.train.adam(0.002);
  const per = S * S * 3;
  const step = (i: number) => tf.tidy(() => {
    const from = (i * BATCH) % (train.y.length - BATCH);
    const xs = tf.tensor4d(train.x.subarray(from * per, (from + BATCH) * per), [BATCH, S, S, 3]);
    const ys = tf.oneHot(tf.tensor1d(train.y.subarray(from, from + BATCH), 'int32'), k);
    return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar, true)!.dataSync()[0];
  });
  const losses = [step(0)];
  const t0 = performance.now();
  for (let i = 1; i <= steps; i++) losses.push(step(i));
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  optimizer.dispose();
  return { imagesPerSecond: (steps * BATCH) / seconds, losses };
}

export async function run() {
  const kit = await generateSyntheticKit({ seed: 1, images: 100 });
  const crops = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(kit.labels.map((l, i) => [l, i])), S);
  const k = kit.labels.length;

  const wasm = await selectBackend('wasm', quiet);
  const wasmRuns = Array.from({ length: WASM_RUNS }, () => timeSteps(crops.train, k, WASM_STEPS));
  // The real trainer (shuffling, batch assembly, validation) for one epoch on the same backend.
  const epochStart = performance.now();
  const full = await trainClassifier({ labels: kit.labels, train: crops.train, val: crops.val, hyperparameters: { epochs: 1, batchSize: BATCH, learningRate: 0.002, imageSize: S, seed: 1 } });
  const epochSeconds = (performance.now() - epochStart) / 1000;
  full.model.dispose();

  await selectBackend('cpu', quiet);
  const cpu = timeSteps(crops.train, k, CPU_STEPS);

  const wasmIps = median(wasmRuns.map((r) => r.imagesPerSecond));
  const lossDiff = cpu.losses.reduce((m, l, i) => Math.max(m, Math.abs(l - wasmRuns[0].losses[i])), 0);
  return {
    model: `conv ${DEFAULT_CONV_FILTERS.join('/')}, ${S}×${S}×3, batch ${BATCH}, ${k} labels`,
    wasmKernelsAdded: wasm.addedKernels,
    wasmImagesPerSecond: Math.round(wasmIps),
    wasmRunsImagesPerSecond: wasmRuns.map((r) => Math.round(r.imagesPerSecond)),
    cpuImagesPerSecond: Number(cpu.imagesPerSecond.toFixed(2)),
    ratioWasmOverCpu: Math.round(wasmIps / cpu.imagesPerSecond),
    trainerEpochImagesPerSecond: Math.round(full.history[0].imagesPerSecond),
    trainerEpochSeconds: Number(epochSeconds.toFixed(2)),
    trainImages: crops.train.y.length,
    steps: { wasm: `${WASM_RUNS} runs × ${WASM_STEPS}`, cpu: CPU_STEPS },
    maxLossDiffCpuVsWasm: lossDiff,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
}
