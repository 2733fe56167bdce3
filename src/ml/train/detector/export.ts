/**
 * Detector → ONNX in Ultralytics' detect layout (what `yolo export format=onnx` writes), verified
 * against TF.js in ONNX Runtime on every export:
 *   input  "images"  float32 [1, 3, S, S]  NCHW, RGB, 0..1 (letterboxed, pad 114)
 *   output "output0" float32 [1, 4+nc, N]  rows cx, cy, w, h (input pixels), then nc sigmoid scores;
 *                                          anchors: stride-8 grid then stride-16 grid, row-major
 *   metadata_props: task=detect, names={0: 'a', ...}, imgsz=[S, S], stride=16, batch=1,
 *                   description, plus assay_architecture / assay_preprocessing (JSON).
 * The convs run NCHW with OIHW weights (converted from TF's HWIO), so the graph needs no transpose.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { OnnxExportMismatchError } from '../../onnx/errors.js';
import { GraphBuilder, encodeModel, floatTensor, int, int64Tensor, ints, maxAbsDifference, randomUnitValues, runOnnx, valueInfo } from '../../onnx/graph.js';
import { permute } from '../../onnx/read.js';
import { DETECTOR_FAMILY, MAX_STRIDE, anchorPoints, predictDetections, type Detector, type DetectorArchitecture } from './model.js';

export const DETECTOR_INPUT_NAME = 'images';
export const DETECTOR_OUTPUT_NAME = 'output0';
/** Parity tolerances: scores (0..1) and box coordinates (input pixels, up to S). */
export const DETECTOR_PARITY = { scores: 1e-4, boxesPx: 1e-3 } as const;

export const DETECTOR_PREPROCESSING = { letterbox: true, padValue: 114, scale: 1 / 255, layout: 'NCHW', colour: 'RGB' } as const;

export const DETECTOR_META = {
  task: 'task',
  names: 'names',
  imgsz: 'imgsz',
  stride: 'stride',
  architecture: 'assay_architecture',
  preprocessing: 'assay_preprocessing',
} as const;

/** Python's repr() of a str, as Ultralytics' `names` dict literal holds them. */
export function pythonString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\' || ch === quote) out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** `{0: 'red_light', 1: 'green_light'}` */
export function pythonNamesDict(names: string[]): string {
  return `{${names.map((n, i) => `${i}: ${pythonString(n)}`).join(', ')}}`;
}

export function architectureOf(model: Detector): DetectorArchitecture {
  const { inputSize, widths, headWidth } = model.spec;
  return { family: DETECTOR_FAMILY, inputSize, widths: [...widths] as DetectorArchitecture['widths'], headWidth };
}

/** The ONNX bytes of `model` (see the header for the contract). */
export function buildDetectorOnnx(model: Detector, names: string[]): Uint8Array {
  const { inputSize: s, numClasses: nc } = model.spec;
  if (names.length !== nc) throw new Error(`model has ${nc} classes but ${names.length} names were given`);
  const g = new GraphBuilder();
  for (const l of model.layers) {
    const kernel = model.weights.get(`${l.name}.kernel`)!;
    const w = g.initializer(floatTensor(`${l.name}.kernel`, [l.cout, l.cin, l.kernel, l.kernel], permute(kernel.dataSync() as Float32Array, kernel.shape, [3, 2, 0, 1])));
    const b = g.initializer(floatTensor(`${l.name}.bias`, [l.cout], model.weights.get(`${l.name}.bias`)!.dataSync() as Float32Array));
    const inSize = l.from === 'images' ? s : s / strideOf(model, l.from);
    const info = tf.backend_util.computeConv2DInfo([1, inSize, inSize, l.cin], [l.kernel, l.kernel, l.cin, l.cout], l.stride, 1, 'same');
    const p = info.padInfo;
    const from = l.from === 'images' ? DETECTOR_INPUT_NAME : l.from;
    const attrs = [ints('kernel_shape', [l.kernel, l.kernel]), ints('strides', [l.stride, l.stride]), ints('dilations', [1, 1]), ints('pads', [p.top, p.left, p.bottom, p.right])];
    if (l.relu) g.add('Relu', [g.add('Conv', [from, w, b], attrs, `${l.name}.conv`)], [], l.name);
    else g.add('Conv', [from, w, b], attrs, l.name);
  }
  const k = 4 + nc;
  const anchors = anchorPoints(s);
  const n = anchors.count;
  const flat = model.levels.map((lv) => g.add('Reshape', [lv.head, g.initializer(int64Tensor(`${lv.head}.shape`, [1, k, lv.size * lv.size]))], [], `raw${lv.stride}`));
  const raw = g.add('Concat', flat, [int('axis', 2)], 'raw');
  const [rawBox, rawCls] = ['raw_box', 'raw_cls'];
  g.add('Split', [raw, g.initializer(int64Tensor('split.box_cls', [4, nc]))], [int('axis', 1)], [rawBox, rawCls]);
  // Same operations, in the same order, as predictDetections: softplus(raw)·stride → ltrb → cx, cy, w, h.
  const strides = g.initializer(floatTensor('decode.stride', [1, 1, n], anchors.stride));
  const dist = g.add('Mul', [g.add('Softplus', [rawBox]), strides], [], 'ltrb');
  const [l, t, r, b] = ['l', 't', 'r', 'b'].map((x) => `ltrb.${x}`);
  g.add('Split', [dist, g.initializer(int64Tensor('split.ltrb', [1, 1, 1, 1]))], [int('axis', 1)], [l, t, r, b]);
  const half = g.initializer(floatTensor('decode.half', [], Float32Array.of(0.5)));
  const ax = g.initializer(floatTensor('decode.anchor_x', [1, 1, n], anchors.x));
  const ay = g.initializer(floatTensor('decode.anchor_y', [1, 1, n], anchors.y));
  const cx = g.add('Add', [ax, g.add('Mul', [g.add('Sub', [r, l]), half])], [], 'cx');
  const cy = g.add('Add', [ay, g.add('Mul', [g.add('Sub', [b, t]), half])], [], 'cy');
  const w = g.add('Add', [l, r], [], 'w');
  const h = g.add('Add', [t, b], [], 'h');
  g.add('Concat', [cx, cy, w, h, g.add('Sigmoid', [rawCls], [], 'scores')], [int('axis', 1)], DETECTOR_OUTPUT_NAME);

  return encodeModel({
    graphName: 'assay_detector',
    docString: `Assay object detector (${DETECTOR_FAMILY}), Ultralytics detect layout`,
    graph: g,
    inputs: [valueInfo(DETECTOR_INPUT_NAME, [1, 3, s, s])],
    outputs: [valueInfo(DETECTOR_OUTPUT_NAME, [1, k, n])],
    metadata: {
      description: `Assay ${DETECTOR_FAMILY} object detector (${nc} classes, ${s}×${s})`,
      author: 'Assay',
      [DETECTOR_META.task]: 'detect',
      batch: '1',
      [DETECTOR_META.imgsz]: `[${s}, ${s}]`,
      [DETECTOR_META.stride]: String(MAX_STRIDE),
      [DETECTOR_META.names]: pythonNamesDict(names),
      [DETECTOR_META.architecture]: JSON.stringify(architectureOf(model)),
      [DETECTOR_META.preprocessing]: JSON.stringify(DETECTOR_PREPROCESSING),
    },
  });
}

