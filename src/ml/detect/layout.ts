/**
 * Detector ONNX in the Ultralytics layout (what `yolo export format=onnx` writes for YOLOv8/YOLO11
 * detect models), checked before anything runs so a file that does not fit is refused with one
 * message naming what is wrong:
 *   input  [1, 3, H, W] float32, RGB 0..1, letterboxed (pad 114)
 *   output [1, 4 + nc, N] float32: rows cx, cy, w, h (input pixels), then nc class scores in 0..1
 *   metadata_props task=detect, names={0: 'a', ...}, imgsz=[H, W], stride
 */
import type onnxProto from 'onnx-proto';
import { CorruptArtifactError } from '../onnx/errors.js';
import { META, decodeModel, onnx, toNumber, type Long } from '../onnx/read.js';
import { ClassNamesSyntaxError, parseClassNames } from './names.js';

export class DetectorLayoutError extends Error {
  override name = 'DetectorLayoutError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface DetectorInfo {
  task: 'detect';
  inputName: string;
  outputName: string;
  inputSize: { height: number; width: number };
  /** Class names in output order. */
  names: string[];
  stride: number | null;
  /** N, the candidate boxes per image. */
  candidates: number;
  props: Record<string, string>;
}

/** The pre/post-processing an edge needs to run a detector (Ultralytics' conventions). */
export const DETECT_DEFAULTS = {
  letterbox: true,
  padValue: 114,
  scale: 1 / 255,
  layout: 'NCHW',
  colour: 'RGB',
  /** What an edge reports; evaluation keeps everything above evalConfThreshold for mAP. */
  confThreshold: 0.25,
  evalConfThreshold: 0.001,
  iouThreshold: 0.7,
  maxCandidates: 30000,
  maxDetections: 300,
} as const;

type ModelProto = InstanceType<typeof onnx.ModelProto>;
type ValueInfo = onnxProto.onnx.IValueInfoProto;

const FLOAT = onnx.TensorProto.DataType.FLOAT;
const typeName = (t: number): string => (onnx.TensorProto.DataType as unknown as Record<number, string>)[t]?.toLowerCase() ?? `type ${t}`;

/** Dims as numbers, a symbolic (dynamic) dim as its name. */
function dims(v: ValueInfo): Array<number | string> | null {
  const shape = v.type?.tensorType?.shape;
  if (!shape) return null;
  return (shape.dim ?? []).map((d) => (d.dimParam ? d.dimParam : d.dimValue != null ? toNumber(d.dimValue as number | Long) : '?'));
}
const fmt = (d: Array<number | string> | null): string => (d ? `[${d.join(', ')}]` : 'no static shape');

function props(model: ModelProto): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of model.metadataProps ?? []) out[p.key ?? ''] = p.value ?? '';
  return out;
}

function decode(bytes: Uint8Array): ModelProto {
  try {
    return decodeModel(bytes);
  } catch (err) {
    if (err instanceof CorruptArtifactError) throw new DetectorLayoutError(`not a readable ONNX file (truncated or not ONNX): ${err.message}`, { cause: err });
    throw err;
  }
}

/** `[320, 320]`, `[320]` or `320` → {height, width}. */
function parseImgsz(text: string): { height: number; width: number } {
  const nums = text.replace(/[[\]()\s]/g, '').split(',').filter((s) => s !== '').map(Number);
  const ok = nums.length >= 1 && nums.length <= 2 && nums.every((n) => Number.isInteger(n) && n > 0);
  if (!ok) throw new DetectorLayoutError(`ONNX metadata 'imgsz' is '${text}'; expected [height, width] or one size`);
  return { height: nums[0], width: nums[1] ?? nums[0] };
}

function readNames(p: Record<string, string>): string[] {
  if (p.names === undefined) throw new DetectorLayoutError(`ONNX metadata has no 'names' (class names in output order, e.g. {0: 'red_light', 1: 'green_light'}): not an Ultralytics detect export, or a truncated file`);
  try {
    return parseClassNames(p.names);
  } catch (err) {
    if (!(err instanceof ClassNamesSyntaxError)) throw err;
    const shown = p.names.length > 80 ? `${p.names.slice(0, 77)}...` : p.names;
    throw new DetectorLayoutError(`ONNX metadata 'names' is not a Python dict of class names (${err.message}): ${shown}`);
  }
}

