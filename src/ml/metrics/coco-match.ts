// COCOeval.computeIoU + evaluateImg for iouType 'bbox': greedy per-image matching of
// score-sorted detections to ground truth, at every IoU threshold and area range.
// Results go into flat typed arrays instead of one dict per (image, category, area).
import { AREA_RANGES, IOU_THRESHOLDS, MAX_DETS } from './coco-types.js';
import type { PreparedCoco } from './coco-prepare.js';

/** Bit t of a flag word: detection matched a GT (dtMatches != 0) at IoU threshold t. */
export const MATCHED_SHIFT = 0;
/** Bit 16+t: detection ignored at IoU threshold t (matched a crowd/out-of-range GT, or unmatched and out of range). */
export const IGNORED_SHIFT = 16;

export interface MatchedDetections {
  /** Detections kept after the per-image maxDets cut, in (category, image, score) order. */
  score: Float64Array;
  /** Position of the detection inside its image's score-sorted list (for maxDets 1/10). */
  rank: Int32Array;
  /** flags[det * A + areaIndex], bits as MATCHED_SHIFT / IGNORED_SHIFT. */
  flags: Uint32Array;
  /** Kept detections of category k are [catStart[k], catStart[k+1]). */
  catStart: Int32Array;
  /** 1 when category k has at least one image with a GT or detection (pycocotools' evalImgs not None). */
  catEvaluated: Uint8Array;
  /** Non-ignored GT count, npig[k * A + areaIndex]. */
  npig: Int32Array;
}

/** bbIou from pycocotools' maskApi.c, same operation order so equal-to-threshold cases agree. */
function bboxIou(
  dtBox: Float64Array, d: number, gtBox: Float64Array, g: number, crowd: boolean,
): number {
  const dx = dtBox[d], dy = dtBox[d + 1], dw = dtBox[d + 2], dh = dtBox[d + 3];
  const gx = gtBox[g], gy = gtBox[g + 1], gw = gtBox[g + 2], gh = gtBox[g + 3];
  const w = Math.min(dw + dx, gw + gx) - Math.max(dx, gx);
  if (w <= 0) return 0;
  const h = Math.min(dh + dy, gh + gy) - Math.max(dy, gy);
  if (h <= 0) return 0;
  const i = w * h;
  const da = dw * dh;
  const u = crowd ? da : da + gw * gh - i; // crowd: a detection may match any sub-region
  return i / u;
}

