import { describe, expect, it } from '@jest/globals';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CocoInputError,
  evaluateCoco,
  STAT_KEYS,
  type CocoAnnotation,
  type CocoDetection,
  type CocoGroundTruth,
} from '../../../src/ml/metrics/coco.js';

// ---------------------------------------------------------------------------
// Official pycocotools numbers (shared/reference/coco-eval/*/expected.json)
// ---------------------------------------------------------------------------

const REFERENCE_DIR = process.env.ASSAY_REFERENCE_DIR ?? path.resolve(process.cwd(), 'test/fixtures/coco-eval');
const TOL = 1e-6;

interface ExpectedCounts { TP: number; FP: number; FN: number; precision: number; recall: number; F1: number }
interface Expected {
  stats: Record<string, number>;
  per_class: Record<string, { name: string; num_gt: number; num_dets: number; AP: number; AP50: number; AP75: number; AR100: number }>;
  derived_counts_from_pycocotools_matching?: Record<string, { micro: ExpectedCounts; per_class: Record<string, ExpectedCounts> }>;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

const cases = existsSync(REFERENCE_DIR)
  ? readdirSync(REFERENCE_DIR, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(REFERENCE_DIR, e.name, 'expected.json')))
    .map((e) => e.name)
    .sort()
  : [];

function expectCounts(actual: ExpectedCounts, expected: ExpectedCounts, label: string): void {
  expect({ label, TP: actual.TP, FP: actual.FP, FN: actual.FN })
    .toEqual({ label, TP: expected.TP, FP: expected.FP, FN: expected.FN });
  for (const f of ['precision', 'recall', 'F1'] as const) {
    expect(Math.abs(actual[f] - expected[f])).toBeLessThan(1e-12);
  }
}

