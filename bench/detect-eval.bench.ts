// Benchmark: detector evaluation end to end on the public reference case (76 images, 320×320
// detector): Assay's evaluateDetector (sharp decode, letterbox, onnxruntime-node, decode + NMS,
// pycocotools-exact COCO metrics) vs the Python reference pipeline (bench/baselines/detect_eval.py:
// Pillow, numpy, onnxruntime, torchvision NMS or numpy NMS, pycocotools). Both sides create their
// ONNX Runtime session inside each run, read the images from disk, and start from parsed ground
// truth. Runs alternate (Python, Assay) so machine load hits both alike; medians of RUNS pairs.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import readline from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluateDetector } from '../src/ml/detect/evaluate.js';

const RUNS = 7;
const here = path.dirname(fileURLToPath(import.meta.url));
const CASE = path.resolve(here, '../test/fixtures/detect-eval/case_public');
const SCRIPT = path.join(here, 'baselines/detect_eval.py');
const STATS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x: number, digits = 3) => Number(x.toFixed(digits));

interface PythonRun { seconds: number; detections: number; AP: number; AP50: number }

/** The Python pipeline as a long-lived process: one "run" line in, one JSON line out. */
async function startPython(): Promise<{ info: Record<string, unknown>; run: () => Promise<PythonRun>; stop: () => void } | string> {
  const check = spawnSync('python3', ['-c', 'import onnxruntime, pycocotools, PIL, numpy'], { encoding: 'utf8' });
  if (check.status !== 0) return `skipped: python3 lacks onnxruntime/pycocotools/Pillow/numpy (${(check.stderr || check.error?.message || '').trim().split('\n').pop()})`;
  const child = spawn('python3', [SCRIPT, CASE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the Python baseline exited');
    return JSON.parse(value as string);
  };
  const info = await next();
  return {
    info,
    run: async () => { child.stdin!.write('run\n'); return next(); },
    stop: () => { child.stdin!.end(); },
  };
}

export async function run() {
  const coco = JSON.parse(fs.readFileSync(path.join(CASE, 'dataset/coco.json'), 'utf8'));
  const expected = JSON.parse(fs.readFileSync(path.join(CASE, 'expected.json'), 'utf8'));
  const model = fs.readFileSync(path.join(CASE, 'model.onnx'));
  const load = async (im: { file_name?: string }) => fs.promises.readFile(path.join(CASE, 'dataset', im.file_name!));
  const assayRun = async () => {
    const t0 = performance.now();
    const res = await evaluateDetector(model, coco, load);
    return { seconds: (performance.now() - t0) / 1000, res };
  };

  const python = await startPython();
  const assay: Awaited<ReturnType<typeof assayRun>>[] = [];
  const py: PythonRun[] = [];
  try {
    await assayRun(); // warm-up: ORT and sharp first-load, JIT
    if (typeof python !== 'string') await python.run();
    for (let r = 0; r < RUNS; r++) {
      if (typeof python !== 'string') py.push(await python.run());
      assay.push(await assayRun());
    }
  } finally {
    if (typeof python !== 'string') python.stop();
  }

  const last = assay[assay.length - 1].res;
  const maxStatDiff = Math.max(...STATS.map((k) => Math.abs(last.metrics[k] - expected[k])));
  if (last.detections.length !== expected.detections || maxStatDiff > 1e-4) {
    throw new Error(`Assay no longer reproduces the reference case: ${last.detections.length} detections, max |stat diff| ${maxStatDiff}`);
  }
  const images = coco.images.length;
  const assaySeconds = median(assay.map((a) => a.seconds));
  const figures: Record<string, unknown> = {
    case: 'detect-eval/case_public',
    images,
    detections: last.detections.length,
    runs: RUNS,
    assay: {
      medianSeconds: round(assaySeconds),
      imagesPerSecond: round(images / assaySeconds, 1),
      medianSessionLoadMs: round(median(assay.map((a) => a.res.timing.loadMs)), 1),
      medianInferenceMs: round(median(assay.map((a) => a.res.timing.inferenceMs)), 1),
      medianDecodeNmsMs: round(median(assay.map((a) => a.res.timing.postprocessMs)), 1),
      medianMetricsMs: round(median(assay.map((a) => a.res.timing.metricsMs)), 1),
      maxStatDiffVsPycocotools: maxStatDiff,
    },
  };
  if (typeof python === 'string') {
    figures.python = python;
  } else {
    const pySeconds = median(py.map((p) => p.seconds));
    const pyLast = py[py.length - 1];
    figures.python = {
      medianSeconds: round(pySeconds),
      imagesPerSecond: round(images / pySeconds, 1),
      nms: python.info.nms,
      detections: pyLast.detections,
      maxStatDiffVsExpected: Math.max(Math.abs(pyLast.AP - expected.AP), Math.abs(pyLast.AP50 - expected.AP50)),
    };
    figures.ratioPythonOverAssay = round(pySeconds / assaySeconds);
  }
  return figures;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
}
