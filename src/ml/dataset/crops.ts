/**
 * COCO annotations → classifier crops: every bbox is cut out with sharp, stretched to S×S RGB and
 * scaled to 0..1 floats (NHWC), matching the preprocessing recorded in the ONNX metadata.
 */
import sharp from 'sharp';
import type { Dataset } from '../train/trainer.js';

export type Split = 'train' | 'val' | 'test';

export interface CocoImage {
  id: number | string;
  file_name: string;
  width?: number;
  height?: number;
  /** Optional explicit split; otherwise derived from a hash of the id. */
  split?: Split;
}
export interface CocoAnnotation {
  id: number | string;
  image_id: number | string;
  category_id: number | string;
  bbox: [number, number, number, number]; // x, y, width, height (pixels)
}
export interface CocoCategory {
  id: number | string;
  name: string;
}
export interface CocoDataset {
  images: CocoImage[];
  annotations: CocoAnnotation[];
  categories: CocoCategory[];
}

export interface CropSet {
  train: Dataset;
  val: Dataset;
  test: Dataset;
  imageSize: number;
  /** Annotations not turned into crops, by reason. */
  skipped: { unknownLabel: number; emptyBox: number; unknownImage: number };
}

/** FNV-1a of the id → 80% train, 10% val, 10% test. Stable across runs and machines. */
export function splitForImageId(id: number | string): Split {
  let h = 0x811c9dc5;
  for (const ch of String(id)) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  const bucket = h % 100;
  return bucket < 80 ? 'train' : bucket < 90 ? 'val' : 'test';
}

function splitOf(image: CocoImage): Split {
  return image.split === 'train' || image.split === 'val' || image.split === 'test' ? image.split : splitForImageId(image.id);
}

/** Decodes to raw 8-bit RGB, honouring EXIF orientation (annotators see the oriented image). */
export async function decodeRgb(encoded: Buffer): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(encoded).rotate().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  if (info.channels === 3) return { data, width: info.width, height: info.height };
  const rgb = Buffer.alloc(info.width * info.height * 3);
  for (let p = 0; p < info.width * info.height; p++) {
    for (let c = 0; c < 3; c++) rgb[p * 3 + c] = data[p * info.channels + (info.channels < 3 ? 0 : c)];
  }
  return { data: rgb, width: info.width, height: info.height };
}

/**
 * Crops every annotation whose category name is in `labelToIndex`. Order is deterministic
 * (images in file order, then annotations in file order). Images load up to 4 at a time.
 */
export async function buildCropSet(
  coco: CocoDataset,
  loadImage: (image: CocoImage) => Promise<Buffer>,
  labelToIndex: Record<string, number> | Map<string, number>,
  imageSize: number,
): Promise<CropSet> {
  const lookup = labelToIndex instanceof Map ? labelToIndex : new Map(Object.entries(labelToIndex));
  const categoryLabel = new Map(coco.categories.map((c) => [String(c.id), c.name]));
  const imageIds = new Set(coco.images.map((im) => String(im.id)));
  const skipped = { unknownLabel: 0, emptyBox: 0, unknownImage: 0 };
  const byImage = new Map<string, Array<{ ann: CocoAnnotation; label: number }>>();
  for (const ann of coco.annotations) {
    if (!imageIds.has(String(ann.image_id))) { skipped.unknownImage++; continue; }
    const label = lookup.get(categoryLabel.get(String(ann.category_id)) ?? '');
    if (label === undefined) { skipped.unknownLabel++; continue; }
    const list = byImage.get(String(ann.image_id)) ?? [];
    list.push({ ann, label });
    byImage.set(String(ann.image_id), list);
  }

  const per = imageSize * imageSize * 3;
  const cropImage = async (image: CocoImage) => {
    const anns = byImage.get(String(image.id)) ?? [];
    const crops: Array<{ x: Float32Array; y: number }> = [];
    if (anns.length === 0) return crops;
    const bytes = await loadImage(image);
    const { data, width, height } = await decodeRgb(bytes).catch((e: Error) => {
      throw new Error(`image ${JSON.stringify(image.id)}${image.file_name.startsWith('data:') ? '' : ` (${image.file_name})`} cannot be decoded: ${e.message.split('\n')[0]}`, { cause: e });
    });
    for (const { ann, label } of anns) {
      const [bx, by, bw, bh] = ann.bbox;
      const left = Math.max(0, Math.floor(bx));
      const top = Math.max(0, Math.floor(by));
      const right = Math.min(width, Math.ceil(bx + bw));
      const bottom = Math.min(height, Math.ceil(by + bh));
      if (right - left < 1 || bottom - top < 1) { skipped.emptyBox++; continue; }
      const pixels = await sharp(data, { raw: { width, height, channels: 3 } })
        .extract({ left, top, width: right - left, height: bottom - top })
        .resize(imageSize, imageSize, { fit: 'fill' })
        .raw()
        .toBuffer();
      const x = new Float32Array(per);
      for (let i = 0; i < per; i++) x[i] = pixels[i] / 255;
      crops.push({ x, y: label });
    }
    return crops;
  };

  const results: Array<Awaited<ReturnType<typeof cropImage>>> = new Array(coco.images.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(4, coco.images.length) }, async () => {
    while (next < coco.images.length) {
      const i = next++;
      results[i] = await cropImage(coco.images[i]);
    }
  });
  await Promise.all(workers);

  const parts: Record<Split, Array<{ x: Float32Array; y: number }>> = { train: [], val: [], test: [] };
  coco.images.forEach((image, i) => parts[splitOf(image)].push(...results[i]));
  const pack = (list: Array<{ x: Float32Array; y: number }>): Dataset => {
    const x = new Float32Array(list.length * per);
    list.forEach((c, i) => x.set(c.x, i * per));
    return { x, y: Int32Array.from(list, (c) => c.y) };
  };
  return { train: pack(parts.train), val: pack(parts.val), test: pack(parts.test), imageSize, skipped };
}
