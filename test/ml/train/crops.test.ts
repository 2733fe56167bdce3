import sharp from 'sharp';
import { buildCropSet, splitForImageId, type CocoDataset } from '../../../src/ml/dataset/crops.js';
import { DISTRACTOR_LABEL, generateSyntheticKit } from '../../helpers/synthetic-kit.js';

const S = 16;

describe('synthetic kit', () => {
  it('is deterministic for a seed and differs between seeds', async () => {
    const a = await generateSyntheticKit({ seed: 5, images: 6 });
    const b = await generateSyntheticKit({ seed: 5, images: 6 });
    const c = await generateSyntheticKit({ seed: 6, images: 6 });
    expect(b.coco).toEqual(a.coco);
    for (const [name, png] of a.png) expect(b.png.get(name)!.equals(png)).toBe(true);
    expect(c.coco.annotations).not.toEqual(a.coco.annotations);
  });
});

describe('buildCropSet', () => {
  it('crops every labelled bbox into the split its image declares, skipping unknown labels', async () => {
    const kit = await generateSyntheticKit({ seed: 2, images: 20, distractors: true });
    const labelToIndex = new Map(kit.labels.map((l, i) => [l, i]));
    const set = await buildCropSet(kit.coco, kit.loadImage, labelToIndex, S);
    const distractorId = kit.coco.categories.find((c) => c.name === DISTRACTOR_LABEL)!.id;
    const expected = { train: [] as number[], val: [] as number[], test: [] as number[] };
    for (const im of kit.coco.images) {
      for (const a of kit.coco.annotations) {
        if (a.image_id === im.id && a.category_id !== distractorId) {
          expected[im.split!].push(labelToIndex.get(kit.coco.categories.find((c) => c.id === a.category_id)!.name)!);
        }
      }
    }
    for (const split of ['train', 'val', 'test'] as const) {
      expect(Array.from(set[split].y)).toEqual(expected[split]);
      expect(set[split].x.length).toBe(expected[split].length * S * S * 3);
      expect(set[split].x.every((v) => v >= 0 && v <= 1)).toBe(true);
    }
    expect(set.skipped.unknownLabel).toBe(kit.coco.annotations.filter((a) => a.category_id === distractorId).length);
    expect(set.skipped.unknownLabel).toBeGreaterThan(0);
    // Deterministic: the same input gives bit-identical crops.
    const again = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(labelToIndex), S);
    expect(Buffer.from(again.train.x.buffer).equals(Buffer.from(set.train.x.buffer))).toBe(true);
  });

  it('derives the split from a hash of the image id when none is given (≈ 80/10/10)', async () => {
    const counts = { train: 0, val: 0, test: 0 };
    for (let id = 0; id < 5000; id++) counts[splitForImageId(id)]++;
    expect(counts.train / 5000).toBeCloseTo(0.8, 1);
    expect(counts.val / 5000).toBeCloseTo(0.1, 1);
    expect(counts.test / 5000).toBeCloseTo(0.1, 1);
    expect(splitForImageId('img-42')).toBe(splitForImageId('img-42'));

    const kit = await generateSyntheticKit({ seed: 3, images: 12, splitMode: 'hash' });
    const set = await buildCropSet(kit.coco, kit.loadImage, Object.fromEntries(kit.labels.map((l, i) => [l, i])), S);
    const perSplit = { train: 0, val: 0, test: 0 };
    for (const im of kit.coco.images) perSplit[splitForImageId(im.id)] += kit.coco.annotations.filter((a) => a.image_id === im.id).length;
    expect([set.train.y.length, set.val.y.length, set.test.y.length]).toEqual([perSplit.train, perSplit.val, perSplit.test]);
  });

  it('cuts the exact pixels, clamps boxes to the image, and normalises grey/alpha images to RGB', async () => {
    // 40×30: left half pure red, right half pure blue.
    const raw = Buffer.alloc(40 * 30 * 3);
    for (let p = 0; p < 40 * 30; p++) raw[p * 3 + ((p % 40) < 20 ? 0 : 2)] = 255;
    const rgb = await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } }).png().toBuffer();
    const grey = await sharp(Buffer.alloc(10 * 10, 128), { raw: { width: 10, height: 10, channels: 1 } }).png().toBuffer();
    const rgba = await sharp(raw, { raw: { width: 40, height: 30, channels: 3 } }).ensureAlpha(0.5).png().toBuffer();
    const coco: CocoDataset = {
      images: [
        { id: 'a', file_name: 'rgb.png', split: 'train' },
        { id: 'b', file_name: 'grey.png', split: 'train' },
        { id: 'c', file_name: 'rgba.png', split: 'train' },
      ],
      categories: [{ id: 1, name: 'red' }, { id: 2, name: 'blue' }, { id: 3, name: 'grey' }],
      annotations: [
        { id: 1, image_id: 'a', category_id: 1, bbox: [2, 3, 10.5, 8] },
        { id: 2, image_id: 'a', category_id: 2, bbox: [30, 20, 50, 50] }, // runs off the image: clamped
        { id: 3, image_id: 'a', category_id: 1, bbox: [5, 5, 0, 4] }, // empty
        { id: 4, image_id: 'b', category_id: 3, bbox: [0, 0, 10, 10] },
        { id: 5, image_id: 'c', category_id: 2, bbox: [25, 0, 10, 10] },
        { id: 6, image_id: 'missing', category_id: 1, bbox: [0, 0, 1, 1] },
      ],
    };
    const files: Record<string, Buffer> = { 'rgb.png': rgb, 'grey.png': grey, 'rgba.png': rgba };
    const set = await buildCropSet(coco, async (im) => files[im.file_name], { red: 0, blue: 1, grey: 2 }, 4);
    expect(Array.from(set.train.y)).toEqual([0, 1, 2, 1]);
    expect(set.skipped).toEqual({ unknownLabel: 0, emptyBox: 1, unknownImage: 1 });
    const pixel = (crop: number, p: number) => Array.from(set.train.x.subarray((crop * 16 + p) * 3, (crop * 16 + p) * 3 + 3));
    for (let p = 0; p < 16; p++) {
      expect(pixel(0, p)).toEqual([1, 0, 0]);
      expect(pixel(1, p)).toEqual([0, 0, 1]);
      expect(pixel(2, p).map((v) => Math.round(v * 255))).toEqual([128, 128, 128]);
      expect(pixel(3, p)).toEqual([0, 0, 1]); // alpha dropped, colour kept
    }
  });

  it('names the image that does not decode', async () => {
    const coco: CocoDataset = {
      images: [{ id: 7, file_name: 'photos/broken.png', split: 'test' }],
      categories: [{ id: 1, name: 'red' }],
      annotations: [{ id: 1, image_id: 7, category_id: 1, bbox: [0, 0, 4, 4] }],
    };
    await expect(buildCropSet(coco, async () => Buffer.from('not an image'), { red: 0 }, 4))
      .rejects.toThrow(/^image 7 \(photos\/broken\.png\) cannot be decoded: Input buffer contains unsupported image format$/);
  });
});
