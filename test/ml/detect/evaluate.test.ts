import '../../helpers/node-realm.js'; // onnxruntime-node inside jest
import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { DetectionDatasetError, evaluateDetector, type DetectionDataset, type DetectionImage } from '../../../src/ml/detect/evaluate.js';
import { DetectorLayoutError } from '../../../src/ml/detect/layout.js';
import { CorruptArtifactError } from '../../../src/ml/onnx/errors.js';
import { candidates, tinyDetectorOnnx } from '../../helpers/detector-onnx.js';

const CASE = path.resolve('test/fixtures/detect-eval/case_public');
const readJson = (f: string) => JSON.parse(fs.readFileSync(path.join(CASE, f), 'utf8'));
const STATS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'] as const;

describe('evaluateDetector on the public reference case', () => {
  it('reproduces the reference detections and pycocotools\' numbers', async () => {
    const coco = readJson('dataset/coco.json');
    const expected = readJson('expected.json');
    const reference: Array<{ image_id: number; category_id: number; bbox: number[]; score: number }> = readJson('reference_detections.json');
    const res = await evaluateDetector(fs.readFileSync(path.join(CASE, 'model.onnx')), coco, async (im) => fs.readFileSync(path.join(CASE, 'dataset', im.file_name!)));

    // Same detections per image, in the same order (score descending, NMS output order).
    expect(res.detections).toHaveLength(reference.length);
    let maxBox = 0;
    let maxScore = 0;
    res.detections.forEach((d, i) => {
      const r = reference[i];
      expect([d.image_id, d.category_id]).toEqual([r.image_id, r.category_id]);
      for (let k = 0; k < 4; k++) maxBox = Math.max(maxBox, Math.abs(d.bbox[k] - r.bbox[k]));
      maxScore = Math.max(maxScore, Math.abs(d.score - r.score));
    });
    expect(maxBox).toBeLessThanOrEqual(1e-3);
    expect(maxScore).toBeLessThanOrEqual(1e-5);

    const m = res.metrics;
    for (const k of STATS) expect(Math.abs(m[k] - expected[k])).toBeLessThanOrEqual(1e-4);
    expect({ task: m.task, images: m.images, detections: m.detections }).toEqual({ task: 'detect', images: 76, detections: expected.detections });
    expect(Object.keys(m.per_class)).toEqual(['red_light', 'yellow_light', 'green_light']);
    for (const [name, e] of Object.entries<Record<string, number>>(expected.per_class)) {
      const c = m.per_class[name];
      expect([c.category_id, c.num_gt, c.num_dets]).toEqual([e.category_id, e.num_gt, e.num_dets]);
      for (const k of ['AP', 'AP50', 'AP75', 'AR100'] as const) expect(Math.abs(c[k] - e[k])).toBeLessThanOrEqual(1e-4);
    }
    // Precision / recall at score ≥ 0.25, IoU 0.5, from pycocotools' evalImgs (area all, maxDets 100):
    // red 102 TP / 30 FP / 3 FN, yellow 117 / 58 / 9, green 110 / 81 / 5.
    expect(m.per_class.red_light).toMatchObject({ precision: 102 / 132, recall: 102 / 105 });
    expect(m.per_class.yellow_light).toMatchObject({ precision: 117 / 175, recall: 117 / 126 });
    expect(m.per_class.green_light).toMatchObject({ precision: 110 / 191, recall: 110 / 115 });

    expect(res.info.names).toEqual(['red_light', 'yellow_light', 'green_light']);
    expect(res.timing.imagesPerSecond).toBeGreaterThan(0);
  });
});

// A fixed-output detector (input 16×16) and images of other sizes, so letterbox resizes (r ≠ 1).
const png = (width: number, height: number) => sharp({ create: { width, height, channels: 3, background: { r: 90, g: 120, b: 200 } } }).png().toBuffer();
const names = ['a', 'b'];
// Candidate 0: class a, box [4, 6, 12, 10]; candidate 1: class b, box [2, 4, 6, 8] (input pixels).
const fixed = tinyDetectorOnnx({ names, inputSize: [16, 16], n: 2, output: candidates(2, [{ box: [8, 8, 8, 4], scores: [0.9, 0] }, { box: [4, 6, 4, 4], scores: [0, 0.6] }]) });

