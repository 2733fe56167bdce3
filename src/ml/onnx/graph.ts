/**
 * Building ONNX graphs with onnx-proto (shared by the classifier and detector exporters) and
 * running them in ONNX Runtime for the parity checks every export must pass.
 */
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { onnx } from './read.js';

export const OPSET_VERSION = 13;
export const IR_VERSION = 7; // the IR version that introduced opset 13 (ONNX 1.8)

const A = onnx.AttributeProto.AttributeType;
export interface Attr { name: string; type: number; ints?: number[]; i?: number }
export const ints = (name: string, v: number[]): Attr => ({ name, type: A.INTS, ints: v });
export const int = (name: string, v: number): Attr => ({ name, type: A.INT, i: v });

export function floatTensor(name: string, dims: number[], values: Float32Array) {
  const raw = new Uint8Array(values.length * 4);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true)); // ONNX raw_data is little-endian
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: raw };
}

export function int64Tensor(name: string, values: number[]) {
  const raw = new Uint8Array(values.length * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: raw };
}

export type Initializer = ReturnType<typeof floatTensor> | ReturnType<typeof int64Tensor>;

export function valueInfo(name: string, dims: Array<number | string>) {
  const dim = dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d }));
  return { name, type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim } } } };
}

/** Nodes and initializers of one graph, appended in execution order. */
export class GraphBuilder {
  readonly nodes: Array<{ opType: string; input: string[]; output: string[]; name: string; attribute: Attr[] }> = [];
  readonly initializers: Initializer[] = [];

  /** Adds a node and returns its (first) output name. */
  add(opType: string, inputs: string[], attribute: Attr[] = [], out: string | string[] = `${opType.toLowerCase()}_${this.nodes.length}`): string {
    const outputs = Array.isArray(out) ? out : [out];
    this.nodes.push({ opType, input: inputs, output: outputs, name: `${opType}_${this.nodes.length}`, attribute });
    return outputs[0];
  }

  initializer(t: Initializer): string {
    this.initializers.push(t);
    return t.name;
  }
}

export interface ModelDescription {
  graphName: string;
  docString: string;
  graph: GraphBuilder;
  inputs: ReturnType<typeof valueInfo>[];
  outputs: ReturnType<typeof valueInfo>[];
  metadata: Record<string, string>;
}

export function encodeModel(d: ModelDescription): Uint8Array {
  const proto = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET_VERSION }],
    producerName: 'assay',
    producerVersion: `tfjs-${tf.version.tfjs}`,
    docString: d.docString,
    graph: { name: d.graphName, node: d.graph.nodes, initializer: d.graph.initializers, input: d.inputs, output: d.outputs },
    metadataProps: Object.entries(d.metadata).map(([key, value]) => ({ key, value })),
  });
  // Copy out of protobufjs's (possibly pooled) Buffer so the bytes own their ArrayBuffer and can be transferred.
  return new Uint8Array(onnx.ModelProto.encode(proto).finish());
}

/** Deterministic pseudo-random values in 0..1, so parity is also checked off the training distribution. */
export function randomUnitValues(count: number, seed = 12345): Float32Array {
  const out = new Float32Array(count);
  let s = seed;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out[i] = (s >>> 8) / 2 ** 24;
  }
  return out;
}

/** Runs the model once per feed in ONNX Runtime and returns `outputName` of each run. */
export async function runOnnx(bytes: Uint8Array, feeds: Array<Record<string, ort.Tensor>>, outputName: string): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  try {
    const out: Float32Array[] = [];
    for (const feed of feeds) out.push((await session.run(feed))[outputName].data as Float32Array);
    return out;
  } finally {
    await session.release();
  }
}

/** max |a − b| over equal-length arrays (Infinity when lengths differ or a value is NaN). */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length): number {
  if (a.length !== b.length) return Infinity;
  let max = 0;
  for (let i = from; i < to; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (Number.isNaN(d)) return Infinity;
    if (d > max) max = d;
  }
  return max;
}
