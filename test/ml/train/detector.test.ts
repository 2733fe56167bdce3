import '../../helpers/node-realm.js'; // must precede onnxruntime-node (jest realm fix)
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';
import { generateDetectionDataset } from '../../../src/demo/detection-dataset.js';
import type { DemoDataset } from '../../../src/demo/dataset.js';
import { OnnxExportMismatchError, exportClassifierToOnnx } from '../../../src/ml/onnx/export.js';
import { selectBackend } from '../../../src/ml/train/backend.js';
import { buildClassifier } from '../../../src/ml/train/model.js';
import { assignTargets } from '../../../src/ml/train/detector/assign.js';
import { modelTaskOf, readDetectorInfo } from '../../../src/ml/detect/layout.js';
import { parseClassNames } from '../../../src/ml/detect/names.js';
import { BaseModelMismatchError } from '../../../src/ml/train/detector/base.js';
import { makeBatch, splitDetectorBatch, type DetectionSet } from '../../../src/ml/train/detector/batch.js';
import {
  DETECTOR_INPUT_NAME, DETECTOR_OUTPUT_NAME, buildDetectorOnnx, exportDetectorToOnnx, pythonNamesDict, verifyDetectorExport,
} from '../../../src/ml/train/detector/export.js';
import { detectorLoss, detectorLossTerms } from '../../../src/ml/train/detector/loss.js';
import { anchorPoints, buildDetector, predictDetections, type Detector } from '../../../src/ml/train/detector/model.js';
import { buildDetectionSets, type DetectionSets } from '../../../src/ml/train/detector/samples.js';
import { trainDetectorModel, type DetectorTrainingInput } from '../../../src/ml/train/detector/trainer.js';

const { onnx } = onnxProto;
const labels = ['red_light', 'yellow_light', 'green_light'];
const S = 96;
const spec = { inputSize: S, numClasses: 3, widths: [8, 8, 16, 16] as [number, number, number, number], headWidth: 16, seed: 5 };

let data: DemoDataset;
let sets: DetectionSets;
const load = (im: { file_name: string }) => Promise.resolve(data.images.get(im.file_name)!);

/** Pushes weights away from the init so a layout bug cannot hide behind near-constant outputs. */
function perturb(model: Detector, seed: number): void {
  model.variables.forEach((v, i) => v.assign(tf.tidy(() => tf.randomNormal(v.shape, 0, 0.2, 'float32', seed * 100 + i))));
}

function props(bytes: Uint8Array): Record<string, string> {
  return Object.fromEntries(onnx.ModelProto.decode(bytes).metadataProps.map((p) => [p.key ?? '', p.value ?? '']));
}

function withProps(bytes: Uint8Array, edit: (p: Record<string, string>) => void): Uint8Array {
  const model = onnx.ModelProto.decode(bytes);
  const p = props(bytes);
  edit(p);
  model.metadataProps = Object.entries(p).map(([key, value]) => onnx.StringStringEntryProto.create({ key, value }));
  return new Uint8Array(onnx.ModelProto.encode(model).finish());
}

beforeAll(async () => {
  await selectBackend('wasm', { info: () => undefined });
  data = await generateDetectionDataset({ seed: 4, images: 20 });
  sets = await buildDetectionSets(data.coco as never, load, { red_light: 0, yellow_light: 1, green_light: 2 }, S);
});