async function smallSet(): Promise<{ coco: DetectionDataset; files: Record<string, Buffer> }> {
  // 64×32: r = 0.25, 4 rows of padding on top. 20×40: r = 0.4, 4 columns on the left.
  const files = { 'wide.png': await png(64, 32), 'tall.png': await png(20, 40) };
  return {
    files,
    coco: {
      images: [{ id: 1, file_name: 'wide.png', width: 64, height: 32 }, { id: 2, file_name: 'tall.png', width: 20, height: 40 }],
      // Category ids are not class indices and not in model order: mapping is by name.
      categories: [{ id: 5, name: 'b' }, { id: 9, name: 'a' }],
      annotations: [
        { id: 1, image_id: 1, category_id: 9, bbox: [16, 8, 32, 16] },
        { id: 2, image_id: 1, category_id: 5, bbox: [8, 0, 16, 16] },
        { id: 3, image_id: 2, category_id: 9, bbox: [0, 15, 20, 10] },
        { id: 4, image_id: 2, category_id: 5, bbox: [0, 10, 5, 10] },
      ],
    },
  };
}

describe('evaluateDetector on resized images', () => {
  it('maps boxes back through padding and ratio, clips them, and finds categories by name', async () => {
    const { coco, files } = await smallSet();
    const res = await evaluateDetector(fixed, coco, async (im) => files[im.file_name!]);
    expect(res.detections.map((d) => [d.image_id, d.category_id, d.score])).toEqual([[1, 9, Math.fround(0.9)], [1, 5, Math.fround(0.6)], [2, 9, Math.fround(0.9)], [2, 5, Math.fround(0.6)]]);
    const expectedBoxes = [[16, 8, 32, 16], [8, 0, 16, 16], [0, 15, 20, 10], [0, 10, 5, 10]]; // the last one clipped at x = 0
    res.detections.forEach((d, i) => d.bbox.forEach((v, k) => expect(v).toBeCloseTo(expectedBoxes[i][k], 9)));
    expect(res.metrics.AP).toBeCloseTo(1, 12);
    expect(res.metrics.per_class.a).toMatchObject({ category_id: 9, num_gt: 2, num_dets: 2, precision: 1, recall: 1 });
    expect(res.metrics.per_class.b).toMatchObject({ category_id: 5, num_gt: 2, num_dets: 2, precision: 1, recall: 1 });
  });

  it('uses the area field when present and w·h when the dataset has none', async () => {
    const { coco, files } = await smallSet();
    // 32×16 = 512 < 32²: small. Declaring it large moves it out of APs.
    const declared = { ...coco, annotations: coco.annotations.map((a) => ({ ...a, area: a.id === 1 ? 100_000 : a.bbox[2] * a.bbox[3] })) };
    const res = await evaluateDetector(fixed, declared, async (im) => files[im.file_name!]);
    expect(res.metrics.APl).toBeCloseTo(1, 12);
    expect((await evaluateDetector(fixed, coco, async (im) => files[im.file_name!])).metrics.APl).toBe(-1);
  });
});

