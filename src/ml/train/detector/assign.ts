/**
 * Training targets for one image from its true boxes alone (no predictions needed, so targets are
 * plain typed arrays built while the batch is assembled). See model.ts for the rule.
 */
import type { AnchorPoints } from './model.js';

/** Centre-sampling radius in strides. */
export const CENTER_RADIUS = 2.5;

export interface ImageTargets {
  /** N: index of the assigned box, −1 for background. */
  assigned: Int32Array;
  positives: number;
}

/**
 * `boxes` are x1, y1, x2, y2 in input pixels (4 per box). An anchor is positive for a box when its
 * point is inside the box and within CENTER_RADIUS strides of the box centre; an anchor claimed by
 * several boxes takes the smallest. A box that gets no anchor takes the free anchor nearest its
 * centre, so every box trains.
 */
export function assignTargets(boxes: ArrayLike<number>, anchors: AnchorPoints): ImageTargets {
  const n = anchors.count;
  const assigned = new Int32Array(n).fill(-1);
  const bestArea = new Float64Array(n).fill(Infinity);
  const k = boxes.length / 4;
  const hits = new Int32Array(k);
  for (let g = 0; g < k; g++) {
    const x1 = boxes[g * 4], y1 = boxes[g * 4 + 1], x2 = boxes[g * 4 + 2], y2 = boxes[g * 4 + 3];
    const cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
    const area = (x2 - x1) * (y2 - y1);
    for (let i = 0; i < n; i++) {
      const ax = anchors.x[i], ay = anchors.y[i];
      if (ax <= x1 || ax >= x2 || ay <= y1 || ay >= y2) continue;
      const r = CENTER_RADIUS * anchors.stride[i];
      if (Math.abs(ax - cx) > r || Math.abs(ay - cy) > r) continue;
      hits[g]++;
      if (area < bestArea[i]) {
        bestArea[i] = area;
        assigned[i] = g;
      }
    }
  }
  for (let g = 0; g < k; g++) {
    if (hits[g] > 0 && assigned.includes(g)) continue;
    const cx = (boxes[g * 4] + boxes[g * 4 + 2]) / 2, cy = (boxes[g * 4 + 1] + boxes[g * 4 + 3]) / 2;
    let best = -1;
    let bestD = Infinity;
    for (let i = 0; i < n; i++) {
      if (assigned[i] >= 0) continue;
      const d = (anchors.x[i] - cx) ** 2 + (anchors.y[i] - cy) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    }
    if (best >= 0) assigned[best] = g;
  }
  let positives = 0;
  for (let i = 0; i < n; i++) if (assigned[i] >= 0) positives++;
  return { assigned, positives };
}
