/**
 * Assay's small single-stage, anchor-free object detector ("assay-det-v1"), built from raw TF.js
 * ops so one pure function (`buildDetector`) gives the variables and another (`detectorLoss` in
 * loss.ts) a scalar for `tf.variableGrads` — what a data-parallel runner needs.
 *
 * Network (NHWC in TF.js, NCHW in the ONNX export; every conv is 3×3 'same' + bias + ReLU, fused):
 *   images S×S×3 → c1 s2 → c2 s2 → c3 → c4 s2 → c5 = P3 (stride 8)
 *                                          └→ c6 s2 → c7 = P4 (stride 16)
 *   each level: h{8,16}a 3×3 conv + ReLU → h{8,16}b 1×1 conv (linear) → 4 box + nc class logits.
 * No batch norm (tfjs has no fused BN gradient and the set is tiny), no objectness row.
 *
 * Per anchor point (cell centre (x+½, y+½)·stride) the head predicts ltrb distances
 * d = softplus(raw)·stride and sigmoid class scores; the output is Ultralytics' detect layout
 * [B, 4+nc, N]: cx, cy, w, h in input pixels then nc scores, stride-8 grid then stride-16 grid,
 * each row-major.
 *
 * Training target (assign.ts): an anchor is positive for a box when its point lies inside the box
 * and within 2.5 strides of the box centre (centre sampling, all levels; ties → smaller box; a box
 * with no such anchor takes the nearest free anchor point). Loss (loss.ts): BCE on every anchor ×
 * class, the positive's target being the (detached) IoU of its predicted box with the true box
 * (quality target, so scores rank boxes by fit), plus GIoU loss on positives, both normalised by
 * the number of positives. Adam, one warm-up epoch, cosine decay to 5 %, random left–right flips.
 *
 * Why this recipe (measured on the 90-photo demo-like set, bench/detector-training.bench.ts): the
 * geometric assignment needs no predictions, so targets are plain arrays built with the batch and
 * training starts learning from the first epoch; the IoU quality target matched hard 1.0 targets
 * on mAP50 and scored a little higher mAP50-95 (held-out 0.54 vs 0.53, 30 epochs, one seed);
 * lr 0.006 beat 0.003 (held-out mAP50 0.87 vs 0.80 at 30 epochs); 160 px × 40 epochs reached the
 * goal in ~¾ of the CPU time of 192 px × 40 (which scored mAP50-95 0.71 vs 0.69 held-out).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { seededRandom } from '../../random.js';

export const DETECTOR_FAMILY = 'assay-det-v1';
export const LEVEL_STRIDES = [8, 16] as const;
export const MAX_STRIDE = 16;
/** Initial class logit: sigmoid(-4.6) ≈ 0.01, so the rare positives do not start drowned in negatives. */
const CLASS_PRIOR_LOGIT = -Math.log((1 - 0.01) / 0.01);

export const detectorArchitectureSchema = z.object({
  family: z.literal(DETECTOR_FAMILY),
  inputSize: z.number().int().min(32).max(1024).refine((s) => s % MAX_STRIDE === 0, `must be a multiple of ${MAX_STRIDE}`),
  /** Channels of c1, c2/c3, c4/c5 (P3), c6/c7 (P4). */
  widths: z.tuple([z.number().int().min(1).max(512), z.number().int().min(1).max(512), z.number().int().min(1).max(512), z.number().int().min(1).max(512)]),
  headWidth: z.number().int().min(1).max(512),
});
export type DetectorArchitecture = z.infer<typeof detectorArchitectureSchema>;

export interface DetectorSpec extends Omit<DetectorArchitecture, 'family'> {
  numClasses: number;
  seed: number;
}

export const DEFAULT_WIDTHS: DetectorArchitecture['widths'] = [16, 32, 48, 64];
export const DEFAULT_HEAD_WIDTH = 48;

/** One conv layer: reads `from` (a layer name or 'images'), writes `name`. */
export interface ConvDef {
  name: string;
  from: string;
  kernel: number;
  cin: number;
  cout: number;
  stride: 1 | 2;
  relu: boolean;
}