describe('evaluateDetector refuses bad input before running anything', () => {
  async function refusal(bytes: Uint8Array, coco: DetectionDataset, files: Record<string, Buffer>, opts = {}) {
    const loaded: string[] = [];
    const err = await evaluateDetector(bytes, coco, async (im: DetectionImage) => { loaded.push(im.file_name!); return files[im.file_name!]; }, opts).catch((e: unknown) => e);
    return { err: err as Error, loaded };
  }

  it('a model class that matches no category', async () => {
    const { coco, files } = await smallSet();
    const { err, loaded } = await refusal(fixed, { ...coco, categories: [{ id: 9, name: 'a' }, { id: 5, name: 'B' }] }, files);
    expect(err).toBeInstanceOf(DetectionDatasetError);
    expect(err.message).toBe("model class 'b' matches no category of the dataset (categories: 'a', 'B')");
    expect(loaded).toEqual([]);
    const none = await refusal(fixed, { ...coco, categories: [{ id: 1, name: 'x' }] }, files);
    expect(none.err.message).toBe("model classes 'a', 'b' match no category of the dataset (categories: 'x')");
  });

  it('two categories with a model class\'s name', async () => {
    const { coco, files } = await smallSet();
    const { err } = await refusal(fixed, { ...coco, categories: [...coco.categories, { id: 12, name: 'a' }] }, files);
    expect(err.message).toBe("the dataset has two categories named 'a' (ids 9 and 12); class names must map to one category");
  });

  it('a class with no box in the dataset (unless allowed: then its AP is -1)', async () => {
    const { coco, files } = await smallSet();
    const noB = { ...coco, annotations: coco.annotations.filter((a) => a.category_id !== 5) };
    const { err, loaded } = await refusal(fixed, noB, files);
    expect(err).toBeInstanceOf(DetectionDatasetError);
    expect(err.message).toBe("the dataset has no boxes of class 'b', so its AP cannot be measured");
    expect(loaded).toEqual([]);
    const allowed = await evaluateDetector(fixed, noB, async (im) => files[im.file_name!], { allowClassesWithoutBoxes: true });
    expect(allowed.metrics.per_class.b.AP).toBe(-1);
    expect(allowed.metrics.AP).toBeCloseTo(1, 12);
  });

  it('an image that does not decode, or is not the size the dataset says', async () => {
    const { coco, files } = await smallSet();
    const broken = { ...files, 'tall.png': Buffer.from('not a png at all') };
    const { err } = await refusal(fixed, coco, broken);
    expect(err).toBeInstanceOf(DetectionDatasetError);
    expect(err.message).toBe('image 2 (tall.png) cannot be decoded: Input buffer contains unsupported image format');
    const truncated = { ...files, 'wide.png': files['wide.png'].subarray(0, 40) };
    expect((await refusal(fixed, coco, truncated)).err.message).toMatch(/^image 1 \(wide\.png\) cannot be decoded: /);
    const swapped = { ...coco, images: [coco.images[0], { ...coco.images[1], width: 40, height: 20 }] };
    expect((await refusal(fixed, swapped, files)).err.message).toBe('image 2 (tall.png) is 20×40 but the dataset says 40×20; its boxes would not line up');
  });

  it('a file that is not an Ultralytics detector, or that ONNX Runtime cannot load', async () => {
    const { coco, files } = await smallSet();
    const classify = await refusal(tinyDetectorOnnx({ names, props: { task: 'classify' } }), coco, files);
    expect(classify.err).toBeInstanceOf(DetectorLayoutError);
    expect(classify.loaded).toEqual([]);
    const truncated = await refusal(fixed.slice(0, fixed.length - 20), coco, files);
    expect(truncated.err).toBeInstanceOf(DetectorLayoutError);
    const unknownOp = await refusal(tinyDetectorOnnx({ names, addOpType: 'NoSuchOp' }), coco, files);
    expect(unknownOp.err).toBeInstanceOf(CorruptArtifactError);
    expect(unknownOp.err.message).toMatch(/^ONNX Runtime cannot load the artifact \(\d+ bytes\): .*NoSuchOp/);
    expect(unknownOp.loaded).toEqual([]);
    // Declares [1, 6, 3] but computes [1, 6, 2]: caught on the first image.
    const lying = await refusal(tinyDetectorOnnx({ names, n: 2, outputDims: [1, 6, 3] }), coco, files);
    expect(lying.err).toBeInstanceOf(DetectorLayoutError);
    expect(lying.err.message).toBe("ONNX Runtime's output 'output0' has shape [1, 6, 2], not the declared [1, 6, 3]");
  });
});