describe('demo-like detection dataset', () => {
  it('is deterministic by seed, about 4 boxes per photo, classes balanced, split 80/10/10', async () => {
    // The first photos of a longer run are the same photos: compare 4 of them.
    const again = await generateDetectionDataset({ seed: 4, images: 4 });
    expect(again.coco.images).toEqual(data.coco.images.slice(0, 4));
    expect(again.coco.annotations).toEqual(data.coco.annotations.filter((a) => (a.image_id as number) <= 4));
    // Buffer.equals: jest's deep equality walks every byte far too slowly.
    expect([...again.images].every(([name, png]) => png.equals(data.images.get(name)!))).toBe(true);
    const other = await generateDetectionDataset({ seed: 5, images: 1 });
    expect(other.coco.annotations).not.toEqual(again.coco.annotations.filter((a) => a.image_id === 1));
    const n = data.coco.annotations.length;
    expect(n).toBeGreaterThanOrEqual(60);
    expect(n).toBeLessThanOrEqual(100);
    const perClass = [1, 2, 3].map((id) => data.coco.annotations.filter((a) => a.category_id === id).length);
    expect(Math.max(...perClass) - Math.min(...perClass)).toBeLessThanOrEqual(1);
    expect(data.coco.images.map((im) => im.split)).toEqual([...Array(2)].flatMap(() => ['train', 'train', 'train', 'train', 'val', 'train', 'train', 'train', 'train', 'test']));
  });

  it('letterboxes 320×240 photos to S×S with pad 114 and maps boxes into input pixels', () => {
    expect([sets.train.count, sets.val.count, sets.test.count]).toEqual([16, 2, 2]);
    // r = 96/320 = 0.3; 240·0.3 = 72 rows of image, top pad round(12 − 0.1) = 12.
    const first = data.coco.annotations.filter((a) => a.image_id === 1);
    const boxes = Array.from(sets.train.boxes.subarray(0, first.length * 4));
    const want = first.flatMap((a) => { const [x, y, w, h] = a.bbox as number[]; return [x * 0.3, y * 0.3 + 12, (x + w) * 0.3, (y + h) * 0.3 + 12]; });
    boxes.forEach((v, i) => expect(v).toBeCloseTo(want[i], 4));
    expect(Array.from(sets.train.classes.subarray(0, first.length))).toEqual(first.map((a) => (a.category_id as number) - 1));
    const px = sets.train.pixels;
    expect(px.subarray(0, 12 * S * 3).every((v) => v === 114)).toBe(true); // top pad
    expect(px.subarray((12 + 72) * S * 3, S * S * 3).every((v) => v === 114)).toBe(true); // bottom pad
    expect(px.subarray(12 * S * 3, (12 + 72) * S * 3).some((v) => v !== 114)).toBe(true);
  });
});

describe('target assignment', () => {
  const anchors = anchorPoints(S);

  it('lays anchors out stride-8 grid then stride-16 grid, row-major, at cell centres', () => {
    expect(anchors.count).toBe(12 * 12 + 6 * 6);
    expect([anchors.x[0], anchors.y[0], anchors.x[1], anchors.x[12], anchors.y[12]]).toEqual([4, 4, 12, 4, 12]);
    expect([anchors.x[144], anchors.y[144], anchors.stride[144], anchors.x[145]]).toEqual([8, 8, 16, 24]);
  });

  it('gives every box positives inside it, the smaller box on overlap, and a tiny box its nearest anchor', () => {
    const boxes = [10, 10, 50, 90, 30, 20, 46, 40, 61, 61, 62, 62];
    const { assigned, positives } = assignTargets(boxes, anchors);
    const of = (g: number) => [...assigned.keys()].filter((i) => assigned[i] === g);
    for (const g of [0, 1]) {
      expect(of(g).length).toBeGreaterThan(0);
      for (const i of of(g)) {
        expect(anchors.x[i]).toBeGreaterThan(boxes[g * 4]);
        expect(anchors.x[i]).toBeLessThan(boxes[g * 4 + 2]);
        expect(anchors.y[i]).toBeGreaterThan(boxes[g * 4 + 1]);
        expect(anchors.y[i]).toBeLessThan(boxes[g * 4 + 3]);
      }
    }
    // Anchor (36, 36) is a candidate of box 0 and box 1: the smaller (box 1) takes it.
    expect(assigned[4 * 12 + 4]).toBe(1);
    // Box 2 (1 px, between anchor points) gets exactly the nearest anchor, (60, 60).
    expect(of(2)).toEqual([7 * 12 + 7]);
    expect(positives).toBe(of(0).length + of(1).length + 1);
  });

  it('mirrors images and boxes when flipping', () => {
    const plain = makeBatch(sets.train, [0], 3);
    const flipped = makeBatch(sets.train, [0], 3, [true]);
    for (const [y, x] of [[20, 3], [50, 90], [70, 40]]) {
      for (let c = 0; c < 3; c++) expect(flipped.images[(y * S + x) * 3 + c]).toBe(plain.images[(y * S + (S - 1 - x)) * 3 + c]);
    }
    const n = anchors.count;
    const targets = (b: typeof plain) => [...Array(n).keys()].filter((i) => b.fg[i]).map((i) => Array.from(b.boxTarget.subarray(i * 4, i * 4 + 4)));
    const mirrored = new Set(targets(plain).map(([x1, y1, x2, y2]) => [S - x2, y1, S - x1, y2].map((v) => v.toFixed(3)).join()));
    expect(targets(flipped).length).toBeGreaterThan(0);
    for (const t of targets(flipped)) expect(mirrored.has(t.map((v) => v.toFixed(3)).join())).toBe(true);
  });
});