export interface Level {
  stride: number;
  /** Layer whose output is this level's raw head [B, h, w, 4+nc]. */
  head: string;
  size: number;
}

/** The layers in execution order and the two output levels. */
export function detectorLayers(spec: Pick<DetectorSpec, 'inputSize' | 'numClasses' | 'widths' | 'headWidth'>): { layers: ConvDef[]; levels: Level[] } {
  const [w0, w1, w2, w3] = spec.widths;
  const out = 4 + spec.numClasses;
  const conv = (name: string, from: string, cin: number, cout: number, stride: 1 | 2, kernel = 3, relu = true): ConvDef =>
    ({ name, from, kernel, cin, cout, stride, relu });
  const layers = [
    conv('c1', 'images', 3, w0, 2),
    conv('c2', 'c1', w0, w1, 2),
    conv('c3', 'c2', w1, w1, 1),
    conv('c4', 'c3', w1, w2, 2),
    conv('c5', 'c4', w2, w2, 1),
    conv('c6', 'c5', w2, w3, 2),
    conv('c7', 'c6', w3, w3, 1),
    conv('h8a', 'c5', w2, spec.headWidth, 1),
    conv('h8b', 'h8a', spec.headWidth, out, 1, 1, false),
    conv('h16a', 'c7', w3, spec.headWidth, 1),
    conv('h16b', 'h16a', spec.headWidth, out, 1, 1, false),
  ];
  const levels = LEVEL_STRIDES.map((stride) => ({ stride, head: `h${stride}b`, size: spec.inputSize / stride }));
  return { layers, levels };
}

export interface Detector {
  spec: DetectorSpec;
  layers: ConvDef[];
  levels: Level[];
  /** `<layer>.kernel` (HWIO) and `<layer>.bias`, in layer order. */
  weights: Map<string, tf.Variable>;
  /** The trainable variables in a fixed order (gradient averaging relies on it). */
  variables: tf.Variable[];
  dispose(): void;
}

/** He-normal kernels from the seeded PRNG (Box–Muller), so a seed fixes the initial network on every backend. */
function heNormal(random: () => number, shape: number[], fanIn: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const r = Math.sqrt(-2 * Math.log(u)) * std;
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

export function buildDetector(spec: DetectorSpec): Detector {
  detectorArchitectureSchema.parse({ family: DETECTOR_FAMILY, inputSize: spec.inputSize, widths: spec.widths, headWidth: spec.headWidth });
  if (!Number.isInteger(spec.numClasses) || spec.numClasses < 1) throw new Error(`need at least 1 class, got ${spec.numClasses}`);
  const { layers, levels } = detectorLayers(spec);
  const random = seededRandom(spec.seed * 7919 + 17);
  const weights = new Map<string, tf.Variable>();
  for (const l of layers) {
    const shape = [l.kernel, l.kernel, l.cin, l.cout];
    const isHead = l.name.endsWith('b');
    // Output convs start small so the first boxes and scores are near the priors below.
    const kernel = heNormal(random, shape, l.kernel * l.kernel * l.cin).map((v) => (isHead ? v * 0.1 : v));
    const bias = new Float32Array(l.cout);
    if (isHead) {
      // softplus(0.54)·stride ≈ stride: initial boxes about 2 strides wide.
      bias.fill(0.54, 0, 4);
      bias.fill(CLASS_PRIOR_LOGIT, 4);
    }
    // tfjs names variables globally, so they get its unique names; the map key is the layer's.
    // tidy frees the initial tensors (variables are not tracked by it and survive).
    tf.tidy(() => {
      weights.set(`${l.name}.kernel`, tf.variable(tf.tensor4d(kernel, shape as [number, number, number, number]), true));
      weights.set(`${l.name}.bias`, tf.variable(tf.tensor1d(bias), true));
    });
  }
  const variables = [...weights.values()];
  return { spec, layers, levels, weights, variables, dispose: () => variables.forEach((v) => v.dispose()) };
}

/** Raw head outputs, one [B, N, 4+nc] tensor (levels concatenated, each row-major). */
export function rawPredictions(model: Detector, images: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const outputs = new Map<string, tf.Tensor4D>([['images', images]]);
    for (const l of model.layers) {
      outputs.set(l.name, tf.fused.conv2d({
        x: outputs.get(l.from)!, filter: model.weights.get(`${l.name}.kernel`)! as tf.Tensor4D, strides: l.stride, pad: 'same',
        bias: model.weights.get(`${l.name}.bias`)!, activation: l.relu ? 'relu' : 'linear',
      }));
    }
    const b = images.shape[0];
    const k = 4 + model.spec.numClasses;
    return tf.concat(model.levels.map((lv) => outputs.get(lv.head)!.reshape([b, lv.size * lv.size, k])), 1) as tf.Tensor3D;
  });
}

