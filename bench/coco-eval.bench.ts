// Benchmark: COCO bbox evaluation on a synthetic 5,000-image, 80-class set, Assay's evaluator vs
// pycocotools (bench/baselines/pycocotools_eval.py, skipped with a note when python3 cannot import
// it) on the same files, runs alternating (ABBA), ratio paired. Both sides are timed from parsed
// JSON. Before timing it checks that the implementation still reproduces the official
// pycocotools numbers of the reference case padilla_coco100, and it compares the 12 stats of both
// sides on the 5,000-image set.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  evaluateCoco,
  STAT_KEYS,
  type CocoAnnotation,
  type CocoDetection,
  type CocoGroundTruth,
} from '../src/ml/metrics/coco.js';
import { seededRandom as prng } from '../src/ml/random.js';
import { abOrder, pairedRatios, show, spread, type SummaryRow } from './stats.js';

const IMAGES = 5000;
const CATEGORIES = 80;
const RUNS = 3;
const REFERENCE_CASE = 'case_padilla_coco100';


/** ~7 GT boxes per image of mixed sizes; detections = jittered GT (some missed) plus false positives. */
export function syntheticCoco(seed = 42): { gt: CocoGroundTruth; dets: CocoDetection[] } {
  const rnd = prng(seed);
  const W = 640;
  const H = 480;
  const annotations: CocoAnnotation[] = [];
  const dets: CocoDetection[] = [];
  const score = (lo: number, hi: number): number => Math.round((lo + rnd() * (hi - lo)) * 1000) / 1000; // ties happen
  for (let img = 1; img <= IMAGES; img++) {
    const n = 1 + Math.floor(rnd() * 13); // mean 7
    for (let b = 0; b < n; b++) {
      const size = [8, 24, 60, 160][Math.floor(rnd() * 4)];
      const w = 4 + rnd() * size;
      const h = 4 + rnd() * size;
      const x = rnd() * (W - w);
      const y = rnd() * (H - h);
      const cat = 1 + Math.floor(rnd() * CATEGORIES);
      const crowd = rnd() < 0.01 ? 1 : 0;
      annotations.push({ id: annotations.length + 1, image_id: img, category_id: cat, bbox: [x, y, w, h], area: w * h * 0.8, iscrowd: crowd });
      if (rnd() < 0.85) {
        const j = (): number => (rnd() - 0.5) * 0.3;
        dets.push({ image_id: img, category_id: cat, bbox: [x + j() * w, y + j() * h, w * (1 + j()), h * (1 + j())], score: score(0.3, 1) });
      }
    }
    const fps = Math.floor(rnd() * 5);
    for (let f = 0; f < fps; f++) {
      const w = 5 + rnd() * 150;
      const h = 5 + rnd() * 150;
      dets.push({
        image_id: img,
        category_id: 1 + Math.floor(rnd() * CATEGORIES),
        bbox: [rnd() * (W - w), rnd() * (H - h), w, h],
        score: score(0, 0.7),
      });
    }
  }
  return {
    gt: {
      images: Array.from({ length: IMAGES }, (_, i) => ({ id: i + 1, width: W, height: H })),
      categories: Array.from({ length: CATEGORIES }, (_, i) => ({ id: i + 1, name: `class_${i + 1}` })),
      annotations,
    },
    dets,
  };
}

/** ASSAY_REFERENCE_DIR, else shared/ beside the repo (found from cwd or from this file). */
function referenceDir(): string {
  if (process.env.ASSAY_REFERENCE_DIR) return process.env.ASSAY_REFERENCE_DIR;
  const fromCwd = path.resolve(process.cwd(), 'test/fixtures/coco-eval');
  if (existsSync(fromCwd)) return fromCwd;
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../test/fixtures/coco-eval');
}

