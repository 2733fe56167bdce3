/**
 * COCO boxes → letterboxed detection samples (train / val / test by the images' split, as for the
 * classifier's crops), the same letterbox an edge and the evaluation apply.
 */
import { DETECT_DEFAULTS } from '../../detect/layout.js';
import { letterbox } from '../../detect/letterbox.js';
import { decodeRgb, splitOf, type CocoDataset, type CocoImage, type Split } from '../../dataset/crops.js';
import type { DetectionSet } from './batch.js';

export const PAD_VALUE = DETECT_DEFAULTS.padValue;

export interface DetectionSets {
  train: DetectionSet;
  val: DetectionSet;
  test: DetectionSet;
  size: number;
  /** Per split, the COCO image ids in sample order. */
  imageIds: Record<Split, Array<number | string>>;
  skipped: { unknownLabel: number; emptyBox: number; unknownImage: number };
}

/**
 * The evaluation's letterbox (src/ml/detect/letterbox.ts) as HWC bytes: its CHW floats are exactly
 * byte / 255, so rounding ×255 gives the bytes back and a set costs a quarter of the memory.
 */
export async function letterboxBytes(rgb: Uint8Array, width: number, height: number, size: number): Promise<{ pixels: Uint8Array; ratio: number; padLeft: number; padTop: number }> {
  const lb = await letterbox(rgb, width, height, { height: size, width: size }, PAD_VALUE);
  const plane = size * size;
  const pixels = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) pixels[p * 3 + c] = (lb.data[c * plane + p] * 255 + 0.5) | 0;
  }
  return { pixels, ratio: lb.ratio, padLeft: lb.padLeft, padTop: lb.padTop };
}

interface Sample { pixels: Uint8Array; boxes: number[]; classes: number[] }

/**
 * Letterboxes every image with at least one box of a label in `labelToIndex` to size×size and maps
 * its boxes into input pixels (clipped; boxes under 1 px after scaling are skipped). Images with
 * no such box are left out. Order is deterministic (file order); images load 4 at a time.
 */
export async function buildDetectionSets(
  coco: CocoDataset,
  loadImage: (image: CocoImage) => Promise<Buffer>,
  labelToIndex: Record<string, number> | Map<string, number>,
  size: number,
): Promise<DetectionSets> {
  const lookup = labelToIndex instanceof Map ? labelToIndex : new Map(Object.entries(labelToIndex));
  const categoryLabel = new Map(coco.categories.map((c) => [String(c.id), c.name]));
  const imageIds = new Set(coco.images.map((im) => String(im.id)));
  const skipped = { unknownLabel: 0, emptyBox: 0, unknownImage: 0 };
  const byImage = new Map<string, Array<{ bbox: number[]; label: number }>>();
  for (const ann of coco.annotations) {
    if (!imageIds.has(String(ann.image_id))) { skipped.unknownImage++; continue; }
    const label = lookup.get(categoryLabel.get(String(ann.category_id)) ?? '');
    if (label === undefined) { skipped.unknownLabel++; continue; }
    const list = byImage.get(String(ann.image_id)) ?? [];
    list.push({ bbox: [...ann.bbox], label });
    byImage.set(String(ann.image_id), list);
  }

  const load = async (image: CocoImage): Promise<Sample | null> => {
    const anns = byImage.get(String(image.id));
    if (!anns?.length) return null;
    const { data, width, height } = await decodeRgb(await loadImage(image));
    const lb = await letterboxBytes(data, width, height, size);
    const sample: Sample = { pixels: lb.pixels, boxes: [], classes: [] };
    for (const { bbox: [x, y, w, h], label } of anns) {
      const clip = (v: number) => Math.min(size, Math.max(0, v));
      const x1 = clip(x * lb.ratio + lb.padLeft), y1 = clip(y * lb.ratio + lb.padTop);
      const x2 = clip((x + w) * lb.ratio + lb.padLeft), y2 = clip((y + h) * lb.ratio + lb.padTop);
      if (x2 - x1 < 1 || y2 - y1 < 1) { skipped.emptyBox++; continue; }
      sample.boxes.push(x1, y1, x2, y2);
      sample.classes.push(label);
    }
    return sample.classes.length ? sample : null;
  };

  const results: Array<Sample | null> = new Array(coco.images.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(4, coco.images.length) }, async () => {
    while (next < coco.images.length) {
      const i = next++;
      results[i] = await load(coco.images[i]);
    }
  }));

  const parts: Record<Split, Array<{ id: number | string; sample: Sample }>> = { train: [], val: [], test: [] };
  coco.images.forEach((image, i) => { if (results[i]) parts[splitOf(image)].push({ id: image.id, sample: results[i]! }); });
  const pack = (list: Array<{ sample: Sample }>): DetectionSet => {
    const per = size * size * 3;
    const pixels = new Uint8Array(list.length * per);
    const offsets = new Int32Array(list.length + 1);
    list.forEach(({ sample }, i) => {
      pixels.set(sample.pixels, i * per);
      offsets[i + 1] = offsets[i] + sample.classes.length;
    });
    return {
      size, count: list.length, pixels, offsets,
      boxes: Float32Array.from(list.flatMap(({ sample }) => sample.boxes)),
      classes: Int32Array.from(list.flatMap(({ sample }) => sample.classes)),
    };
  };
  return {
    train: pack(parts.train), val: pack(parts.val), test: pack(parts.test), size, skipped,
    imageIds: { train: parts.train.map((p) => p.id), val: parts.val.map((p) => p.id), test: parts.test.map((p) => p.id) },
  };
}
