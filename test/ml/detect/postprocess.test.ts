import { describe, expect, it } from '@jest/globals';
import { CLASS_OFFSET, decodeDetections, mapBack } from '../../../src/ml/detect/postprocess.js';
import { seededRandom } from '../../../src/ml/random.js';
import { candidates } from '../../helpers/detector-onnx.js';

type Cand = { box: [number, number, number, number]; scores: number[] };
const decode = (nc: number, list: Cand[], opts = {}) => decodeDetections(candidates(nc, list), nc, list.length, opts);
const boxesOf = (d: ReturnType<typeof decodeDetections>) => Array.from({ length: d.count }, (_, i) => Array.from(d.boxes.subarray(4 * i, 4 * i + 4)));

describe('decodeDetections', () => {
  it('turns cx, cy, w, h into x1, y1, x2, y2 and keeps the float32 score', () => {
    const d = decode(2, [{ box: [10, 20, 4, 6.5], scores: [0.0005, 0.9] }]);
    expect(d.count).toBe(1);
    expect(boxesOf(d)).toEqual([[8, 16.75, 12, 23.25]]);
    expect(d.classes[0]).toBe(1);
    expect(d.scores[0]).toBe(Math.fround(0.9));
  });

  it('keeps every class above the threshold (multi-label), strictly above it', () => {
    const thr = Math.fround(0.001);
    const above = new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([thr]).buffer)[0] + 1]).buffer)[0];
    const d = decode(3, [{ box: [50, 50, 10, 10], scores: [0.5, thr, above] }, { box: [150, 150, 10, 10], scores: [0.0009, 0, 0.3] }]);
    expect(Array.from(d.classes)).toEqual([0, 2, 2]);
    expect(Array.from(d.scores)).toEqual([Math.fround(0.5), Math.fround(0.3), above]);
    // Another threshold, still strict.
    expect(decode(1, [{ box: [5, 5, 2, 2], scores: [0.25] }], { confThreshold: 0.25 }).count).toBe(0);
  });

  it('orders equal scores by candidate: anchor first, then class', () => {
    const d = decode(2, [
      { box: [10, 10, 4, 4], scores: [0.5, 0.5] },
      { box: [100, 100, 4, 4], scores: [0.5, 0.6] },
    ]);
    expect(Array.from(d.classes)).toEqual([1, 0, 1, 0]);
    expect(boxesOf(d).map((b) => b[0])).toEqual([98, 8, 8, 98]);
  });

  it('keeps a box whose IoU with a kept box is exactly 0.7 and drops one just above', () => {
    // [0,0,10,10] vs [0,0,10,7]: IoU = 70 / 100 = 0.7 exactly.
    for (const cls of [0, 1, 2]) {
      const scores = (s: number) => [0, 1, 2].map((c) => (c === cls ? s : 0));
      const equal = decode(3, [{ box: [5, 5, 10, 10], scores: scores(0.9) }, { box: [5, 3.5, 10, 7], scores: scores(0.8) }]);
      expect(equal.count).toBe(2);
      const above = decode(3, [{ box: [5, 5, 10, 10], scores: scores(0.9) }, { box: [5, 3.5, 10, 7.25], scores: scores(0.8) }]);
      expect(above.count).toBe(1);
      expect(above.scores[0]).toBe(Math.fround(0.9));
    }
  });

  it('never suppresses across classes', () => {
    const d = decode(2, [{ box: [20, 20, 10, 10], scores: [0.9, 0.8] }]);
    expect(d.count).toBe(2);
    expect(boxesOf(d)).toEqual([[15, 15, 25, 25], [15, 15, 25, 25]]);
  });

  it('a suppressed box suppresses nothing (greedy in score order)', () => {
    // A overlaps B, B overlaps C, A and C overlap less: keep A and C.
    const d = decode(1, [
      { box: [10, 5, 10, 10], scores: [0.9] }, // A [5,0,15,10]
      { box: [11, 5, 10, 10], scores: [0.8] }, // B [6,0,16,10]: IoU(A,B) = 90/110
      { box: [12.5, 5, 10, 10], scores: [0.7] }, // C [7.5,0,17.5,10]: IoU(A,C) = 75/125 = 0.6, IoU(B,C) = 85/115
    ]);
    expect(Array.from(d.scores)).toEqual([Math.fround(0.9), Math.fround(0.7)]);
  });

  it('keeps zero-area boxes (IoU 0 or 0/0, never > 0.7)', () => {
    const d = decode(1, [{ box: [10, 10, 0, 5], scores: [0.9] }, { box: [10, 10, 0, 5], scores: [0.8] }, { box: [10, 10, 4, 4], scores: [0.7] }]);
    expect(d.count).toBe(3);
  });

  it('caps candidates by score before NMS and detections after it', () => {
    const far = (i: number, s: number): Cand => ({ box: [20 * i + 10, 10, 8, 8], scores: [s] });
    const list = [far(0, 0.3), far(1, 0.9), far(2, 0.5), far(3, 0.7), far(4, 0.1)];
    const capped = decode(1, list, { maxCandidates: 3 });
    expect(Array.from(capped.scores)).toEqual([0.9, 0.7, 0.5].map(Math.fround));
    const top2 = decode(1, list, { maxDetections: 2 });
    expect(Array.from(top2.scores)).toEqual([0.9, 0.7].map(Math.fround));
    // The candidate cap decides what NMS sees: the box that would suppress the second is gone.
    const overlap = decode(1, [{ box: [10, 10, 8, 8], scores: [0.5] }, { box: [10, 10, 8, 8], scores: [0.4] }, far(3, 0.9), far(4, 0.8)], { maxCandidates: 3 });
    expect(Array.from(overlap.scores)).toEqual([0.9, 0.8, 0.5].map(Math.fround));
  });

  it('matches a global greedy NMS over class-shifted boxes (torchvision.ops.nms) on random candidates', () => {
    const rnd = seededRandom(7);
    const nc = 3;
    const list: Cand[] = Array.from({ length: 400 }, () => ({
      box: [rnd() * 100, rnd() * 100, 5 + rnd() * 30, 5 + rnd() * 30],
      scores: [0, 1, 2].map(() => (rnd() < 0.5 ? rnd() : 0)),
    }));
    const d = decode(nc, list, { maxDetections: 10_000 });
    // Reference: every (anchor, class) pair, sorted by score (stable), greedy over all pairs.
    const pairs: Array<{ b: number[]; s: number; c: number }> = [];
    for (const { box: [cx, cy, w, h], scores } of list) {
      const [fcx, fcy, fw, fh] = [cx, cy, w, h].map(Math.fround);
      scores.forEach((s, c) => { if (Math.fround(s) > Math.fround(0.001)) pairs.push({ b: [fcx - fw / 2, fcy - fh / 2, fcx + fw / 2, fcy + fh / 2], s: Math.fround(s), c }); });
    }
    const order = pairs.map((_, i) => i).sort((a, b) => pairs[b].s - pairs[a].s || a - b);
    const shifted = pairs.map((p) => p.b.map((v) => v + p.c * CLASS_OFFSET));
    const area = shifted.map((b) => (b[2] - b[0]) * (b[3] - b[1]));
    const dead = new Set<number>();
    const kept: number[] = [];
    for (let x = 0; x < order.length; x++) {
      const i = order[x];
      if (dead.has(i)) continue;
      kept.push(i);
      for (let y = x + 1; y < order.length; y++) {
        const j = order[y];
        const w = Math.max(0, Math.min(shifted[i][2], shifted[j][2]) - Math.max(shifted[i][0], shifted[j][0]));
        const h = Math.max(0, Math.min(shifted[i][3], shifted[j][3]) - Math.max(shifted[i][1], shifted[j][1]));
        if ((w * h) / (area[i] + area[j] - w * h) > 0.7) dead.add(j);
      }
    }
    expect(kept.length).toBeGreaterThan(100);
    expect(kept.length).toBeLessThan(pairs.length);
    expect(Array.from(d.scores)).toEqual(kept.map((i) => pairs[i].s));
    expect(Array.from(d.classes)).toEqual(kept.map((i) => pairs[i].c));
    expect(boxesOf(d)).toEqual(kept.map((i) => pairs[i].b));
  });

  it('refuses an output of the wrong length', () => {
    expect(() => decodeDetections(new Float32Array(10), 3, 2)).toThrow('detector output holds 10 values, not (4 + 3) × 2');
  });
});

describe('mapBack', () => {
  it('removes the padding, divides by the ratio and clips to the image', () => {
    const boxes = Float64Array.from([
      10, 50, 30, 70, // inside
      -4, 30, 20, 40, // left of the image
      300, 250, 330, 290, // past the right and bottom
      5, 2, 9, 8, // entirely in the top padding → zero height
    ]);
    const out = mapBack(boxes, { ratio: 0.5, padLeft: 2, padTop: 20 }, 640, 520);
    expect(Array.from(out)).toEqual([16, 60, 56, 100, 0, 20, 36, 40, 596, 460, 640, 520, 6, 0, 14, 0]);
  });
});