export function matchDetections(prep: PreparedCoco): MatchedDetections {
  const T = IOU_THRESHOLDS.length;
  const A = AREA_RANGES.length;
  const maxDet = MAX_DETS[MAX_DETS.length - 1];
  const nCat = prep.catIds.length;
  const nBuckets = prep.bucketCat.length;
  const thr = Float64Array.from(IOU_THRESHOLDS, (t) => Math.min(t, 1 - 1e-10));
  const allT = (1 << T) - 1;
  const { gtBox, gtCrowd, gtIdIsZero, dtBox, dtScore, bucketCat, bucketGtStart, bucketDtStart } = prep;

  // Bit a set = outside area range a: GT (from its area field, crowd counts as ignored
  // everywhere) and detections (from w*h).
  const outside = (area: number, a: number): boolean => area < AREA_RANGES[a][0] || area > AREA_RANGES[a][1];
  const gtIgnoreBits = new Uint8Array(gtCrowd.length);
  for (let g = 0; g < gtIgnoreBits.length; g++) {
    for (let a = 0; a < A; a++) if (gtCrowd[g] || outside(prep.gtArea[g], a)) gtIgnoreBits[g] |= 1 << a;
  }
  const dtOutsideBits = new Uint8Array(dtScore.length);
  for (let d = 0; d < dtOutsideBits.length; d++) {
    for (let a = 0; a < A; a++) if (outside(prep.dtArea[d], a)) dtOutsideBits[d] |= 1 << a;
  }

  let nKept = 0;
  for (let b = 0; b < nBuckets; b++) nKept += Math.min(bucketDtStart[b + 1] - bucketDtStart[b], maxDet);
  const score = new Float64Array(nKept);
  const rank = new Int32Array(nKept);
  const flags = new Uint32Array(nKept * A);
  const catStart = new Int32Array(nCat + 1);
  const catEvaluated = new Uint8Array(nCat);
  const npig = new Int32Array(nCat * A);

  // Scratch buffers reused across buckets (grown on demand) to avoid per-image allocation.
  let ious = new Float64Array(64);
  let order = new Int32Array(16); // GT positions, non-ignored first (stable)
  let igS = new Uint8Array(16); // ignore flag in sorted order
  let crowdS = new Uint8Array(16);
  let gtm = new Uint8Array(16);
  const patterns = new Float64Array(A); // GT ignore pattern per area, to reuse identical matchings

  let kept = 0;
  for (let b = 0; b < nBuckets; b++) {
    const k = bucketCat[b];
    catEvaluated[k] = 1;
    const g0 = bucketGtStart[b];
    const G = bucketGtStart[b + 1] - g0;
    const d0 = bucketDtStart[b];
    const D = Math.min(bucketDtStart[b + 1] - d0, maxDet);

    for (let d = 0; d < D; d++) {
      score[kept + d] = dtScore[d0 + d];
      rank[kept + d] = d;
    }
    for (let g = 0; g < G; g++) {
      for (let a = 0; a < A; a++) if (!(gtIgnoreBits[g0 + g] & (1 << a))) npig[k * A + a]++;
    }

    if (G > 0 && D > 0) {
      if (D * G > ious.length) ious = new Float64Array(D * G * 2);
      if (G > order.length) {
        order = new Int32Array(G * 2);
        igS = new Uint8Array(G * 2);
        crowdS = new Uint8Array(G * 2);
        gtm = new Uint8Array(G * 2);
      }
      for (let d = 0; d < D; d++) {
        for (let g = 0; g < G; g++) {
          ious[d * G + g] = bboxIou(dtBox, (d0 + d) * 4, gtBox, (g0 + g) * 4, gtCrowd[g0 + g] === 1);
        }
      }

      for (let a = 0; a < A; a++) {
        // Matching depends on the area only through which GT are ignored: reuse a previous
        // area's result when the pattern is the same (patterns only tracked up to 52 GT).
        let pattern = -1;
        if (G <= 52) {
          pattern = 0;
          for (let g = 0; g < G; g++) if (gtIgnoreBits[g0 + g] & (1 << a)) pattern += 2 ** g;
        }
        patterns[a] = pattern;
        let same = -1;
        for (let a2 = 0; a2 < a && pattern >= 0; a2++) if (patterns[a2] === pattern) { same = a2; break; }
        if (same >= 0) {
          for (let d = 0; d < D; d++) flags[(kept + d) * A + a] = flags[(kept + d) * A + same];
          continue;
        }

        // np.argsort(_ignore, kind='mergesort'): non-ignored GT first, each group in order.
        let n = 0;
        for (let pass = 0; pass < 2; pass++) {
          for (let g = 0; g < G; g++) {
            const ig = gtIgnoreBits[g0 + g] & (1 << a) ? 1 : 0;
            if (ig !== pass) continue;
            order[n] = g;
            igS[n] = ig;
            crowdS[n] = gtCrowd[g0 + g];
            n++;
          }
        }

        for (let t = 0; t < T; t++) {
          gtm.fill(0, 0, G);
          for (let d = 0; d < D; d++) {
            let best = thr[t];
            let m = -1;
            const row = d * G;
            for (let j = 0; j < G; j++) {
              if (gtm[j] === 1 && crowdS[j] === 0) continue; // already taken, and not a crowd
              if (m > -1 && igS[m] === 0 && igS[j] === 1) break; // have a real match; rest are ignored GT
              const v = ious[row + order[j]];
              if (v < best) continue; // IoU equal to the threshold still matches
              best = v;
              m = j;
            }
            if (m === -1) continue;
            gtm[m] = 1;
            let f = 0;
            if (gtIdIsZero[g0 + order[m]] === 0) f |= 1 << (MATCHED_SHIFT + t);
            if (igS[m] === 1) f |= 1 << (IGNORED_SHIFT + t);
            flags[(kept + d) * A + a] |= f;
          }
        }
      }
    }

    // Unmatched detections outside the area range are ignored rather than counted as FP.
    for (let d = 0; d < D; d++) {
      const out = dtOutsideBits[d0 + d];
      if (!out) continue;
      for (let a = 0; a < A; a++) {
        if (!(out & (1 << a))) continue;
        const fi = (kept + d) * A + a;
        const unmatched = ~(flags[fi] >>> MATCHED_SHIFT) & allT;
        flags[fi] |= unmatched << IGNORED_SHIFT;
      }
    }
    kept += D;
    catStart[k + 1] = kept;
  }
  // Categories without any bucket: their range is empty but must still be contiguous.
  for (let k = 1; k <= nCat; k++) if (catStart[k] < catStart[k - 1]) catStart[k] = catStart[k - 1];
  return { score, rank, flags, catStart, catEvaluated, npig };
}
