/** Reading Assay's ONNX artifacts back: metadata (labels, input size) and weights (for fine-tuning). */
import onnxProto from 'onnx-proto';
import { CorruptArtifactError, OnnxMetadataError } from './errors.js';

export const { onnx } = onnxProto;
export type Long = { toNumber(): number };

/** protobufjs decodes int64 fields as Long objects. */
export function toNumber(v: number | Long | null | undefined): number {
  if (v == null) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export const META = {
  labels: 'labels',
  inputSize: 'input_size',
  inputName: 'input_name',
  outputName: 'output_name',
  layout: 'input_layout',
  preprocessing: 'preprocessing',
  architecture: 'architecture',
} as const;

export interface OnnxModelMetadata {
  labels: string[];
  imageSize: number;
  inputName: string;
  outputName: string;
  /** Always 'NHWC' for Assay exports: input is [N, imageSize, imageSize, 3]. */
  layout: string;
  preprocessing: Record<string, unknown> | null;
  architecture: { convFilters?: number[] } | null;
  irVersion: number;
  opsetVersion: number;
  /** All metadata_props as written. */
  props: Record<string, string>;
}

export function decodeModel(bytes: Uint8Array): InstanceType<typeof onnx.ModelProto> {
  if (!bytes || bytes.length === 0) throw new CorruptArtifactError('ONNX artifact is empty (0 bytes)');
  let model: InstanceType<typeof onnx.ModelProto>;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new CorruptArtifactError(`ONNX artifact (${bytes.length} bytes) is not a valid ONNX protobuf: ${(err as Error).message}`, { cause: err });
  }
  if (!model.graph || !model.graph.node?.length) {
    throw new CorruptArtifactError(`ONNX artifact (${bytes.length} bytes) has no graph (truncated or not an ONNX model)`);
  }
  return model;
}

function parseJson<T>(text: string | undefined, what: string): T | null {
  if (text === undefined) return null;
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new OnnxMetadataError(`ONNX metadata '${what}' is not valid JSON`);
  }
}

export function readOnnxMetadata(bytes: Uint8Array): OnnxModelMetadata {
  const model = decodeModel(bytes);
  const props: Record<string, string> = {};
  for (const p of model.metadataProps) props[p.key ?? ''] = p.value ?? '';
  const labels = parseJson<unknown>(props[META.labels], META.labels);
  if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'string')) {
    throw new OnnxMetadataError(`ONNX model has no '${META.labels}' metadata (a JSON array of strings)`);
  }
  const imageSize = Number(props[META.inputSize]);
  if (!Number.isInteger(imageSize) || imageSize <= 0) throw new OnnxMetadataError(`ONNX model has no valid '${META.inputSize}' metadata`);
  const graph = model.graph!;
  return {
    labels,
    imageSize,
    inputName: props[META.inputName] ?? graph.input?.[0]?.name ?? 'input',
    outputName: props[META.outputName] ?? graph.output?.[0]?.name ?? 'probabilities',
    layout: props[META.layout] ?? 'NHWC',
    preprocessing: parseJson(props[META.preprocessing], META.preprocessing),
    architecture: parseJson(props[META.architecture], META.architecture),
    irVersion: toNumber(model.irVersion),
    opsetVersion: toNumber(model.opsetImport.find((o) => !o.domain)?.version),
    props,
  };
}

/**
 * Initializers in TF.js layout, keyed as exported (`<layer>.kernel`, `<layer>.bias`).
 * 4-D kernels are stored OIHW in ONNX and converted back to TF's HWIO here.
 */
export function readOnnxWeights(bytes: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const model = decodeModel(bytes);
  const out = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const t of model.graph!.initializer ?? []) {
    if (t.dataType !== onnx.TensorProto.DataType.FLOAT) continue; // e.g. int64 shape constants
    const dims = (t.dims ?? []).map(toNumber);
    const name = t.name ?? '';
    const count = dims.reduce((a, b) => a * b, 1);
    let values: Float32Array;
    if (t.rawData && t.rawData.length > 0) {
      const view = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
      values = new Float32Array(count);
      for (let i = 0; i < count; i++) values[i] = view.getFloat32(i * 4, true);
    } else {
      values = Float32Array.from(t.floatData ?? []);
    }
    if (values.length !== count) throw new CorruptArtifactError(`initializer ${name} holds ${values.length} values for dims ${dims}`);
    if (dims.length === 4) {
      const [o, i, h, w] = dims;
      out.set(name, { shape: [h, w, i, o], values: permute(values, dims, [2, 3, 1, 0]) });
    } else {
      out.set(name, { shape: dims, values });
    }
  }
  return out;
}

/** Transposes a dense row-major 4-D array: result dims are dims[perm[k]]. */
export function permute(values: Float32Array, dims: number[], perm: number[]): Float32Array {
  const outDims = perm.map((p) => dims[p]);
  const inStrides = [dims[1] * dims[2] * dims[3], dims[2] * dims[3], dims[3], 1];
  const s = perm.map((p) => inStrides[p]);
  const out = new Float32Array(values.length);
  let k = 0;
  for (let a = 0; a < outDims[0]; a++)
    for (let b = 0; b < outDims[1]; b++)
      for (let c = 0; c < outDims[2]; c++)
        for (let d = 0; d < outDims[3]; d++) out[k++] = values[a * s[0] + b * s[1] + c * s[2] + d * s[3]];
  return out;
}