describe('evaluateCoco against pycocotools reference cases', () => {
  it(`finds the reference cases in ${REFERENCE_DIR}`, () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  for (const name of cases) {
    it(`reproduces ${name}`, () => {
      const dir = path.join(REFERENCE_DIR, name);
      const expected = readJson<Expected>(path.join(dir, 'expected.json'));
      const result = evaluateCoco(
        readJson<CocoGroundTruth>(path.join(dir, 'gt.json')),
        readJson<CocoDetection[]>(path.join(dir, 'dets.json')),
      );

      for (const key of STAT_KEYS) {
        const diff = Math.abs(result.stats[key] - expected.stats[key]);
        expect({ key, ok: diff <= TOL, got: result.stats[key] }).toEqual({ key, ok: true, got: result.stats[key] });
      }

      expect(Object.keys(result.perClass).sort()).toEqual(Object.keys(expected.per_class).sort());
      for (const [id, exp] of Object.entries(expected.per_class)) {
        const got = result.perClass[id];
        expect([got.name, got.numGt, got.numDets]).toEqual([exp.name, exp.num_gt, exp.num_dets]);
        for (const f of ['AP', 'AP50', 'AP75', 'AR100'] as const) {
          expect({ id, f, ok: Math.abs(got[f] - exp[f]) <= TOL }).toEqual({ id, f, ok: true });
        }
      }

      for (const [key, exp] of Object.entries(expected.derived_counts_from_pycocotools_matching ?? {})) {
        const got = result.matchCounts[key];
        expect(got).toBeDefined();
        expectCounts(got.micro, exp.micro, `${key} micro`);
        for (const [id, pc] of Object.entries(exp.per_class)) expectCounts(got.perClass[id], pc, `${key} ${id}`);
      }
    });
  }
});

// ---------------------------------------------------------------------------
// Behaviours of COCOeval that are easy to get subtly wrong
// ---------------------------------------------------------------------------

type Box = [number, number, number, number];
interface GtSpec { img: number; box: Box; cat?: number; area?: number; crowd?: boolean; id?: number }

/** Ground truth with images 1..nImages and categories 1..nCats. area defaults to w*h. */
function makeGt(boxes: GtSpec[], nImages = 1, nCats = 1): CocoGroundTruth {
  return {
    images: Array.from({ length: nImages }, (_, i) => ({ id: i + 1 })),
    categories: Array.from({ length: nCats }, (_, i) => ({ id: i + 1, name: `c${i + 1}` })),
    annotations: boxes.map((b, i): CocoAnnotation => ({
      id: b.id ?? i + 1,
      image_id: b.img,
      category_id: b.cat ?? 1,
      bbox: b.box,
      area: b.area ?? b.box[2] * b.box[3],
      iscrowd: b.crowd ? 1 : 0,
    })),
  };
}

const det = (img: number, box: Box, score: number, cat = 1): CocoDetection => ({
  image_id: img, category_id: cat, bbox: box, score,
});

const FAR: Box = [500, 500, 10, 10]; // overlaps nothing

// Perfect AP is 1 - 2e-16 in pycocotools too: precision = tp / (fp + tp + np.spacing(1)).

describe('evaluateCoco behaviours', () => {
  it('breaks score ties by file order within an image', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }]);
    const hit = det(1, [0, 0, 10, 10], 0.9);
    const miss = det(1, FAR, 0.9);
    // miss first: precision curve [0, 1/2] -> interpolated 1/2 everywhere
    expect(evaluateCoco(gt, [miss, hit]).stats.AP50).toBeCloseTo(0.5, 12);
    // hit first: precision 1 at recall 1
    expect(evaluateCoco(gt, [hit, miss]).stats.AP50).toBeCloseTo(1, 12);
  });

  it('breaks score ties across images by image id, not file order', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }, { img: 2, box: [0, 0, 10, 10] }], 2);
    // the false positive on image 2 comes first in the file, but image 1 sorts first
    const r = evaluateCoco(gt, [det(2, FAR, 0.9), det(1, [0, 0, 10, 10], 0.9)]);
    // sorted: TP then FP -> precision 1 for recall <= 0.5 (51 of 101 thresholds), 0 beyond
    expect(r.stats.AP50).toBeCloseTo(51 / 101, 12);
  });

  it('matches a detection whose IoU equals the threshold exactly', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }]);
    const half = evaluateCoco(gt, [det(1, [0, 0, 10, 5], 0.9)]); // IoU = 50/100 = 0.5
    expect(half.stats.AP50).toBeCloseTo(1, 12);
    expect(half.stats.AP).toBeCloseTo(0.1, 12); // matched at 0.50 only
    const threeQuarters = evaluateCoco(gt, [det(1, [0, 0, 10, 7.5], 0.9)]); // IoU = 0.75
    expect(threeQuarters.stats.AP75).toBeCloseTo(1, 12);
    expect(threeQuarters.stats.AP).toBeCloseTo(0.6, 12); // matched at 0.50 ... 0.75
  });

  it('gives -1 to empty size buckets and to classes without ground truth, leaving them out of means', () => {
    // one 40x40 (medium) GT in class 1; class 2 has only a false positive
    const gt = makeGt([{ img: 1, box: [0, 0, 40, 40] }], 1, 2);
    const r = evaluateCoco(gt, [det(1, [0, 0, 40, 40], 0.9), det(1, [0, 0, 40, 40], 0.8, 2)]);
    expect([r.stats.APs, r.stats.APl, r.stats.ARs, r.stats.ARl]).toEqual([-1, -1, -1, -1]);
    expect(r.stats.APm).toBeCloseTo(1, 12);
    expect(r.perClass['2']).toMatchObject({ AP: -1, AP50: -1, AP75: -1, AR100: -1, numGt: 0, numDets: 1 });
    expect(r.stats.AP).toBeCloseTo(1, 12); // class 2 does not drag the mean to 0.5
  });

  it('gives -1 everywhere when there is no ground truth at all', () => {
    const r = evaluateCoco(makeGt([]), [det(1, FAR, 0.5)]);
    for (const key of STAT_KEYS) expect(r.stats[key]).toBe(-1);
  });

  it('applies maxDets per image and class', () => {
    const two = [{ img: 1, box: [0, 0, 10, 10] as Box }, { img: 1, box: [50, 50, 10, 10] as Box }];
    const r = evaluateCoco(makeGt(two), [det(1, [0, 0, 10, 10], 0.9), det(1, [50, 50, 10, 10], 0.8)]);
    expect(r.stats.AR1).toBeCloseTo(0.5, 12); // only the best detection of the image counts
    expect(r.stats.AR10).toBe(1);

    // one GT + one hit on each of two images: maxDets=1 is per image, so recall is 1
    const perImage = evaluateCoco(
      makeGt([{ img: 1, box: [0, 0, 10, 10] }, { img: 2, box: [0, 0, 10, 10] }], 2),
      [det(1, [0, 0, 10, 10], 0.9), det(2, [0, 0, 10, 10], 0.8)],
    );
    expect(perImage.stats.AR1).toBe(1);

    // and per class: two classes on one image, one hit each
    const perClass = evaluateCoco(
      makeGt([{ img: 1, box: [0, 0, 10, 10], cat: 1 }, { img: 1, box: [0, 0, 10, 10], cat: 2 }], 1, 2),
      [det(1, [0, 0, 10, 10], 0.9, 1), det(1, [0, 0, 10, 10], 0.8, 2)],
    );
    expect(perClass.stats.AR1).toBe(1);
  });

  it('drops detections beyond the 100 best of an image and class', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }]);
    const fps = Array.from({ length: 100 }, () => det(1, FAR, 0.9));
    expect(evaluateCoco(gt, [...fps, det(1, [0, 0, 10, 10], 0.1)]).stats.AR100).toBe(0);
    expect(evaluateCoco(gt, [...fps.slice(1), det(1, [0, 0, 10, 10], 0.1)]).stats.AR100).toBe(1);
  });

  it('ignores detections that fall on crowd regions (IoU over the detection area)', () => {
    const gt = makeGt([
      { img: 1, box: [0, 0, 10, 10] },
      { img: 1, box: [100, 100, 200, 200], crowd: true },
    ]);
    const inCrowd = [det(1, [110, 110, 20, 20], 0.95), det(1, [150, 150, 30, 30], 0.94)];
    const r = evaluateCoco(gt, [...inCrowd, det(1, [0, 0, 10, 10], 0.5)]);
    // both crowd detections match the crowd (IoU = 1 with detection area as union) and are ignored
    expect(r.stats.AP).toBeCloseTo(1, 12);
    expect(r.perClass['1'].numGt).toBe(2);
    expect(r.matchCounts['iou0.50_score>=0.00'].micro).toMatchObject({ TP: 1, FP: 0, FN: 0 });
  });

  it('buckets ground truth by its area field, and detections by w*h', () => {
    // a 10x10 box whose annotation says area 5000: medium, not small
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10], area: 5000 }]);
    const r = evaluateCoco(gt, [det(1, [0, 0, 10, 10], 0.9)]);
    expect(r.stats.APs).toBe(-1);
    expect(r.stats.APm).toBeCloseTo(1, 12);

    // an unmatched 200x200 detection is outside 'small', so it is ignored there
    const small = makeGt([{ img: 1, box: [0, 0, 10, 10] }]);
    const withBigFp = evaluateCoco(small, [det(1, [300, 300, 200, 200], 0.99), det(1, [0, 0, 10, 10], 0.5)]);
    expect(withBigFp.stats.APs).toBeCloseTo(1, 12);
    expect(withBigFp.stats.AP).toBeCloseTo(0.5, 12);
  });

  it('interpolates precision with a right-to-left running max over 101 recall points', () => {
    // 2 GT; ranked TP, FP, TP -> precision [1, 1/2, 2/3], recall [1/2, 1/2, 1]
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }, { img: 1, box: [50, 50, 10, 10] }]);
    const r = evaluateCoco(gt, [det(1, [0, 0, 10, 10], 0.9), det(1, FAR, 0.8), det(1, [50, 50, 10, 10], 0.7)]);
    // recall thresholds 0..0.50 (51 points) -> 1; 0.51..1.00 (50 points) -> 2/3
    expect(r.stats.AP50).toBeCloseTo((51 * 1 + 50 * (2 / 3)) / 101, 12);
  });

  it('keeps pycocotools quirk: a ground truth with id 0 never counts as matched', () => {
    const r = evaluateCoco(makeGt([{ img: 1, box: [0, 0, 10, 10], id: 0 }]), [det(1, [0, 0, 10, 10], 0.9)]);
    expect(r.stats.AP).toBe(0);
    expect(r.matchCounts['iou0.50_score>=0.00'].micro).toMatchObject({ TP: 0, FP: 1, FN: 1 });
  });

  it('counts TP/FP/FN at score cuts from the same matching', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }, { img: 1, box: [50, 50, 10, 10] }]);
    const r = evaluateCoco(gt, [det(1, [0, 0, 10, 10], 0.9), det(1, FAR, 0.6), det(1, [50, 50, 10, 10], 0.3)]);
    expect(r.matchCounts['iou0.50_score>=0.00'].micro).toMatchObject({ TP: 2, FP: 1, FN: 0 });
    expect(r.matchCounts['iou0.50_score>=0.50'].micro).toMatchObject({ TP: 1, FP: 1, FN: 1 });
    expect(r.matchCounts['iou0.75_score>=0.75'].perClass['1']).toEqual({
      TP: 1, FP: 0, FN: 1, precision: 1, recall: 0.5, F1: 2 / 3,
    });
  });

  it('ignores detections of categories the ground truth does not list', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }]);
    expect(evaluateCoco(gt, [det(1, FAR, 0.99, 7), det(1, [0, 0, 10, 10], 0.5)]).stats.AP).toBeCloseTo(1, 12);
  });

  it('rejects detections on images missing from the ground truth, like loadRes', () => {
    const gt = makeGt([{ img: 1, box: [0, 0, 10, 10] }]);
    expect(() => evaluateCoco(gt, [det(9, FAR, 0.5)])).toThrow(CocoInputError);
    expect(() => evaluateCoco(gt, [det(9, FAR, 0.5)])).toThrow(/image_id 9/);
  });
});
