// COCO bbox evaluation: a faithful port of pycocotools' COCOeval (iouType 'bbox',
// default Params) — evaluate, accumulate and summarize — on flat typed arrays.
//   prepare  (coco-prepare.ts)    loadRes + _prepare: selection, ordering, buckets
//   match    (coco-match.ts)      computeIoU + evaluateImg
//   summary  (coco-accumulate.ts) accumulate + summarize
import { accumulate, countAt, countsFrom, summarizeOne } from './coco-accumulate.js';
import { matchDetections } from './coco-match.js';
import { prepareCoco } from './coco-prepare.js';
import {
  IOU_THRESHOLDS,
  MAX_DETS,
  type CocoClassResult,
  type CocoDetection,
  type CocoEvalOptions,
  type CocoEvalResult,
  type CocoGroundTruth,
  type CocoStats,
  type MatchCountsAt,
} from './coco-types.js';
import { pyFixed } from './numpy-compat.js';

export * from './coco-types.js';

const ALL = 0;
const SMALL = 1;
const MEDIUM = 2;
const LARGE = 3;

/** Key used in matchCounts, e.g. "iou0.50_score>=0.75". */
export function matchCountsKey(iou: number, score: number): string {
  return `iou${pyFixed(iou, 2)}_score>=${pyFixed(score, 2)}`;
}

export function evaluateCoco(
  gt: CocoGroundTruth,
  detections: readonly CocoDetection[],
  options: CocoEvalOptions = {},
): CocoEvalResult {
  const prep = prepareCoco(gt, detections);
  const K = prep.catIds.length;
  const ev = matchDetections(prep);
  const acc = accumulate(ev, K);
  const [m1, m10, m100] = MAX_DETS;

  const stats: CocoStats = {
    AP: summarizeOne(acc, true, undefined, ALL, m100),
    AP50: summarizeOne(acc, true, 0.5, ALL, m100),
    AP75: summarizeOne(acc, true, 0.75, ALL, m100),
    APs: summarizeOne(acc, true, undefined, SMALL, m100),
    APm: summarizeOne(acc, true, undefined, MEDIUM, m100),
    APl: summarizeOne(acc, true, undefined, LARGE, m100),
    AR1: summarizeOne(acc, false, undefined, ALL, m1),
    AR10: summarizeOne(acc, false, undefined, ALL, m10),
    AR100: summarizeOne(acc, false, undefined, ALL, m100),
    ARs: summarizeOne(acc, false, undefined, SMALL, m100),
    ARm: summarizeOne(acc, false, undefined, MEDIUM, m100),
    ARl: summarizeOne(acc, false, undefined, LARGE, m100),
  };

  const perClass: Record<string, CocoClassResult> = {};
  for (let k = 0; k < K; k++) {
    perClass[String(prep.catIds[k])] = {
      id: prep.catIds[k],
      name: prep.catNames[k],
      numGt: prep.numGtPerCat[k],
      numDets: prep.numDtPerCat[k],
      AP: summarizeOne(acc, true, undefined, ALL, m100, k),
      AP50: summarizeOne(acc, true, 0.5, ALL, m100, k),
      AP75: summarizeOne(acc, true, 0.75, ALL, m100, k),
      AR100: summarizeOne(acc, false, undefined, ALL, m100, k),
    };
  }

  const matchCounts: Record<string, MatchCountsAt> = {};
  for (const iou of options.countIouThresholds ?? [0.5, 0.75]) {
    const t = IOU_THRESHOLDS.indexOf(iou);
    if (t < 0) throw new Error(`count IoU threshold ${iou} is not one of ${IOU_THRESHOLDS.join(', ')}`);
    for (const minScore of options.countScoreThresholds ?? [0, 0.5, 0.75]) {
      const byClass: MatchCountsAt['perClass'] = {};
      let TP = 0, FP = 0, FN = 0;
      for (let k = 0; k < K; k++) {
        const [tp, fp, fn] = countAt(ev, k, t, minScore);
        byClass[String(prep.catIds[k])] = countsFrom(tp, fp, fn);
        TP += tp; FP += fp; FN += fn;
      }
      matchCounts[matchCountsKey(iou, minScore)] = {
        iouThreshold: iou,
        scoreThreshold: minScore,
        micro: countsFrom(TP, FP, FN),
        perClass: byClass,
      };
    }
  }

  return { stats, perClass, matchCounts, numImages: prep.imgIds.length, numCategories: K };
}