/** Compares the 12 stats, per-class AP/AR and TP/FP/FN counts with the official expected.json. */
export function checkReference(dir = path.join(referenceDir(), REFERENCE_CASE)): Record<string, unknown> {
  const read = (f: string): any => JSON.parse(readFileSync(path.join(dir, f), 'utf8'));
  const expected = read('expected.json');
  const result = evaluateCoco(read('gt.json'), read('dets.json'));
  let maxAbsDiff = 0;
  let bitIdentical = 0;
  let compared = 0;
  const compare = (got: number, want: number): void => {
    compared++;
    maxAbsDiff = Math.max(maxAbsDiff, Math.abs(got - want));
    if (got === want) bitIdentical++;
  };
  for (const k of STAT_KEYS) compare(result.stats[k], expected.stats[k]);
  for (const [id, c] of Object.entries<any>(expected.per_class)) {
    for (const f of ['AP', 'AP50', 'AP75', 'AR100'] as const) compare(result.perClass[id][f], c[f]);
  }
  let countMismatches = 0;
  for (const [key, e] of Object.entries<any>(expected.derived_counts_from_pycocotools_matching ?? {})) {
    for (const [id, c] of Object.entries<any>(e.per_class)) {
      const g = result.matchCounts[key]?.perClass[id];
      if (!g || g.TP !== c.TP || g.FP !== c.FP || g.FN !== c.FN) countMismatches++;
    }
  }
  return {
    case: REFERENCE_CASE,
    passed: maxAbsDiff <= 1e-6 && countMismatches === 0,
    valuesCompared: compared,
    bitIdentical,
    maxAbsDiff,
    countMismatches,
  };
}

function pycocotools(): string | null {
  const r = spawnSync('python3', ['-c', 'import pycocotools, importlib.metadata as m; print(m.version("pycocotools"))'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function pycocotoolsRun(gtFile: string, dtFile: string): { ms: number; stats: number[] } {
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'baselines', 'pycocotools_eval.py');
  const r = spawnSync('python3', [script, gtFile, dtFile], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) throw new Error(`pycocotools_eval.py failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { seconds: number; stats: number[] };
  return { ms: out.seconds * 1000, stats: out.stats };
}

export async function run(): Promise<Record<string, unknown>> {
  const referenceCheck = checkReference();
  if (!referenceCheck.passed) {
    throw new Error(`COCO evaluation no longer reproduces ${REFERENCE_CASE}: ${JSON.stringify(referenceCheck)}`);
  }
  const { gt, dets } = syntheticCoco();
  const version = pycocotools();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'assay-coco-bench-'));
  const gtFile = path.join(dir, 'gt.json');
  const dtFile = path.join(dir, 'dets.json');
  writeFileSync(gtFile, JSON.stringify(gt));
  writeFileSync(dtFile, JSON.stringify(dets));
  evaluateCoco(gt, dets); // warm-up so the JIT has compiled the hot loops
  const times: number[] = [];
  const baseline: number[] = [];
  let stats: Record<string, number> = {};
  let baselineStats: number[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      for (const side of abOrder(i)) {
        if (side === 'a') {
          const t0 = performance.now();
          stats = evaluateCoco(gt, dets).stats as unknown as Record<string, number>;
          times.push(performance.now() - t0);
        } else if (version) {
          const r = pycocotoolsRun(gtFile, dtFile);
          baseline.push(r.ms);
          baselineStats = r.stats;
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const maxStatDiff = version ? Math.max(...STAT_KEYS.map((k, i) => Math.abs(stats[k]! - baselineStats[i]!))) : null;
  const speedup = version ? spread(pairedRatios(baseline, times), 3) : null;
  const summary: SummaryRow[] = [{
    figure: `COCO bbox evaluation, ${IMAGES} images × ${CATEGORIES} classes, ms`,
    assay: show(spread(times, 3), 'ms'),
    baseline: version ? `pycocotools ${version}: ${show(spread(baseline, 3), 'ms')}` : 'pycocotools not installed: no baseline',
    ratio: speedup ? `${speedup.median}× faster (${speedup.min}–${speedup.max}, paired); stats differ by ≤ ${maxStatDiff!.toPrecision(2)}` : 'n/a',
    goal: 'pycocotools\' numbers, not slower',
    met: speedup ? speedup.median >= 1 && maxStatDiff! <= 1e-6 : null,
  }];
  return {
    summary,
    images: IMAGES,
    categories: CATEGORIES,
    groundTruthBoxes: gt.annotations.length,
    detections: dets.length,
    assayMs: spread(times, 3),
    pycocotools: version ? { version, ms: spread(baseline, 3), speedupPaired: speedup, maxStatDiffVsAssay: maxStatDiff } : 'skipped: python3 cannot import pycocotools',
    syntheticAP: stats.AP,
    referenceCheck,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
