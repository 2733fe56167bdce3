/**
 * What an edge does with a downloaded detector: one photo in, the boxes it finds out, with class
 * names — the same letterbox, decode and NMS as the evaluation, at the edge's score threshold
 * (0.25). The model's layout is checked first (readDetectorInfo), so a wrong file fails with why.
 */
import * as ort from 'onnxruntime-node';
import { decodeRgb } from '../dataset/crops.js';
import { CorruptArtifactError } from '../onnx/errors.js';
import { DETECT_DEFAULTS, DetectorLayoutError, readDetectorInfo, type DetectorInfo } from './layout.js';
import { letterbox } from './letterbox.js';
import { decodeDetections, mapBack, type DecodeOptions } from './postprocess.js';

export interface FoundObject {
  className: string;
  score: number;
  /** COCO [x, y, w, h] in the photo's pixels. */
  bbox: [number, number, number, number];
}

export interface PhotoDetections {
  objects: FoundObject[];
  width: number;
  height: number;
  info: DetectorInfo;
}

/** A loaded detector that runs photo after photo (one ONNX Runtime session). */
export class EdgeDetector {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly info: DetectorInfo,
  ) {}

  static async load(onnxBytes: Uint8Array): Promise<EdgeDetector> {
    const info = readDetectorInfo(onnxBytes); // DetectorLayoutError when the file does not fit
    try {
      return new EdgeDetector(await ort.InferenceSession.create(Buffer.from(onnxBytes.buffer, onnxBytes.byteOffset, onnxBytes.byteLength)), info);
    } catch (err) {
      throw new CorruptArtifactError(`ONNX Runtime cannot load the model (${onnxBytes.length} bytes): ${(err as Error).message}`, { cause: err });
    }
  }

  /** The objects in an encoded photo (PNG, JPEG...), highest scores first. */
  async detect(photo: Buffer, opts: DecodeOptions = {}): Promise<PhotoDetections> {
    const { info } = this;
    const rgb = await decodeRgb(photo);
    const lb = await letterbox(rgb.data, rgb.width, rgb.height, info.inputSize, DETECT_DEFAULTS.padValue);
    const { height: H, width: W } = info.inputSize;
    const result = await this.session.run({ [info.inputName]: new ort.Tensor('float32', lb.data, [1, 3, H, W]) });
    const tensor = result[info.outputName];
    const nc = info.names.length;
    if (tensor.dims.length !== 3 || tensor.dims[1] !== 4 + nc || tensor.dims[2] !== info.candidates) {
      throw new DetectorLayoutError(`ONNX Runtime's output '${info.outputName}' has shape [${tensor.dims.join(', ')}], not the declared [1, ${4 + nc}, ${info.candidates}]`);
    }
    const dets = decodeDetections(tensor.data as Float32Array, nc, info.candidates, { confThreshold: DETECT_DEFAULTS.confThreshold, ...opts });
    const boxes = mapBack(dets.boxes, lb, rgb.width, rgb.height);
    const objects: FoundObject[] = [];
    for (let d = 0; d < dets.count; d++) {
      const [x1, y1, x2, y2] = [boxes[4 * d], boxes[4 * d + 1], boxes[4 * d + 2], boxes[4 * d + 3]];
      objects.push({ className: info.names[dets.classes[d]], score: dets.scores[d], bbox: [x1, y1, x2 - x1, y2 - y1] });
    }
    return { objects, width: rgb.width, height: rgb.height, info };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** Loads the model, runs it on one photo, releases it. */
export async function detectObjects(onnxBytes: Uint8Array, photo: Buffer, opts: DecodeOptions = {}): Promise<PhotoDetections> {
  const detector = await EdgeDetector.load(onnxBytes);
  try {
    return await detector.detect(photo, opts);
  } finally {
    await detector.release();
  }
}