export interface AnchorPoints {
  /** N anchor centres in input pixels and their strides, stride-8 grid first, row-major. */
  x: Float32Array;
  y: Float32Array;
  stride: Float32Array;
  count: number;
}

const anchorCache = new Map<number, AnchorPoints>();

export function anchorPoints(inputSize: number): AnchorPoints {
  const cached = anchorCache.get(inputSize);
  if (cached) return cached;
  const count = LEVEL_STRIDES.reduce((n, s) => n + (inputSize / s) ** 2, 0);
  const a: AnchorPoints = { x: new Float32Array(count), y: new Float32Array(count), stride: new Float32Array(count), count };
  let i = 0;
  for (const s of LEVEL_STRIDES) {
    const g = inputSize / s;
    for (let gy = 0; gy < g; gy++) {
      for (let gx = 0; gx < g; gx++, i++) {
        a.x[i] = (gx + 0.5) * s;
        a.y[i] = (gy + 0.5) * s;
        a.stride[i] = s;
      }
    }
  }
  anchorCache.set(inputSize, a);
  return a;
}

/** ltrb distances (pixels, [B, N, 4]) → corners x1, y1, x2, y2 ([B, N, 4]). */
export function distancesToCorners(dist: tf.Tensor3D, anchors: AnchorPoints): tf.Tensor3D {
  return tf.tidy(() => {
    const ax = tf.tensor2d(anchors.x, [anchors.count, 1]);
    const ay = tf.tensor2d(anchors.y, [anchors.count, 1]);
    const [l, t, r, b] = tf.split(dist, 4, 2);
    return tf.concat([tf.sub(ax, l), tf.sub(ay, t), tf.add(ax, r), tf.add(ay, b)], 2) as tf.Tensor3D;
  });
}

/** ltrb distances in pixels from raw box logits: softplus(raw)·stride. */
export function boxDistances(rawBox: tf.Tensor3D, anchors: AnchorPoints): tf.Tensor3D {
  return tf.tidy(() => tf.mul(tf.softplus(rawBox), tf.tensor2d(anchors.stride, [anchors.count, 1])) as tf.Tensor3D);
}

/**
 * The exported model's output, computed in TF.js: [B, 4+nc, N] with rows cx, cy, w, h (input
 * pixels) then sigmoid scores. The ONNX graph computes the same thing (see export.ts).
 */
export function predictDetections(model: Detector, images: tf.Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const raw = rawPredictions(model, images);
    const anchors = anchorPoints(model.spec.inputSize);
    const dist = boxDistances(raw.slice([0, 0, 0], [-1, -1, 4]), anchors);
    const [l, t, r, b] = tf.split(dist, 4, 2);
    const ax = tf.tensor2d(anchors.x, [anchors.count, 1]);
    const ay = tf.tensor2d(anchors.y, [anchors.count, 1]);
    const cx = tf.add(ax, tf.mul(tf.sub(r, l), 0.5));
    const cy = tf.add(ay, tf.mul(tf.sub(b, t), 0.5));
    const scores = tf.sigmoid(raw.slice([0, 0, 4], [-1, -1, -1]));
    return tf.transpose(tf.concat([cx, cy, tf.add(l, r), tf.add(t, b), scores], 2), [0, 2, 1]) as tf.Tensor3D;
  });
}
