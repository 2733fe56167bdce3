// COCO.loadRes + COCOeval._prepare: select, order and bucket boxes per (category, image)
// into flat typed arrays, reproducing pycocotools' iteration order exactly (it decides
// tie-breaks between equal scores).
import {
  CocoInputError,
  type CocoDetection,
  type CocoGroundTruth,
  type CocoId,
} from './coco-types.js';

export interface PreparedCoco {
  imgIds: CocoId[];
  catIds: CocoId[];
  catNames: string[];
  /** Per category: evaluated GT boxes (crowd included) and detections. */
  numGtPerCat: Int32Array;
  numDtPerCat: Int32Array;
  // Ground truth in bucket order; inside a bucket in pycocotools' order.
  gtBox: Float64Array; // x, y, w, h per box
  gtArea: Float64Array;
  gtCrowd: Uint8Array;
  /** pycocotools stores the matched GT id in dtMatches, so a GT id of 0 reads as "unmatched". */
  gtIdIsZero: Uint8Array;
  // Detections in bucket order; inside a bucket stable-sorted by descending score.
  dtBox: Float64Array;
  dtArea: Float64Array; // loadRes sets area = w*h
  dtScore: Float64Array;
  // Non-empty (category, image) buckets in ascending (category, image) order.
  bucketCat: Int32Array;
  bucketGtStart: Int32Array; // bucket b owns gt [bucketGtStart[b], bucketGtStart[b+1])
  bucketDtStart: Int32Array;
}

