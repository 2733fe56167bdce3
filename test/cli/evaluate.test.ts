// `assay evaluate` as a user runs it (src/cli/main.ts through tsx), on the public detection
// reference case and on an Assay classifier export.
import '../helpers/node-realm.js'; // onnxruntime-node inside jest (in-process comparison below)
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildCropSet } from '../../src/ml/dataset/crops.js';
import { evaluateOnnxClassifier } from '../../src/ml/evaluate/onnx-classifier.js';
import { classificationMetrics } from '../../src/ml/metrics/classification.js';
import { exportClassifierToOnnx } from '../../src/ml/onnx/export.js';
import { selectBackend } from '../../src/ml/train/backend.js';
import { buildClassifier } from '../../src/ml/train/model.js';
import { tinyDetectorOnnx } from '../helpers/detector-onnx.js';
import { generateSyntheticKit } from '../helpers/synthetic-kit.js';

function assay(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent' }, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const CASE = path.resolve('test/fixtures/detect-eval/case_public');
const MODEL = path.join(CASE, 'model.onnx');
const DATASET = path.join(CASE, 'dataset/coco.json');
// Each spawn starts tsx and ONNX Runtime: allow for a busy 2-core machine.
const SLOW = 300_000;
const STATS = ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl'];
let tmp: string;

beforeAll(() => { tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-evaluate-')); });
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('assay evaluate (detector)', () => {
  it('--json prints pycocotools\' numbers for the reference case and --detections-out writes the reference detections', () => {
    const expected = JSON.parse(fs.readFileSync(path.join(CASE, 'expected.json'), 'utf8'));
    const detsFile = path.join(tmp, 'dets.json');
    const r = assay(['evaluate', '--model', MODEL, '--dataset', DATASET, '--json', '--detections-out', detsFile]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);
    expect(Object.keys(json).sort()).toEqual([...STATS, 'per_class', 'task', 'images', 'detections'].sort());
    expect({ task: json.task, images: json.images, detections: json.detections }).toEqual({ task: 'detect', images: 76, detections: 11068 });
    for (const k of STATS) expect(Math.abs(json[k] - expected[k])).toBeLessThanOrEqual(1e-4);
    for (const [name, e] of Object.entries<Record<string, number>>(expected.per_class)) {
      for (const k of ['category_id', 'num_gt', 'num_dets']) expect(json.per_class[name][k]).toBe(e[k]);
      for (const k of ['AP', 'AP50', 'AP75', 'AR100']) expect(Math.abs(json.per_class[name][k] - e[k])).toBeLessThanOrEqual(1e-4);
    }
    expect(json.per_class.red_light.precision).toBeCloseTo(102 / 132, 12);

    const written = JSON.parse(fs.readFileSync(detsFile, 'utf8'));
    const reference = JSON.parse(fs.readFileSync(path.join(CASE, 'reference_detections.json'), 'utf8'));
    expect(written).toHaveLength(reference.length);
    written.forEach((d: { image_id: number; category_id: number; bbox: number[]; score: number }, i: number) => {
      expect([d.image_id, d.category_id]).toEqual([reference[i].image_id, reference[i].category_id]);
      d.bbox.forEach((v, k) => expect(Math.abs(v - reference[i].bbox[k])).toBeLessThanOrEqual(1e-3));
      expect(Math.abs(d.score - reference[i].score)).toBeLessThanOrEqual(1e-5);
    });
  }, SLOW);

  it('prints a readable summary without --json', () => {
    const r = assay(['evaluate', '--model', MODEL, '--dataset', DATASET]);
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('model.onnx: Ultralytics detector, input 320×320, 3 classes');
    expect(lines[1]).toMatch(/^coco\.json: 76 images, 346 boxes → 11068 detections in [\d.]+ s$/);
    expect(lines).toContain(' Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | maxDets=100 ] = 0.699');
    expect(lines).toContain(' Average Precision  (AP) @[ IoU=0.50      | area=   all | maxDets=100 ] = 0.932');
    expect(lines.find((l) => l.startsWith('red_light'))?.split(/\s+/)).toEqual(['red_light', '0.757', '0.965', '0.920', '0.799', '0.773', '0.971', '105', '2898']);
  }, SLOW);

  it('bad input: one line naming the file and the problem, exit 1', () => {
    const badModel = path.join(tmp, 'transposed.onnx');
    fs.writeFileSync(badModel, tinyDetectorOnnx({ outputDims: [1, 4, 7] }));
    const shape = assay(['evaluate', '--model', badModel, '--dataset', DATASET]);
    expect(shape.code).toBe(1);
    expect(shape.err).toBe(`assay: ${badModel}: output 'output0' has shape [1, 4, 7]; expected [1, 4 + nc, N] = [1, 7, N] for the 3 classes in 'names' (transposed: candidates first)\n`);

    // A dataset whose categories lack a class, and whose second image is not an image.
    const dir = path.join(tmp, 'broken');
    fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
    const coco = JSON.parse(fs.readFileSync(DATASET, 'utf8'));
    coco.images = coco.images.slice(0, 2);
    fs.copyFileSync(path.join(CASE, 'dataset', coco.images[0].file_name), path.join(dir, coco.images[0].file_name));
    fs.writeFileSync(path.join(dir, coco.images[1].file_name), 'this is not a PNG');
    fs.writeFileSync(path.join(dir, 'coco.json'), JSON.stringify(coco));
    const undecodable = assay(['evaluate', '--model', MODEL, '--dataset', path.join(dir, 'coco.json')]);
    expect(undecodable.code).toBe(1);
    expect(undecodable.err).toBe(`assay: ${path.join(dir, 'coco.json')}: image 2 (images/0002.png) cannot be decoded: Input buffer contains unsupported image format\n`);

    coco.categories = coco.categories.filter((c: { name: string }) => c.name !== 'green_light');
    fs.writeFileSync(path.join(dir, 'coco.json'), JSON.stringify(coco));
    const unknownClass = assay(['evaluate', '--model', MODEL, '--dataset', path.join(dir, 'coco.json'), '--json']);
    expect(unknownClass.code).toBe(1);
    expect(unknownClass.out).toBe('');
    expect(unknownClass.err).toBe(`assay: ${path.join(dir, 'coco.json')}: model class 'green_light' matches no category of the dataset (categories: 'yellow_light', 'red_light')\n`);

    const usage = assay(['evaluate', '--model', MODEL]);
    expect(usage.code).toBe(2);
    expect(usage.err).toMatch(/^assay: --model and --dataset are required\nusage: assay evaluate --model FILE\.onnx/);
  }, SLOW);
});

describe('assay evaluate (classifier)', () => {
  it('evaluates an Assay classifier on crops of every box of every image, whatever the split', async () => {
    await selectBackend('wasm', { info: () => undefined });
    const kit = await generateSyntheticKit({ seed: 11, images: 10, size: 64, distractors: true });
    const labels = ['red_light', 'green_light', 'stop_sign'];
    const model = buildClassifier({ imageSize: 16, numClasses: labels.length, convFilters: [4], seed: 3 });
    const { onnx } = await exportClassifierToOnnx(model, { labels, imageSize: 16 });
    model.dispose();

    const dir = path.join(tmp, 'kit');
    fs.mkdirSync(path.join(dir, 'photos'), { recursive: true });
    for (const [name, png] of kit.png) fs.writeFileSync(path.join(dir, 'photos', name), png);
    const coco = { ...kit.coco, images: kit.coco.images.map((im) => ({ ...im, file_name: `photos/${im.file_name}` })) };
    fs.writeFileSync(path.join(dir, 'coco.json'), JSON.stringify(coco));
    fs.writeFileSync(path.join(dir, 'classifier.onnx'), onnx);
    expect(new Set(coco.images.map((im) => im.split))).toEqual(new Set(['train', 'val', 'test']));

    const r = assay(['evaluate', '--model', path.join(dir, 'classifier.onnx'), '--dataset', path.join(dir, 'coco.json'), '--json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out);

    // The same evaluation in-process, on every image's crops.
    const catName = new Map(coco.categories.map((c) => [c.id, c.name]));
    const boxes = coco.annotations.filter((a) => labels.includes(catName.get(a.category_id)!)).length;
    const all = { ...kit.coco, images: kit.coco.images.map((im) => ({ ...im, split: 'test' as const })) };
    const crops = await buildCropSet(all, kit.loadImage, Object.fromEntries(labels.map((l, i) => [l, i])), 16);
    const res = await evaluateOnnxClassifier(onnx, crops.test, labels);
    const m = classificationMetrics(Array.from(crops.test.y), Array.from(res.predictions), labels);

    expect(json).toMatchObject({ task: 'classify', images: 10, crops: boxes, skipped: coco.annotations.length - boxes, labels });
    expect(json.accuracy).toBe(m.accuracy);
    expect(json.confusion_matrix).toEqual(m.confusionMatrix);
    expect(json.per_class).toEqual(m.perClass);

    const text = assay(['evaluate', '--model', path.join(dir, 'classifier.onnx'), '--dataset', path.join(dir, 'coco.json'), '--detections-out', path.join(dir, 'x.json')]);
    expect(text.code).toBe(1);
    expect(text.err).toBe(`assay: --detections-out applies to detectors; ${path.join(dir, 'classifier.onnx')} is a classifier\n`);
    expect(fs.existsSync(path.join(dir, 'x.json'))).toBe(false);
  }, SLOW);
});