describe('loss', () => {
  it('is a finite scalar with a gradient for every variable; Adam steps shrink the box term and the fixed-target loss', () => {
    const terms = (m: Detector, b: ReturnType<typeof makeBatch>, qualityTarget = true) =>
      tf.tidy(() => { const t = detectorLossTerms(m, b, { boxWeight: 2.5, qualityTarget }); return [t.total, t.cls, t.box].map((x) => x.dataSync()[0]); });
    const batch = makeBatch(sets.train, [0, 1, 2, 3], 3);
    const train = (qualityTarget: boolean) => {
      const model = buildDetector(spec);
      const opt = tf.train.adam(0.001);
      const before = terms(model, batch, qualityTarget);
      for (let i = 0; i < 15; i++) tf.tidy(() => { opt.minimize(() => detectorLossTerms(model, batch, { boxWeight: 2.5, qualityTarget }).total, false, model.variables); });
      const after = terms(model, batch, qualityTarget);
      opt.dispose();
      model.dispose();
      return { before, after };
    };
    const model = buildDetector(spec);
    const [total, cls, box] = terms(model, batch);
    expect([total, cls, box].every(Number.isFinite)).toBe(true);
    expect(total).toBeCloseTo(cls + 2.5 * box, 4);
    tf.tidy(() => {
      const { value, grads } = tf.variableGrads(() => detectorLoss(model, batch), model.variables);
      expect(value.dataSync()[0]).toBeCloseTo(total, 5);
      for (const v of model.variables) expect(grads[v.name]).toBeDefined();
      expect(Object.values(grads).every((g) => Number.isFinite(tf.sum(tf.abs(g)).dataSync()[0]))).toBe(true);
    });
    model.dispose();
    // The quality target follows the predicted boxes (it rises as they improve), so the default
    // loss need not fall in the first steps; its box term must, and so must the fixed-target loss.
    const quality = train(true);
    expect(quality.after[2]).toBeLessThan(quality.before[2]);
    const fixed = train(false);
    expect(fixed.after[0]).toBeLessThan(fixed.before[0]);
  });

  it('splits a batch into weighted shards whose combined gradient is the whole batch\'s (data-parallel)', () => {
    const model = buildDetector(spec);
    perturb(model, 4);
    // Image 3 is flipped so the shards differ; 5 images into 3 shards of 1, 2 and 2.
    const batch = makeBatch(sets.train, [0, 1, 2, 3, 4], 3, [false, false, false, true, false]);
    const shards = splitDetectorBatch(batch, 3);
    expect(shards.map((s) => s.batch.count)).toEqual([1, 2, 2]);
    expect(shards.reduce((n, s) => n + s.batch.positives, 0)).toBe(batch.positives);
    const flat = (b: typeof batch) => tf.tidy(() => {
      const { grads } = tf.variableGrads(() => detectorLoss(model, b), model.variables);
      return model.variables.map((v) => grads[v.name].dataSync() as Float32Array);
    });
    const whole = flat(batch);
    const combined = whole.map((g) => new Float32Array(g.length));
    for (const s of shards) flat(s.batch).forEach((g, i) => g.forEach((v, j) => { combined[i][j] += s.weight * v; }));
    let maxDiff = 0;
    let maxAbs = 0;
    whole.forEach((g, i) => g.forEach((v, j) => { maxDiff = Math.max(maxDiff, Math.abs(v - combined[i][j])); maxAbs = Math.max(maxAbs, Math.abs(v)); }));
    expect(maxAbs).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThan(maxAbs * 1e-4);
    model.dispose();
  });
});

