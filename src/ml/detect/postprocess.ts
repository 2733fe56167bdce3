/**
 * From a detector's raw output [1, 4 + nc, N] to final boxes, as Ultralytics' validation does
 * (non_max_suppression with multi_label=True, agnostic=False) and as an edge should run it:
 *   1. every (candidate, class) pair with score > conf (strict), anchor-major then class order;
 *   2. cx, cy, w, h → x1, y1, x2, y2 in float64 (the float32 outputs cast first);
 *   3. at most maxCandidates pairs, highest scores first;
 *   4. class-aware greedy NMS: a box is dropped when its IoU with a kept box of its class is
 *      > iouThreshold (areas without +1, on boxes shifted by class × 7680 as torchvision sees them);
 *   5. at most maxDetections, highest scores first.
 * All work is on typed arrays.
 */
import { DETECT_DEFAULTS } from './layout.js';

/** Ultralytics' max_wh: each class's boxes are shifted this far so one NMS call keeps classes apart. */
export const CLASS_OFFSET = 7680;

export interface DecodeOptions {
  confThreshold?: number;
  iouThreshold?: number;
  maxCandidates?: number;
  maxDetections?: number;
}

export interface Detections {
  count: number;
  /** x1, y1, x2, y2 per detection (4·count). */
  boxes: Float64Array;
  /** The model's float32 score. */
  scores: Float32Array;
  /** Class index into the model's names. */
  classes: Int32Array;
}

/** Indices [0, n) ordered by descending score; equal scores keep index order (a stable sort). */
function byScore(scores: Float32Array, n: number): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => scores[b] - scores[a] || a - b);
}

/**
 * Greedy NMS per class on candidates already in `order` (descending score). Returns a flag per
 * candidate: 1 = suppressed. Same arithmetic as torchvision.ops.nms on the class-shifted boxes.
 */
export function suppress(boxes: Float64Array, classes: Int32Array, order: Int32Array, iouThreshold: number): Uint8Array {
  const n = order.length;
  const suppressed = new Uint8Array(classes.length);
  // Shifted coordinates and areas, as torchvision computes them on the boxes it is given. For
  // coordinates derived from float32 outputs the shift is exact; keeping it makes even extreme
  // values (sub-ulp widths) round the same way.
  const sx1 = new Float64Array(classes.length);
  const sy1 = new Float64Array(classes.length);
  const sx2 = new Float64Array(classes.length);
  const sy2 = new Float64Array(classes.length);
  const area = new Float64Array(classes.length);
  let nc = 0;
  for (let i = 0; i < classes.length; i++) {
    const off = classes[i] * CLASS_OFFSET;
    sx1[i] = boxes[4 * i] + off;
    sy1[i] = boxes[4 * i + 1] + off;
    sx2[i] = boxes[4 * i + 2] + off;
    sy2[i] = boxes[4 * i + 3] + off;
    area[i] = (sx2[i] - sx1[i]) * (sy2[i] - sy1[i]);
    if (classes[i] + 1 > nc) nc = classes[i] + 1;
  }
  // Stable bucket of the score order by class: each class's run stays in score order. Boxes of
  // different classes never overlap after the shift (boxes are far smaller than 7680 px).
  const start = new Int32Array(nc + 1);
  for (let k = 0; k < n; k++) start[classes[order[k]] + 1]++;
  for (let c = 0; c < nc; c++) start[c + 1] += start[c];
  const fill = start.slice(0, nc);
  const grouped = new Int32Array(n);
  for (let k = 0; k < n; k++) grouped[fill[classes[order[k]]]++] = order[k];

  for (let c = 0; c < nc; c++) {
    const end = start[c + 1];
    for (let p = start[c]; p < end; p++) {
      const i = grouped[p];
      if (suppressed[i]) continue;
      const ix1 = sx1[i], iy1 = sy1[i], ix2 = sx2[i], iy2 = sy2[i], iarea = area[i];
      for (let q = p + 1; q < end; q++) {
        const j = grouped[q];
        if (suppressed[j]) continue;
        const w = Math.max(0, Math.min(ix2, sx2[j]) - Math.max(ix1, sx1[j]));
        const h = Math.max(0, Math.min(iy2, sy2[j]) - Math.max(iy1, sy1[j]));
        const inter = w * h;
        if (inter / (iarea + area[j] - inter) > iouThreshold) suppressed[j] = 1;
      }
    }
  }
  return suppressed;
}

