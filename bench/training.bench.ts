// Benchmark: training throughput of the kit classifier at the product's settings (64×64 crops,
// convFilters 16/32/32, dense 64, batch 32, Adam 0.001) — Assay's trainer (tfjs wasm + SIMD
// kernels, one data-parallel replica per core) against PyTorch on the CPU (same model, same crops,
// same epoch order, bench/baselines/torch_classifier.py), runs interleaved A-B / B-A.
// Figures: images/s over epochs 2..E (epoch 1 is warm-up), CPU-seconds per 1,000 images (all
// threads of the process), paired ratios. Footnotes: Assay on one replica, PyTorch on one
// thread, and tfjs's pure-JS 'cpu' backend (one step, it is ~1,000× slower).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { buildCropSet } from '../src/ml/dataset/crops.js';
import { seededRandom } from '../src/ml/random.js';
import { selectBackend } from '../src/ml/train/backend.js';
import { DEFAULT_CONV_FILTERS, buildClassifier } from '../src/ml/train/model.js';
import { shuffled, trainClassifier, type Dataset } from '../src/ml/train/trainer.js';
import { generateSyntheticKit } from '../test/helpers/synthetic-kit.js';
import { abOrder, epochClock, pairedRatios, show, spread, steadyThroughput, type SummaryRow } from './stats.js';

const S = 64;
const BATCH = 32;
const LR = 0.001;
const SEED = 1;
const EPOCHS = Number(process.env.TRAINING_BENCH_EPOCHS ?? 4);
const RUNS = Number(process.env.TRAINING_BENCH_RUNS ?? 3);
const IMAGES = 400;
const CPU_BACKEND_IMAGES = 4;
const CORES = os.availableParallelism();
const here = path.dirname(fileURLToPath(import.meta.url));
const quiet = { info: () => undefined };

interface RunFigures { imagesPerSecond: number; cpuSecondsPer1000: number; losses: number[] }

async function assayRun(labels: string[], train: Dataset, replicas: number): Promise<RunFigures> {
  const clock = epochClock();
  const empty = { x: new Float32Array(0), y: new Int32Array(0) };
  const r = await trainClassifier(
    { labels, train, val: empty, hyperparameters: { epochs: EPOCHS, batchSize: BATCH, learningRate: LR, imageSize: S, seed: SEED } },
    {
      replicas,
      onProgress: clock.tick,
    },
  );
  r.model.dispose();
  return { ...steadyThroughput(clock.epochs, train.y.length), losses: r.history.map((m) => m.loss) };
}

