// Benchmark: COCO bbox evaluation on a synthetic 5,000-image, 80-class set.
// Before timing it checks that the implementation still reproduces the official
// pycocotools numbers of the reference case padilla_coco100.
import { existsSync, readFileSync } from 'node:fs';
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

export async function run(): Promise<Record<string, unknown>> {
  const referenceCheck = checkReference();
  if (!referenceCheck.passed) {
    throw new Error(`COCO evaluation no longer reproduces ${REFERENCE_CASE}: ${JSON.stringify(referenceCheck)}`);
  }
  const { gt, dets } = syntheticCoco();
  evaluateCoco(gt, dets); // warm-up so the JIT has compiled the hot loops
  const times: number[] = [];
  let AP = 0;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    AP = evaluateCoco(gt, dets).stats.AP;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return {
    name: 'coco-eval',
    images: IMAGES,
    categories: CATEGORIES,
    groundTruthBoxes: gt.annotations.length,
    detections: dets.length,
    medianMs: Math.round(times[Math.floor(RUNS / 2)] * 10) / 10,
    runsMs: times.map((t) => Math.round(t * 10) / 10),
    syntheticAP: AP,
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