/** `output` is the model's [1, 4 + nc, N] tensor, row-major (row r of candidate a at r·N + a). */
export function decodeDetections(output: Float32Array, nc: number, n: number, opts: DecodeOptions = {}): Detections {
  const conf = opts.confThreshold ?? DETECT_DEFAULTS.evalConfThreshold;
  const iou = opts.iouThreshold ?? DETECT_DEFAULTS.iouThreshold;
  const maxCandidates = opts.maxCandidates ?? DETECT_DEFAULTS.maxCandidates;
  const maxDetections = opts.maxDetections ?? DETECT_DEFAULTS.maxDetections;
  if (output.length !== (4 + nc) * n) throw new Error(`detector output holds ${output.length} values, not (4 + ${nc}) × ${n}`);
  // numpy and torch compare a float32 array with a Python float in float32.
  const thr = Math.fround(conf);

  // 1. (anchor, class) pairs above the threshold, anchor-major.
  let cap = 1024;
  let anchor = new Int32Array(cap);
  let cls = new Int32Array(cap);
  let score = new Float32Array(cap);
  let m = 0;
  for (let a = 0; a < n; a++) {
    for (let c = 0; c < nc; c++) {
      const s = output[(4 + c) * n + a];
      if (!(s > thr)) continue;
      if (m === cap) {
        cap *= 2;
        const grow = <T extends Int32Array | Float32Array>(arr: T, make: (k: number) => T): T => { const b = make(cap); b.set(arr); return b; };
        anchor = grow(anchor, (k) => new Int32Array(k));
        cls = grow(cls, (k) => new Int32Array(k));
        score = grow(score, (k) => new Float32Array(k));
      }
      anchor[m] = a;
      cls[m] = c;
      score[m] = s;
      m++;
    }
  }

  // 3. Cap by score (kept in candidate order; NMS orders them anyway).
  let keep: Int32Array;
  if (m > maxCandidates) {
    keep = byScore(score, m).slice(0, maxCandidates).sort();
  } else {
    keep = new Int32Array(m);
    for (let i = 0; i < m; i++) keep[i] = i;
  }

  // 2. Boxes in float64.
  const k = keep.length;
  const boxes = new Float64Array(4 * k);
  const classes = new Int32Array(k);
  const scores = new Float32Array(k);
  for (let i = 0; i < k; i++) {
    const src = keep[i];
    const a = anchor[src];
    const cx = output[a], cy = output[n + a], w = output[2 * n + a], h = output[3 * n + a];
    boxes[4 * i] = cx - w / 2;
    boxes[4 * i + 1] = cy - h / 2;
    boxes[4 * i + 2] = cx + w / 2;
    boxes[4 * i + 3] = cy + h / 2;
    classes[i] = cls[src];
    scores[i] = score[src];
  }

  // 4 + 5. NMS, then the first maxDetections survivors in score order.
  const order = byScore(scores, k);
  const suppressed = suppress(boxes, classes, order, iou);
  const out: Detections = { count: 0, boxes: new Float64Array(4 * Math.min(k, maxDetections)), scores: new Float32Array(Math.min(k, maxDetections)), classes: new Int32Array(Math.min(k, maxDetections)) };
  for (let p = 0; p < k && out.count < maxDetections; p++) {
    const i = order[p];
    if (suppressed[i]) continue;
    out.boxes.set(boxes.subarray(4 * i, 4 * i + 4), 4 * out.count);
    out.scores[out.count] = scores[i];
    out.classes[out.count] = classes[i];
    out.count++;
  }
  out.boxes = out.boxes.subarray(0, 4 * out.count);
  out.scores = out.scores.subarray(0, out.count);
  out.classes = out.classes.subarray(0, out.count);
  return out;
}

/**
 * Input-pixel boxes → original-image pixels: minus the padding, divided by the letterbox ratio,
 * clipped to [0, width] × [0, height]. Returns new x1, y1, x2, y2 values.
 */
export function mapBack(
  boxes: Float64Array,
  letterbox: { ratio: number; padLeft: number; padTop: number },
  width: number,
  height: number,
): Float64Array {
  const out = new Float64Array(boxes.length);
  const { ratio, padLeft, padTop } = letterbox;
  const clip = (v: number, hi: number): number => (v < 0 ? 0 : v > hi ? hi : v);
  for (let i = 0; i < boxes.length; i += 4) {
    out[i] = clip((boxes[i] - padLeft) / ratio, width);
    out[i + 1] = clip((boxes[i + 1] - padTop) / ratio, height);
    out[i + 2] = clip((boxes[i + 2] - padLeft) / ratio, width);
    out[i + 3] = clip((boxes[i + 3] - padTop) / ratio, height);
  }
  return out;
}