function torchAvailable(): string | null {
  const r = spawnSync('python3', ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function torchRun(dir: string, classes: number, threads: number): RunFigures {
  const r = spawnSync('python3', [path.join(here, 'baselines', 'torch_classifier.py'), dir, '--size', String(S), '--classes', String(classes),
    '--epochs', String(EPOCHS), '--batch', String(BATCH), '--lr', String(LR), '--threads', String(threads), '--filters', DEFAULT_CONV_FILTERS.join(',')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`torch_classifier.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { images: number; epochs: Array<{ seconds: number; cpuSeconds: number; loss: number }> };
  return { ...steadyThroughput(out.epochs, out.images), losses: out.epochs.map((e) => e.loss) };
}

/** Seconds for one optimizer step of `batch` images on tfjs's pure-JS cpu backend (no warm-up: it is minutes otherwise). */
async function cpuBackendStep(train: Dataset, k: number, batch: number): Promise<number> {
  await selectBackend('cpu', quiet);
  const model = buildClassifier({ imageSize: S, numClasses: k, convFilters: DEFAULT_CONV_FILTERS, seed: SEED });
  const optimizer = tf.train.adam(LR);
  const t0 = performance.now();
  tf.tidy(() => {
    const xs = tf.tensor4d(train.x.subarray(0, batch * S * S * 3), [batch, S, S, 3]);
    const ys = tf.oneHot(tf.tensor1d(train.y.subarray(0, batch), 'int32'), k);
    optimizer.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
  });
  const seconds = (performance.now() - t0) / 1000;
  model.dispose();
  optimizer.dispose();
  return seconds;
}

export async function run() {
  const kit = await generateSyntheticKit({ seed: 1, images: IMAGES });
  const crops = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(kit.labels.map((l, i) => [l, i])), S);
  const train = crops.train;
  const k = kit.labels.length;
  const n = train.y.length;

  // The crops and the trainer's own seeded epoch order, for the PyTorch script.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-train-bench-'));
  fs.writeFileSync(path.join(dir, 'train_x.f32'), new Uint8Array(train.x.buffer, train.x.byteOffset, train.x.byteLength));
  fs.writeFileSync(path.join(dir, 'train_y.i32'), new Uint8Array(train.y.buffer, train.y.byteOffset, train.y.byteLength));
  const random = seededRandom(SEED);
  const order = new Int32Array(EPOCHS * n);
  for (let e = 0; e < EPOCHS; e++) order.set(shuffled(n, random), e * n);
  fs.writeFileSync(path.join(dir, 'order.i32'), new Uint8Array(order.buffer));

  const wasm = await selectBackend('wasm', quiet);
  const torch = torchAvailable();
  const assay: RunFigures[] = [];
  const assayOne: RunFigures[] = [];
  const torchAll: RunFigures[] = [];
  const torchOne: RunFigures[] = [];
  await assayRun(kit.labels, train, CORES); // warm-up: wasm compile, worker start-up paths, JIT
  for (let r = 0; r < RUNS; r++) {
    for (const side of abOrder(r)) {
      if (side === 'a') assay.push(await assayRun(kit.labels, train, CORES));
      else if (torch) torchAll.push(torchRun(dir, k, CORES));
    }
    assayOne.push(await assayRun(kit.labels, train, 1));
    if (torch) torchOne.push(torchRun(dir, k, 1));
  }
  const cpuStepSeconds = await cpuBackendStep(train, k, CPU_BACKEND_IMAGES);
  await selectBackend('wasm', quiet);
  fs.rmSync(dir, { recursive: true, force: true });

  const ips = (rs: RunFigures[]) => rs.map((r) => r.imagesPerSecond);
  const cpu = (rs: RunFigures[]) => rs.map((r) => r.cpuSecondsPer1000);
  const assayIps = spread(ips(assay), 3);
  const ratio = torch ? spread(pairedRatios(ips(assay), ips(torchAll)), 3) : null;
  // Same seed, 1 vs CORES replicas: the loss curves differ only by float rounding.
  const lossGap = Math.max(...assay[0]!.losses.map((l, i) => Math.abs(l - assayOne[0]!.losses[i]!)));
  const summary: SummaryRow[] = [{
    figure: `classifier training, images/s (64×64, batch ${BATCH}, ${CORES} cores)`,
    assay: show(assayIps),
    baseline: torch ? `PyTorch ${torch} CPU: ${show(spread(ips(torchAll), 3))}` : 'PyTorch not installed (python3 -c "import torch" failed): no baseline',
    ratio: ratio ? `${ratio.median} (${ratio.min}–${ratio.max}, paired)` : 'n/a',
    goal: '≥ 1.0 × PyTorch',
    met: ratio ? ratio.median >= 1 : null,
  }];
  return {
    summary,
    model: `conv ${DEFAULT_CONV_FILTERS.join('/')} + dense 64, ${S}×${S}×3, batch ${BATCH}, ${k} labels, Adam ${LR}`,
    trainImages: n,
    epochsPerRun: `${EPOCHS} (figures over epochs 2..${EPOCHS})`,
    cores: CORES,
    wasmKernelsAdded: wasm.addedKernels,
    assay: { replicas: CORES, imagesPerSecond: assayIps, cpuSecondsPer1000Images: spread(cpu(assay), 3) },
    pytorch: torch
      ? { version: torch, threads: CORES, imagesPerSecond: spread(ips(torchAll), 3), cpuSecondsPer1000Images: spread(cpu(torchAll), 3) }
      : { skipped: 'python3 -c "import torch" failed: PyTorch baseline not run' },
    ratioAssayOverPytorch: ratio ?? 'n/a',
    footnotes: {
      assayOneReplica: { imagesPerSecond: spread(ips(assayOne), 3), cpuSecondsPer1000Images: spread(cpu(assayOne), 3) },
      dataParallelSpeedup: spread(pairedRatios(ips(assay), ips(assayOne)), 3),
      pytorchOneThread: torch ? { imagesPerSecond: spread(ips(torchOne), 3), cpuSecondsPer1000Images: spread(cpu(torchOne), 3) } : 'n/a',
      maxLossGapOneVsManyReplicas: Number(lossGap.toPrecision(3)),
      tfjsCpuBackend: { imagesPerSecond: Number((CPU_BACKEND_IMAGES / cpuStepSeconds).toPrecision(3)), note: `pure-JS cpu backend, one step of ${CPU_BACKEND_IMAGES} images, no warm-up` },
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
}
