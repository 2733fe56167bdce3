// COCOeval.accumulate + summarize: 101-point interpolated precision and max recall per
// (IoU, category, area, maxDets), then the 12 summary numbers and per-class figures.
import { AREA_RANGES, IOU_THRESHOLDS, MAX_DETS, REC_THRESHOLDS } from './coco-types.js';
import type { MatchCounts } from './coco-types.js';
import { IGNORED_SHIFT, MATCHED_SHIFT, type MatchedDetections } from './coco-match.js';
import { npMean } from './numpy-compat.js';

export interface Accumulated {
  /**
   * precision[k][a][m][t][r] (pycocotools' [T,R,K,A,M] transposed so that accumulate
   * writes contiguously); -1 where there is no GT. Use precisionIndex().
   */
  precision: Float64Array;
  /** recall[k][a][m][t]; -1 where there is no GT. Use recallIndex(). */
  recall: Float64Array;
  K: number;
}

const EPS = 2.220446049250313e-16; // np.spacing(1)
const REC = Float64Array.from(REC_THRESHOLDS);
const T = IOU_THRESHOLDS.length;
const R = REC_THRESHOLDS.length;
const A = AREA_RANGES.length;
const M = MAX_DETS.length;

export const recallIndex = (k: number, a: number, m: number, t: number): number => ((k * A + a) * M + m) * T + t;
export const precisionIndex = (k: number, a: number, m: number, t: number, r: number): number =>
  recallIndex(k, a, m, t) * R + r;

/** Kept detections of category k, sorted by descending score; ties keep concatenation order. */
function sortedByScore(ev: MatchedDetections, k: number): Int32Array {
  const s = ev.catStart[k];
  const n = ev.catStart[k + 1] - s;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = s + i;
  const score = ev.score;
  // One stable sort per category serves every area and maxDets: the maxDets subsets are
  // subsequences, and a stable sort of a subsequence is the subsequence of the stable sort.
  order.sort((p, q) => score[q] - score[p] || p - q);
  return order;
}

export function accumulate(ev: MatchedDetections, K: number): Accumulated {
  const precision = new Float64Array(T * R * K * A * M).fill(-1);
  const recall = new Float64Array(T * K * A * M).fill(-1);
  const { rank, flags } = ev;
  let sel = new Uint32Array(64);
  let prAtTp = new Float64Array(64);

  for (let k = 0; k < K; k++) {
    if (!ev.catEvaluated[k]) continue; // no evalImgs for this class at all
    const order = sortedByScore(ev, k);
    const n = order.length;
    let maxRank = -1;
    for (let i = 0; i < n; i++) if (rank[order[i]] > maxRank) maxRank = rank[order[i]];
    if (n > sel.length) {
      sel = new Uint32Array(n);
      prAtTp = new Float64Array(n);
    }
    for (let a = 0; a < A; a++) {
      const npig = ev.npig[k * A + a];
      if (npig === 0) continue; // no GT to find: stays -1 and is left out of means
      for (let m = M - 1; m >= 0; m--) {
        const maxDet = MAX_DETS[m];
        if (m < M - 1 && maxRank < maxDet) {
          // No image has more detections than this cut: identical to the next larger maxDets.
          const from = precisionIndex(k, a, m + 1, 0, 0);
          precision.copyWithin(precisionIndex(k, a, m, 0, 0), from, from + T * R);
          const rFrom = recallIndex(k, a, m + 1, 0);
          recall.copyWithin(recallIndex(k, a, m, 0), rFrom, rFrom + T);
          continue;
        }
        let nd = 0;
        for (let i = 0; i < n; i++) {
          const o = order[i];
          if (rank[o] < maxDet) sel[nd++] = flags[o * A + a];
        }
        for (let t = 0; t < T; t++) {
          const ignoredBit = 1 << (IGNORED_SHIFT + t);
          const matchedBit = 1 << (MATCHED_SHIFT + t);
          // pycocotools builds rc/pr at every detection. Only the true positives matter:
          // rc rises only there (so searchsorted lands on one), and between two TPs pr only
          // falls, so the right-to-left max is always taken at a TP. prAtTp[j] is pr at the
          // (j+1)-th TP, computed with the same float operations as numpy.
          let tp = 0;
          let fp = 0;
          for (let i = 0; i < nd; i++) {
            const f = sel[i];
            if (f & ignoredBit) continue;
            if (f & matchedBit) {
              tp++;
              prAtTp[tp - 1] = tp / (fp + tp + EPS);
            } else {
              fp++;
            }
          }
          recall[recallIndex(k, a, m, t)] = nd ? tp / npig : 0;
          for (let j = tp - 1; j > 0; j--) if (prAtTp[j] > prAtTp[j - 1]) prAtTp[j - 1] = prAtTp[j];
          // np.searchsorted(rc, recThrs, side='left'): first TP whose recall reaches the
          // threshold; thresholds past the final recall get precision 0.
          const base = precisionIndex(k, a, m, t, 0);
          let j = 0;
          for (let r = 0; r < R; r++) {
            const thr = REC[r];
            while (j < tp && (j + 1) / npig < thr) j++;
            precision[base + r] = j < tp ? prAtTp[j] : 0;
          }
        }
      }
    }
  }
  return { precision, recall, K };
}