function checkTask(p: Record<string, string>): void {
  if (p.task === undefined) throw new DetectorLayoutError(`ONNX metadata has no 'task': not an Ultralytics detect export (which writes task=detect), or a truncated file`);
  if (p.task !== 'detect') throw new DetectorLayoutError(`ONNX metadata task is '${p.task}'; only Ultralytics detect models (task=detect) are evaluated as detectors`);
}

/** The graph's real inputs (IR < 4 also lists initializers as inputs). */
function graphInputs(model: ModelProto): ValueInfo[] {
  const inits = new Set((model.graph!.initializer ?? []).map((t) => t.name));
  return (model.graph!.input ?? []).filter((i) => !inits.has(i.name));
}

export function readDetectorInfo(bytes: Uint8Array): DetectorInfo {
  const model = decode(bytes);
  const p = props(model);
  checkTask(p);
  const names = readNames(p);

  const inputs = graphInputs(model);
  if (inputs.length !== 1) throw new DetectorLayoutError(`the model has ${inputs.length} inputs; expected one image input [1, 3, H, W]`);
  const input = inputs[0];
  const inName = input.name ?? '';
  const inElem = input.type?.tensorType?.elemType ?? 0;
  if (inElem !== FLOAT) throw new DetectorLayoutError(`input '${inName}' is ${typeName(inElem)}; expected float32 (export with half=False)`);
  const inDims = dims(input);
  if (!inDims || inDims.length !== 4 || inDims[0] !== 1 || inDims[1] !== 3 || typeof inDims[2] !== 'number' || typeof inDims[3] !== 'number' || inDims[2] <= 0 || inDims[3] <= 0) {
    throw new DetectorLayoutError(`input '${inName}' has shape ${fmt(inDims)}; expected [1, 3, H, W] with a static H and W (export with dynamic=False, batch=1)`);
  }
  const inputSize = { height: inDims[2], width: inDims[3] };
  if (p.imgsz !== undefined) {
    const imgsz = parseImgsz(p.imgsz);
    if (imgsz.height !== inputSize.height || imgsz.width !== inputSize.width) {
      throw new DetectorLayoutError(`ONNX metadata imgsz ${p.imgsz} does not match input '${inName}' of shape ${fmt(inDims)}`);
    }
  }

  const outputs = model.graph!.output ?? [];
  if (outputs.length === 0) throw new DetectorLayoutError('the model has no output');
  const output = outputs[0];
  const outName = output.name ?? '';
  const outElem = output.type?.tensorType?.elemType ?? 0;
  if (outElem !== FLOAT) throw new DetectorLayoutError(`output '${outName}' is ${typeName(outElem)}; expected float32`);
  const outDims = dims(output);
  const rows = 4 + names.length;
  if (!outDims || outDims.length !== 3 || outDims[0] !== 1 || outDims[1] !== rows || typeof outDims[2] !== 'number' || outDims[2] <= 0) {
    const hint = outDims?.length === 3 && outDims[2] === rows ? ' (transposed: candidates first)'
      : outDims?.length === 3 && outDims[1] === rows + 1 ? ' (an objectness row, as YOLOv5 writes, is not supported)' : '';
    throw new DetectorLayoutError(
      `output '${outName}' has shape ${fmt(outDims)}; expected [1, 4 + nc, N] = [1, ${rows}, N] for the ${names.length} classes in 'names'${hint}`);
  }

  let stride: number | null = null;
  if (p.stride !== undefined) {
    stride = Number(p.stride);
    if (!Number.isInteger(stride) || stride <= 0) throw new DetectorLayoutError(`ONNX metadata 'stride' is '${p.stride}'; expected a positive integer`);
  }
  return { task: 'detect', inputName: inName, outputName: outName, inputSize, names, stride, candidates: outDims[2], props: p };
}

/**
 * Which evaluator a model needs: Assay's own classifier export (metadata `labels`) or an
 * Ultralytics detector (metadata `task=detect`). Throws for anything else.
 */
export function modelTaskOf(bytes: Uint8Array): 'detect' | 'classify' {
  const p = props(decode(bytes));
  if (p[META.labels] !== undefined) return 'classify';
  if (p.task === 'detect') return 'detect';
  if (p.task !== undefined) {
    throw new DetectorLayoutError(`ONNX metadata task is '${p.task}'; Assay evaluates its own classifiers and Ultralytics detect models (task=detect)`);
  }
  throw new DetectorLayoutError(`the ONNX model has neither Assay classifier metadata ('${META.labels}') nor Ultralytics detector metadata (task=detect)`);
}