function strideOf(model: Detector, layer: string): number {
  let stride = 1;
  for (let name = layer; name !== 'images';) {
    const l = model.layers.find((x) => x.name === name)!;
    stride *= l.stride;
    name = l.from;
  }
  return stride;
}

export interface DetectorParity {
  /** max |ORT − TF.js| over every output value (box rows dominate: they are in pixels). */
  maxAbsDiff: number;
  maxScoreDiff: number;
  maxBoxDiffPx: number;
  verifiedOn: number;
}

/**
 * Runs `bytes` in ONNX Runtime and `model` in TF.js on the same images (up to 8 given NHWC images
 * plus 4 random ones); throws OnnxExportMismatchError when a score differs by more than 1e-4 or a
 * box coordinate by more than 1e-3 px.
 */
export async function verifyDetectorExport(bytes: Uint8Array, model: Detector, images?: Float32Array): Promise<DetectorParity> {
  const s = model.spec.inputSize;
  const per = s * s * 3;
  const given = images ? images.subarray(0, Math.min(8, Math.floor(images.length / per)) * per) : new Float32Array(0);
  const x = new Float32Array(given.length + 4 * per);
  x.set(given);
  x.set(randomUnitValues(4 * per), given.length);
  const count = x.length / per;
  const k = 4 + model.spec.numClasses;
  const expected = tf.tidy(() => predictDetections(model, tf.tensor4d(x, [count, s, s, 3])).dataSync() as Float32Array);
  const feeds = [];
  for (let i = 0; i < count; i++) {
    const chw = permute(x.subarray(i * per, (i + 1) * per), [1, s, s, 3], [0, 3, 1, 2]);
    feeds.push({ [DETECTOR_INPUT_NAME]: new ort.Tensor('float32', chw, [1, 3, s, s]) });
  }
  const actual = await runOnnx(bytes, feeds, DETECTOR_OUTPUT_NAME);
  const n = anchorPoints(s).count;
  let maxScoreDiff = 0;
  let maxBoxDiffPx = 0;
  actual.forEach((out, i) => {
    const want = expected.subarray(i * k * n, (i + 1) * k * n);
    maxBoxDiffPx = Math.max(maxBoxDiffPx, maxAbsDifference(want, out, 0, 4 * n));
    maxScoreDiff = Math.max(maxScoreDiff, maxAbsDifference(want, out, 4 * n, k * n));
  });
  const maxAbsDiff = Math.max(maxScoreDiff, maxBoxDiffPx);
  if (!(maxScoreDiff <= DETECTOR_PARITY.scores && maxBoxDiffPx <= DETECTOR_PARITY.boxesPx)) {
    throw new OnnxExportMismatchError(
      `ONNX export does not reproduce the TF.js detector over ${count} images: max score difference ${maxScoreDiff} (tolerance ${DETECTOR_PARITY.scores}), `
      + `max box difference ${maxBoxDiffPx} px (tolerance ${DETECTOR_PARITY.boxesPx}). Refusing to ship this artifact.`, maxAbsDiff);
  }
  return { maxAbsDiff, maxScoreDiff, maxBoxDiffPx, verifiedOn: count };
}

export async function exportDetectorToOnnx(model: Detector, names: string[], verificationImages?: Float32Array): Promise<{ onnx: Uint8Array } & DetectorParity> {
  const onnx = buildDetectorOnnx(model, names);
  return { onnx, ...(await verifyDetectorExport(onnx, model, verificationImages)) };
}
