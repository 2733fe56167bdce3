// The approval card's picture: the PNG really shows true boxes in green and predicted ones in red
// where the boxes are (read back pixel by pixel), stays small, and draws names from outside safely.
import { describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import os from 'node:os';
import fs from 'node:fs';
import { previewPhotos, renderDetectionPreview, type PreviewPhoto } from '../../../src/ml/detect/preview.js';
import { storeDetectionPreview } from '../../../src/services/detection-preview.js';
import { LocalArtifactStore, readArtifact } from '../../../src/storage/artifact-store.js';

const grey = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: '#808080' } }).png().toBuffer();

async function pixels(png: Buffer) {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => {
    const o = (Math.round(y) * info.width + Math.round(x)) * info.channels;
    return [data[o], data[o + 1], data[o + 2]];
  };
  return { info, at };
}

const isGreen = ([r, g, b]: number[]) => g > 150 && r < 80 && b < 80;
const isRed = ([r, g, b]: number[]) => r > 200 && g < 80 && b < 80;
const isGrey = ([r, g, b]: number[]) => Math.abs(r - 128) < 8 && Math.abs(g - 128) < 8 && Math.abs(b - 128) < 8;

describe('renderDetectionPreview', () => {
  it('draws a true box green and a predicted box red at their places on the photo', async () => {
    // 720×540 photo into a 360×270 tile: scale 0.5; one photo → one cell at (6, 6).
    const photo: PreviewPhoto = {
      bytes: await grey(720, 540),
      truth: [{ bbox: [100, 100, 200, 160], classId: 1 }],
      predicted: [{ bbox: [400, 200, 200, 200], classId: 2, score: 0.91 }],
    };
    const png = await renderDetectionPreview([photo], { 1: 'Red light', 2: 'Control line' });
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    const { info, at } = await pixels(png);
    expect(info).toMatchObject({ width: 360 + 2 * 6, height: 270 + 2 * 6 });
    const o = 6;
    // True box: x 50..150, y 50..130 in the tile; its left edge at mid-height, its top edge at mid-width.
    expect(isGreen(at(o + 51.5, o + 90))).toBe(true);
    expect(isGreen(at(o + 100, o + 51.5))).toBe(true);
    expect(isGreen(at(o + 148.5, o + 90))).toBe(true);
    // Predicted box: x 200..300, y 100..200; left, right and bottom edges (the label sits on top).
    expect(isRed(at(o + 201.5, o + 150))).toBe(true);
    expect(isRed(at(o + 298.5, o + 150))).toBe(true);
    expect(isRed(at(o + 250, o + 198.5))).toBe(true);
    // Inside both boxes and elsewhere: the photo itself.
    expect(isGrey(at(o + 100, o + 90))).toBe(true);
    expect(isGrey(at(o + 250, o + 150))).toBe(true);
    expect(isGrey(at(o + 20, o + 240))).toBe(true);
  });

  it('skips predictions under the score threshold', async () => {
    const photo: PreviewPhoto = { bytes: await grey(360, 270), truth: [], predicted: [{ bbox: [100, 100, 100, 100], classId: 0, score: 0.1 }] };
    const { at } = await pixels(await renderDetectionPreview([photo], { 0: 'a' }));
    expect(isGrey(at(6 + 101.5, 6 + 150))).toBe(true);
    const { at: at2 } = await pixels(await renderDetectionPreview([photo], { 0: 'a' }, { minScore: 0.05 }));
    expect(isRed(at2(6 + 101.5, 6 + 150))).toBe(true);
  });

  it('puts at most 4 photos in a 2-column grid, with a bounded size, and draws hostile class names as text', async () => {
    const photo = async (w: number, h: number): Promise<PreviewPhoto> => ({
      bytes: await grey(w, h),
      truth: [{ bbox: [10, 10, w / 2, h / 2], classId: 'x' }],
      predicted: [{ bbox: [w / 4, h / 4, w / 2, h / 2], classId: 'x', score: 0.5 }],
    });
    const photos = await Promise.all([photo(4000, 3000), photo(300, 900), photo(640, 480), photo(50, 50), photo(640, 480)]);
    const png = await renderDetectionPreview(photos, { x: '</text><script>alert(1)</script> & "quotes"' });
    const { info, at } = await pixels(png);
    expect(info).toMatchObject({ width: 2 * 360 + 3 * 6, height: 2 * 270 + 3 * 6 });
    expect(png.length).toBeLessThan(300_000);
    // The fourth photo (bottom right, 50×50 scaled to 270×270, centred) shows its green box.
    const left = 6 + 360 + 6 + (360 - 270) / 2, top = 6 + 270 + 6;
    expect(isGreen(at(left + 10 * 5.4 + 1.5, top + 20 * 5.4))).toBe(true);
  });

  it('picks test photos with boxes and their detections from an evaluation', async () => {
    const dir = path.resolve('test/fixtures/detect-eval/case_public/dataset');
    const coco = JSON.parse(await readFile(path.join(dir, 'coco.json'), 'utf8'));
    const detections = JSON.parse(await readFile(path.resolve('test/fixtures/detect-eval/case_public/reference_detections.json'), 'utf8'));
    const loaded: string[] = [];
    const photos = await previewPhotos(coco, detections, async (im) => {
      loaded.push(String(im.file_name));
      return readFile(path.join(dir, String(im.file_name)));
    });
    expect(photos).toHaveLength(4);
    const ids = coco.images.filter((im: { id: number }) => coco.annotations.some((a: { image_id: number }) => a.image_id === im.id)).slice(0, 4).map((im: { file_name: string }) => im.file_name);
    expect(loaded).toEqual(ids);
    for (const p of photos) {
      expect(p.truth.length).toBeGreaterThan(0);
      expect(p.predicted.length).toBeGreaterThan(0);
    }
    const names = Object.fromEntries(coco.categories.map((c: { id: number; name: string }) => [String(c.id), c.name]));
    const png = await renderDetectionPreview(photos, names);
    const { info } = await pixels(png);
    expect(info.width).toBe(2 * 360 + 3 * 6);
  });

  it('is kept as a PNG artifact for the Slack side to post (storeDetectionPreview)', async () => {
    const dir = path.resolve('test/fixtures/detect-eval/case_public/dataset');
    const coco = JSON.parse(await readFile(path.join(dir, 'coco.json'), 'utf8'));
    const detections = JSON.parse(await readFile(path.resolve('test/fixtures/detect-eval/case_public/reference_detections.json'), 'utf8'));
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-preview-'));
    try {
      const store = new LocalArtifactStore(tmp);
      const stored = await storeDetectionPreview(store, coco, detections, (im) => readFile(path.join(dir, String(im.file_name))));
      expect(stored).toMatch(/^images\/[0-9a-f]{64}\.png$/);
      const { info, at } = await pixels(await readArtifact(store, stored));
      expect(info.width).toBe(2 * 360 + 3 * 6);
      // Somewhere in the grid there are green and red box strokes.
      let green = 0, red = 0;
      for (let y = 0; y < info.height; y += 2) for (let x = 0; x < info.width; x += 2) {
        const p = at(x, y);
        if (isGreen(p)) green++;
        if (isRed(p)) red++;
      }
      expect(green).toBeGreaterThan(50);
      expect(red).toBeGreaterThan(50);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