describe('ONNX export (Ultralytics detect layout)', () => {
  let model: Detector;
  let bytes: Uint8Array;
  const n = 12 * 12 + 6 * 6;

  beforeAll(async () => {
    model = buildDetector(spec);
    perturb(model, 1);
    bytes = (await exportDetectorToOnnx(model, labels, makeBatch(sets.val, [0, 1], 3).images)).onnx;
  });
  afterAll(() => model.dispose());

  it('has input images [1,3,S,S], output output0 [1,4+nc,N] and the Ultralytics metadata', () => {
    const g = onnx.ModelProto.decode(bytes).graph!;
    const [input, output] = [g.input!, g.output!];
    const dims = (v: (typeof input)[number]) => v.type!.tensorType!.shape!.dim!.map((d) => Number(d.dimValue));
    expect(input.map((i) => i.name)).toEqual([DETECTOR_INPUT_NAME]);
    expect(dims(input[0])).toEqual([1, 3, S, S]);
    expect(output.map((o) => o.name)).toEqual([DETECTOR_OUTPUT_NAME]);
    expect(dims(output[0])).toEqual([1, 7, n]);
    const p = props(bytes);
    expect(p).toMatchObject({ task: 'detect', names: "{0: 'red_light', 1: 'yellow_light', 2: 'green_light'}", imgsz: '[96, 96]', stride: '16', batch: '1' });
    expect(p.description).toMatch(/detector/);
    expect(JSON.parse(p.assay_architecture)).toEqual({ family: 'assay-det-v1', inputSize: S, widths: [8, 8, 16, 16], headWidth: 16 });
    expect(p.labels).toBeUndefined(); // a classifier's key: the task sniffers must not mistake this for one
    // What the evaluation and imports read (src/ml/detect/layout.ts) accepts it as a detector.
    expect(modelTaskOf(bytes)).toBe('detect');
    expect(readDetectorInfo(bytes)).toMatchObject({
      task: 'detect', inputName: 'images', outputName: 'output0', inputSize: { height: S, width: S }, names: labels, stride: 16, candidates: n,
    });
  });

  it('reproduces TF.js in onnxruntime (NCHW input vs NHWC), checked independently of the exporter', async () => {
    const x = makeBatch(sets.test, [0, 1], 3).images;
    const want = tf.tidy(() => predictDetections(model, tf.tensor4d(x, [2, S, S, 3])).dataSync() as Float32Array);
    const session = await ort.InferenceSession.create(Buffer.from(bytes));
    for (let i = 0; i < 2; i++) {
      const chw = tf.tidy(() => tf.transpose(tf.tensor4d(x.subarray(i * S * S * 3, (i + 1) * S * S * 3), [1, S, S, 3]), [0, 3, 1, 2]).dataSync() as Float32Array);
      const got = (await session.run({ images: new ort.Tensor('float32', chw, [1, 3, S, S]) })).output0;
      expect(got.dims).toEqual([1, 7, n]);
      const data = got.data as Float32Array;
      for (let j = 0; j < 7 * n; j++) expect(Math.abs(data[j] - want[i * 7 * n + j])).toBeLessThanOrEqual(j < 4 * n ? 1e-3 : 1e-4);
    }
    await session.release();
  });

  it('decodes cx, cy, w, h in pixels at the anchor points and sigmoid scores (zeroed head weights)', async () => {
    const m = buildDetector(spec);
    for (const head of ['h8b', 'h16b']) {
      m.weights.get(`${head}.kernel`)!.assign(tf.zerosLike(m.weights.get(`${head}.kernel`)!));
      m.weights.get(`${head}.bias`)!.assign(tf.tensor1d([0, 0, Math.log(Math.E - 1), Math.log(Math.E ** 2 - 1), 2, -1, 0]));
    }
    const b = buildDetectorOnnx(m, labels);
    const session = await ort.InferenceSession.create(Buffer.from(b));
    const out = (await session.run({ images: new ort.Tensor('float32', new Float32Array(3 * S * S).fill(0.5), [1, 3, S, S]) })).output0.data as Float32Array;
    await session.release();
    const a = anchorPoints(S);
    const ln2 = Math.log(2);
    for (const i of [0, 13, 143, 144, 179]) {
      // l = t = softplus(0)·s = ln2·s, r = 1·s, b = 2·s.
      const s = a.stride[i];
      expect(out[i]).toBeCloseTo(a.x[i] + ((1 - ln2) * s) / 2, 3);
      expect(out[n + i]).toBeCloseTo(a.y[i] + ((2 - ln2) * s) / 2, 3);
      expect(out[2 * n + i]).toBeCloseTo((ln2 + 1) * s, 3);
      expect(out[3 * n + i]).toBeCloseTo((ln2 + 2) * s, 3);
      expect([out[4 * n + i], out[5 * n + i], out[6 * n + i]].map((v) => v.toFixed(5))).toEqual([2, -1, 0].map((v) => (1 / (1 + Math.exp(-v))).toFixed(5)));
    }
    m.dispose();
  });

  it('refuses to ship a graph that does not reproduce the model', async () => {
    const other = buildDetector({ ...spec, seed: 6 });
    perturb(other, 2);
    await expect(verifyDetectorExport(bytes, other)).rejects.toBeInstanceOf(OnnxExportMismatchError);
    other.dispose();
  });

  it('writes class names as a Python dict literal the evaluation reads back (quotes escaped like repr)', () => {
    const names = ['red_light', "it's", 'say "hi"', 'back\\slash'];
    expect(pythonNamesDict(names)).toBe(`{0: 'red_light', 1: "it's", 2: 'say "hi"', 3: 'back\\\\slash'}`);
    expect(parseClassNames(pythonNamesDict(names))).toEqual(names); // the evaluation's reader
  });

  describe('fine-tuning base', () => {
    const input = (base: Uint8Array, hp: Partial<DetectorTrainingInput['hyperparameters']> = {}): DetectorTrainingInput => ({
      labels, train: sets.train, val: sets.val, baseModelOnnx: base, mode: 'new_version',
      hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.001, imageSize: S, seed: 1, ...hp },
    });

    it('refuses a classifier', async () => {
      const clf = buildClassifier({ imageSize: 32, numClasses: 3, convFilters: [4], seed: 1 });
      const cbytes = (await exportClassifierToOnnx(clf, { labels, imageSize: 32 })).onnx;
      clf.dispose();
      await expect(trainDetectorModel(input(cbytes))).rejects.toThrow(BaseModelMismatchError);
      await expect(trainDetectorModel(input(cbytes))).rejects.toThrow(/not a detector/);
    });

    it('refuses a detector Assay did not train (no architecture metadata)', async () => {
      const foreign = withProps(bytes, (p) => { delete p.assay_architecture; });
      await expect(trainDetectorModel(input(foreign))).rejects.toThrow(/not trained by Assay/);
    });

    it('refuses a different architecture, naming the difference', async () => {
      await expect(trainDetectorModel(input(bytes, { widths: [8, 8, 16, 32] }))).rejects.toThrow(/architecture differs: widths \[8,8,16,16\] ≠ \[8,8,16,32\]/);
      await expect(trainDetectorModel(input(bytes, { imageSize: 128 }))).rejects.toThrow(/input size 96 ≠ 128/);
    });

    it('refuses truncated bytes', async () => {
      await expect(trainDetectorModel(input(bytes.subarray(0, 1000)))).rejects.toThrow(/ONNX/);
    });
  });
});

describe('input validation', () => {
  const hp = { epochs: 1, batchSize: 4, learningRate: 0.001, imageSize: S, seed: 1 };
  it('rejects sets that do not fit the input size or labels', async () => {
    const bad: DetectionSet = { ...sets.train, classes: sets.train.classes.map((c) => (c === 2 ? 5 : c)) };
    await expect(trainDetectorModel({ labels, train: bad, val: sets.val, hyperparameters: hp })).rejects.toThrow(/train: box \d+ has class 5/);
    await expect(trainDetectorModel({ labels, train: sets.train, val: sets.val, hyperparameters: { ...hp, imageSize: 128 } })).rejects.toThrow(/96×96, the model input is 128×128/);
    await expect(trainDetectorModel({ labels, train: sets.train, val: sets.val, hyperparameters: { ...hp, imageSize: 100 } })).rejects.toThrow(/multiple of 16/);
  });
});