/** np.mean(s[s > -1]) over values visited in numpy's C order; -1 if none. */
function meanOfValid(values: Float64Array, n: number): number {
  return n === 0 ? -1 : npMean(values, n);
}

/**
 * One line of COCOeval.summarize(): AP (precision) or AR (recall) at an IoU threshold
 * (undefined = all), an area label index and a maxDets value.
 */
export function summarizeOne(
  acc: Accumulated, ap: boolean, iouThr: number | undefined, a: number, maxDets: number,
  k: number | undefined = undefined,
): number {
  const m = MAX_DETS.indexOf(maxDets);
  if (m < 0) return -1;
  // np.where(iouThr == p.iouThrs): exact float equality, as pycocotools does.
  const ts = iouThr === undefined
    ? IOU_THRESHOLDS.map((_, i) => i)
    : IOU_THRESHOLDS.flatMap((v, i) => (v === iouThr ? [i] : []));
  const ks = k === undefined ? Array.from({ length: acc.K }, (_, i) => i) : [k];
  const buf = new Float64Array(ts.length * (ap ? R : 1) * ks.length);
  let n = 0;
  for (const t of ts) {
    if (ap) {
      for (let r = 0; r < R; r++) {
        for (const kk of ks) {
          const v = acc.precision[precisionIndex(kk, a, m, t, r)];
          if (v > -1) buf[n++] = v;
        }
      }
    } else {
      for (const kk of ks) {
        const v = acc.recall[recallIndex(kk, a, m, t)];
        if (v > -1) buf[n++] = v;
      }
    }
  }
  return meanOfValid(buf, n);
}

/** TP/FP/FN (and the ratios) from counts; zero where undefined. */
export function countsFrom(TP: number, FP: number, FN: number): MatchCounts {
  const precision = TP + FP > 0 ? TP / (TP + FP) : 0;
  const recall = TP + FN > 0 ? TP / (TP + FN) : 0;
  const F1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { TP, FP, FN, precision, recall, F1 };
}

/**
 * TP/FP/FN for category k at IoU index t and a score cut, from the area-'all', maxDets-100
 * matching. FN = non-ignored GT not matched by a detection that passes the cut.
 */
export function countAt(ev: MatchedDetections, k: number, t: number, minScore: number): [number, number, number] {
  let tp = 0;
  let fp = 0;
  for (let i = ev.catStart[k]; i < ev.catStart[k + 1]; i++) {
    if (ev.score[i] < minScore) continue;
    const f = ev.flags[i * A];
    if ((f >>> (IGNORED_SHIFT + t)) & 1) continue;
    if ((f >>> (MATCHED_SHIFT + t)) & 1) tp++;
    else fp++;
  }
  return [tp, fp, ev.npig[k * A] - tp];
}
