// Tiny ONNX detectors in the Ultralytics layout, built with onnx-proto like src/ml/onnx/export.ts:
// the output is a fixed [1, 4 + nc, N] tensor (plus 0 × the image mean, so the input is used),
// so a test knows exactly which boxes the "model" predicts in input pixels. Every part of the
// layout (shapes, element types, metadata) can be overridden to build non-conforming files.
import { onnx } from '../../src/ml/onnx/read.js';

const A = onnx.AttributeProto.AttributeType;
const FLOAT = onnx.TensorProto.DataType.FLOAT;

export interface TinyDetectorSpec {
  names?: string[];
  /** [height, width] */
  inputSize?: [number, number];
  /** Candidates per image. */
  n?: number;
  /** Row-major [4 + nc, N]: cx, cy, w, h rows, then class scores. Zeros by default. */
  output?: Float32Array;
  /** Metadata overrides; `undefined` removes a key. */
  props?: Record<string, string | undefined>;
  inputDims?: Array<number | string>;
  outputDims?: Array<number | string>;
  inputElemType?: number;
  /** Replace the Add node's op type (e.g. an unknown op ONNX Runtime refuses). */
  addOpType?: string;
}

function valueInfo(name: string, dims: Array<number | string>, elemType = FLOAT) {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType, shape: { dim } } } };
}

function floatTensor(name: string, dims: number[], values: Float32Array) {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dims, dataType: FLOAT, rawData: raw };
}

export const pyDict = (names: string[]): string => `{${names.map((n, i) => `${i}: '${n}'`).join(', ')}}`;

export function tinyDetectorOnnx(spec: TinyDetectorSpec = {}): Uint8Array {
  const names = spec.names ?? ['red_light', 'yellow_light', 'green_light'];
  const [H, W] = spec.inputSize ?? [16, 16];
  const n = spec.n ?? 4;
  const rows = 4 + names.length;
  const output = spec.output ?? new Float32Array(rows * n);
  if (output.length !== rows * n) throw new Error(`output holds ${output.length} values, not ${rows}×${n}`);
  const props: Record<string, string | undefined> = {
    description: 'tiny test detector', stride: '8', task: 'detect', batch: '1', imgsz: `[${H}, ${W}]`, names: pyDict(names), ...spec.props,
  };
  const proto = onnx.ModelProto.create({
    irVersion: 7,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'assay-test',
    graph: {
      name: 'tiny_detector',
      node: [
        { opType: 'ReduceMean', input: ['images'], output: ['mean'], name: 'mean', attribute: [{ name: 'axes', type: A.INTS, ints: [1, 2, 3] }, { name: 'keepdims', type: A.INT, i: 0 }] },
        { opType: 'Mul', input: ['mean', 'zero'], output: ['nothing'], name: 'times_zero', attribute: [] },
        { opType: spec.addOpType ?? 'Add', input: ['predictions', 'nothing'], output: ['output0'], name: 'add', attribute: [] },
      ],
      initializer: [floatTensor('zero', [1], new Float32Array([0])), floatTensor('predictions', [1, rows, n], output)],
      input: [valueInfo('images', spec.inputDims ?? [1, 3, H, W], spec.inputElemType ?? FLOAT)],
      output: [valueInfo('output0', spec.outputDims ?? [1, rows, n])],
    },
    metadataProps: Object.entries(props).filter(([, v]) => v !== undefined).map(([key, value]) => ({ key, value })),
  });
  return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}

/** Output rows for given candidates: each {cx, cy, w, h, scores[nc]}. */
export function candidates(nc: number, list: Array<{ box: [number, number, number, number]; scores: number[] }>): Float32Array {
  const n = list.length;
  const out = new Float32Array((4 + nc) * n);
  list.forEach(({ box, scores }, a) => {
    box.forEach((v, r) => { out[r * n + a] = v; });
    scores.forEach((v, c) => { out[(4 + c) * n + a] = v; });
  });
  return out;
}