/** np.unique on ids: sorted ascending, duplicates dropped; mixed number/string is rejected. */
function sortedUniqueIds(ids: CocoId[], what: string): CocoId[] {
  const uniq = [...new Set(ids)];
  if (uniq.length === 0) return uniq;
  const kind = typeof uniq[0];
  if (uniq.some((v) => typeof v !== kind)) {
    throw new CocoInputError('gt', `${what} mix numbers and strings; use one type`);
  }
  return kind === 'number'
    ? (uniq as number[]).sort((a, b) => a - b)
    : (uniq as string[]).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** id -> position (-1 if absent); a dense table when ids are small non-negative integers. */
function idLookup(ids: CocoId[]): (id: CocoId) => number {
  let maxId = -1;
  for (const id of ids) maxId = typeof id === 'number' && Number.isInteger(id) && id >= 0 ? Math.max(maxId, id) : Infinity;
  if (maxId <= 4 * ids.length + 65536) {
    const table = new Int32Array(maxId + 1).fill(-1);
    ids.forEach((id, i) => { table[id as number] = i; });
    return (id) => (typeof id === 'number' && id >= 0 && id <= maxId && Number.isInteger(id) ? table[id] : -1);
  }
  const m = new Map<CocoId, number>();
  ids.forEach((id, i) => m.set(id, i));
  return (id) => m.get(id) ?? -1;
}

/**
 * Stable counting sort of `items` by `keyOf[item]` in [0, nKeys): O(n + nKeys), no comparator.
 * Two passes (image, then category) give pycocotools' (category, image, file order) order.
 */
function stableSortByKey(items: Int32Array, keyOf: Int32Array, nKeys: number): Int32Array {
  const start = new Int32Array(nKeys + 1);
  for (let i = 0; i < items.length; i++) start[keyOf[items[i]] + 1]++;
  for (let k = 0; k < nKeys; k++) start[k + 1] += start[k];
  const out = new Int32Array(items.length);
  for (let i = 0; i < items.length; i++) out[start[keyOf[items[i]]]++] = items[i];
  return out;
}

/** Image and category index of each item (-1 when not evaluated) and the evaluated items. */
function indexItems(
  items: readonly { image_id: CocoId; category_id: CocoId }[],
  imgIndex: (id: CocoId) => number,
  catIndex: (id: CocoId) => number,
): { img: Int32Array; cat: Int32Array; kept: Int32Array } {
  const n = items.length;
  const img = new Int32Array(n);
  const cat = new Int32Array(n);
  const kept = new Int32Array(n);
  let nk = 0;
  for (let i = 0; i < n; i++) {
    img[i] = imgIndex(items[i].image_id);
    cat[i] = catIndex(items[i].category_id);
    if (img[i] >= 0 && cat[i] >= 0) kept[nk++] = i;
  }
  return { img, cat, kept: kept.subarray(0, nk) };
}

/**
 * Stable sort of sel[lo, hi) (and its scores) by descending score. Buckets are tiny, so
 * insertion sort; strict comparison keeps equal scores in file order, like mergesort.
 */
function sortBucketByScore(sel: Int32Array, score: Float64Array, lo: number, hi: number): void {
  if (hi - lo > 64) {
    const idx = Array.from(sel.subarray(lo, hi), (item, p) => ({ item, s: score[lo + p], p }));
    idx.sort((x, y) => y.s - x.s || x.p - y.p);
    idx.forEach((e, p) => { sel[lo + p] = e.item; score[lo + p] = e.s; });
    return;
  }
  for (let i = lo + 1; i < hi; i++) {
    const item = sel[i];
    const s = score[i];
    let j = i - 1;
    while (j >= lo && score[j] < s) {
      sel[j + 1] = sel[j];
      score[j + 1] = score[j];
      j--;
    }
    sel[j + 1] = item;
    score[j + 1] = s;
  }
}

export function prepareCoco(gt: CocoGroundTruth, dets: readonly CocoDetection[]): PreparedCoco {
  const imgIds = sortedUniqueIds(gt.images.map((im) => im.id), 'image ids');
  const catIds = sortedUniqueIds(gt.categories.map((c) => c.id), 'category ids');
  const imgIndex = idLookup(imgIds);
  const catIndex = idLookup(catIds);
  const nImg = imgIds.length;
  const nCat = catIds.length;
  const nameById = new Map<CocoId, string>();
  for (const c of gt.categories) nameById.set(c.id, c.name ?? String(c.id));
  const catNames = catIds.map((id) => nameById.get(id) ?? String(id));

  // loadRes refuses detections on images the ground truth does not list.
  const d = indexItems(dets, imgIndex, catIndex);
  for (let i = 0; i < dets.length; i++) {
    if (d.img[i] < 0) {
      throw new CocoInputError(
        'dt',
        `detection [${i}] has image_id ${JSON.stringify(dets[i].image_id)}, which is not an image of the ground truth`,
      );
    }
  }

  // --- ground truth: getAnnIds order (by image, file order inside), then bucket order ---
  const anns = gt.annotations;
  const g = indexItems(anns, imgIndex, catIndex);
  let gtSel = stableSortByKey(g.kept, g.img, nImg);
  // COCO.loadAnns looks annotations up by id, so a duplicated id resolves to the last one
  // (which may even sit on another image or category).
  const lastById = new Map<number, number>();
  for (let i = 0; i < anns.length; i++) lastById.set(anns[i].id, i);
  if (lastById.size !== anns.length) {
    gtSel = gtSel.map((i) => lastById.get(anns[i].id)!).filter((i) => g.img[i] >= 0 && g.cat[i] >= 0);
    gtSel = stableSortByKey(gtSel, g.img, nImg);
  }
  gtSel = stableSortByKey(gtSel, g.cat, nCat);

  const nG = gtSel.length;
  const gtBox = new Float64Array(nG * 4);
  const gtArea = new Float64Array(nG);
  const gtCrowd = new Uint8Array(nG);
  const gtIdIsZero = new Uint8Array(nG);
  const numGtPerCat = new Int32Array(nCat);
  for (let j = 0; j < nG; j++) {
    const i = gtSel[j];
    const a = anns[i];
    const bb = a.bbox;
    gtBox[j * 4] = bb[0];
    gtBox[j * 4 + 1] = bb[1];
    gtBox[j * 4 + 2] = bb[2];
    gtBox[j * 4 + 3] = bb[3];
    gtArea[j] = a.area;
    gtCrowd[j] = a.iscrowd ? 1 : 0; // _prepare: ignore = iscrowd (any 'ignore' field is overwritten)
    gtIdIsZero[j] = a.id === 0 ? 1 : 0;
    numGtPerCat[g.cat[i]]++;
  }

  // --- detections: same bucket order, then np.argsort(-score, kind='mergesort') per bucket ---
  const dtSel = stableSortByKey(stableSortByKey(d.kept, d.img, nImg), d.cat, nCat);
  const nD = dtSel.length;
  const dtBox = new Float64Array(nD * 4);
  const dtArea = new Float64Array(nD);
  const dtScore = new Float64Array(nD);
  const numDtPerCat = new Int32Array(nCat);
  for (let j = 0; j < nD; j++) {
    const i = dtSel[j];
    dtScore[j] = dets[i].score;
    numDtPerCat[d.cat[i]]++;
  }

  // --- buckets: runs of equal (category, image) in both sorted streams ---
  const keyOf = (cat: number, img: number): number => cat * nImg + img;
  const gtKey = (j: number): number => (j < nG ? keyOf(g.cat[gtSel[j]], g.img[gtSel[j]]) : Infinity);
  const dtKey = (j: number): number => (j < nD ? keyOf(d.cat[dtSel[j]], d.img[dtSel[j]]) : Infinity);
  const bucketCat: number[] = [];
  const bucketGtStart: number[] = [];
  const bucketDtStart: number[] = [];
  let gi = 0;
  let di = 0;
  while (gi < nG || di < nD) {
    const key = Math.min(gtKey(gi), dtKey(di));
    bucketCat.push(Math.floor(key / nImg));
    bucketGtStart.push(gi);
    bucketDtStart.push(di);
    while (gtKey(gi) === key) gi++;
    const d0 = di;
    while (dtKey(di) === key) di++;
    sortBucketByScore(dtSel, dtScore, d0, di);
  }
  bucketGtStart.push(nG);
  bucketDtStart.push(nD);

  for (let j = 0; j < nD; j++) {
    const bb = dets[dtSel[j]].bbox;
    dtBox[j * 4] = bb[0];
    dtBox[j * 4 + 1] = bb[1];
    dtBox[j * 4 + 2] = bb[2];
    dtBox[j * 4 + 3] = bb[3];
    dtArea[j] = bb[2] * bb[3]; // loadRes sets area = w*h
  }

  return {
    imgIds,
    catIds,
    catNames,
    numGtPerCat,
    numDtPerCat,
    gtBox,
    gtArea,
    gtCrowd,
    gtIdIsZero,
    dtBox,
    dtArea,
    dtScore,
    bucketCat: Int32Array.from(bucketCat),
    bucketGtStart: Int32Array.from(bucketGtStart),
    bucketDtStart: Int32Array.from(bucketDtStart),
  };
}
