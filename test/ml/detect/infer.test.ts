import '../../helpers/node-realm.js'; // onnxruntime-node inside jest
// The edge's side of a detector: one photo through the downloaded ONNX gives the reference
// pipeline's boxes (those scoring ≥ 0.25, the edge's threshold), named by the model's classes.
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { detectObjects, EdgeDetector } from '../../../src/ml/detect/infer.js';
import { DetectorLayoutError } from '../../../src/ml/detect/layout.js';

const CASE = path.resolve('test/fixtures/detect-eval/case_public');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(CASE, f), 'utf8'));
const model = () => fs.readFileSync(path.join(CASE, 'model.onnx'));

describe('detectObjects', () => {
  it('finds on a photo what the reference pipeline found there (score ≥ 0.25), with class names', async () => {
    const coco = readJson('dataset/coco.json');
    const reference: Array<{ image_id: number; category_id: number; bbox: number[]; score: number }> = readJson('reference_detections.json');
    const catName = new Map<number, string>(coco.categories.map((c: { id: number; name: string }) => [c.id, c.name]));
    const detector = await EdgeDetector.load(model());
    try {
      for (const image of coco.images.slice(0, 3) as Array<{ id: number; file_name: string; width: number; height: number }>) {
        const expected = reference.filter((r) => r.image_id === image.id && r.score >= 0.25);
        expect(expected.length).toBeGreaterThan(0);
        const found = await detector.detect(fs.readFileSync(path.join(CASE, 'dataset', image.file_name)));
        expect({ width: found.width, height: found.height }).toEqual({ width: image.width, height: image.height });
        expect(found.objects.map((o) => o.className)).toEqual(expected.map((r) => catName.get(r.category_id)));
        found.objects.forEach((o, i) => {
          expect(Math.abs(o.score - expected[i].score)).toBeLessThanOrEqual(1e-5);
          for (let k = 0; k < 4; k++) expect(Math.abs(o.bbox[k] - expected[i].bbox[k])).toBeLessThanOrEqual(1e-3);
        });
      }
    } finally {
      await detector.release();
    }
  });

  it('takes the score threshold an edge is configured with', async () => {
    const photo = fs.readFileSync(path.join(CASE, 'dataset/images/0001.png'));
    const strict = await detectObjects(model(), photo, { confThreshold: 0.9 });
    const loose = await detectObjects(model(), photo, { confThreshold: 0.05 });
    expect(loose.objects.length).toBeGreaterThan(strict.objects.length);
    for (const o of strict.objects) expect(o.score).toBeGreaterThan(0.9);
  });

  it('refuses a file that is not an Ultralytics-layout detector, saying why', async () => {
    const photo = fs.readFileSync(path.join(CASE, 'dataset/images/0001.png'));
    await expect(detectObjects(model().subarray(0, 200), photo)).rejects.toThrow(DetectorLayoutError);
    await expect(detectObjects(model().subarray(0, 200), photo)).rejects.toThrow(/not a readable ONNX file \(truncated or not ONNX\)/);
    await expect(detectObjects(Buffer.from('not an onnx file'), photo)).rejects.toThrow(DetectorLayoutError);
  });
});
