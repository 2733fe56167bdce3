import { describe, expect, it } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { DETECT_DEFAULTS, DetectorLayoutError, modelTaskOf, readDetectorInfo } from '../../../src/ml/detect/layout.js';
import { onnx } from '../../../src/ml/onnx/read.js';
import { tinyDetectorOnnx } from '../../helpers/detector-onnx.js';

const CASE = path.resolve('test/fixtures/detect-eval/case_public');
const reference = new Uint8Array(fs.readFileSync(path.join(CASE, 'model.onnx')));

function layoutError(bytes: Uint8Array): string {
  try {
    readDetectorInfo(bytes);
  } catch (e) {
    expect(e).toBeInstanceOf(DetectorLayoutError);
    return (e as Error).message;
  }
  throw new Error('readDetectorInfo accepted the file');
}

describe('readDetectorInfo', () => {
  it('reads the reference Ultralytics-layout detector', () => {
    expect(readDetectorInfo(reference)).toEqual({
      task: 'detect',
      inputName: 'images',
      outputName: 'output0',
      inputSize: { height: 320, width: 320 },
      names: ['red_light', 'yellow_light', 'green_light'],
      stride: 16,
      candidates: 2000,
      props: { description: 'tiny test detector', stride: '16', task: 'detect', batch: '1', imgsz: '[320, 320]', names: "{0: 'red_light', 1: 'yellow_light', 2: 'green_light'}" },
    });
  });

  it('takes imgsz as one number or leaves it out, and stride as optional', () => {
    const info = readDetectorInfo(tinyDetectorOnnx({ inputSize: [24, 32], props: { imgsz: undefined, stride: undefined } }));
    expect(info.inputSize).toEqual({ height: 24, width: 32 });
    expect(info.stride).toBeNull();
    expect(readDetectorInfo(tinyDetectorOnnx({ inputSize: [16, 16], props: { imgsz: '16' } })).inputSize).toEqual({ height: 16, width: 16 });
  });

  const cases: Array<[string, () => Uint8Array, string]> = [
    ['output transposed', () => tinyDetectorOnnx({ outputDims: [1, 4, 7] }),
      "output 'output0' has shape [1, 4, 7]; expected [1, 4 + nc, N] = [1, 7, N] for the 3 classes in 'names' (transposed: candidates first)"],
    ['an objectness row', () => tinyDetectorOnnx({ outputDims: [1, 8, 4] }),
      "output 'output0' has shape [1, 8, 4]; expected [1, 4 + nc, N] = [1, 7, N] for the 3 classes in 'names' (an objectness row, as YOLOv5 writes, is not supported)"],
    ['more classes than names', () => tinyDetectorOnnx({ outputDims: [1, 84, 4] }),
      "output 'output0' has shape [1, 84, 4]; expected [1, 4 + nc, N] = [1, 7, N] for the 3 classes in 'names'"],
    ['a 2-D output', () => tinyDetectorOnnx({ outputDims: [1, 7] }),
      "output 'output0' has shape [1, 7]; expected [1, 4 + nc, N] = [1, 7, N] for the 3 classes in 'names'"],
    ['a dynamic candidate count', () => tinyDetectorOnnx({ outputDims: [1, 7, 'anchors'] }),
      "output 'output0' has shape [1, 7, anchors]; expected [1, 4 + nc, N] = [1, 7, N] for the 3 classes in 'names'"],
    ['task classify', () => tinyDetectorOnnx({ props: { task: 'classify' } }),
      "ONNX metadata task is 'classify'; only Ultralytics detect models (task=detect) are evaluated as detectors"],
    ['task segment', () => tinyDetectorOnnx({ props: { task: 'segment' } }),
      "ONNX metadata task is 'segment'; only Ultralytics detect models (task=detect) are evaluated as detectors"],
    ['no task', () => tinyDetectorOnnx({ props: { task: undefined } }),
      "ONNX metadata has no 'task': not an Ultralytics detect export (which writes task=detect), or a truncated file"],
    ['no names', () => tinyDetectorOnnx({ props: { names: undefined } }),
      "ONNX metadata has no 'names' (class names in output order, e.g. {0: 'red_light', 1: 'green_light'}): not an Ultralytics detect export, or a truncated file"],
    ['malformed names', () => tinyDetectorOnnx({ props: { names: "{0: 'red_light', 1: 'yellow_light', 2: green_light}" } }),
      "ONNX metadata 'names' is not a Python dict of class names (expected a quoted class name at character 40): {0: 'red_light', 1: 'yellow_light', 2: green_light}"],
    ['names with a gap', () => tinyDetectorOnnx({ props: { names: "{0: 'a', 1: 'b', 3: 'c'}" } }),
      "ONNX metadata 'names' is not a Python dict of class names (class indices must be 0..2; 2 is missing): {0: 'a', 1: 'b', 3: 'c'}"],
    ['float16 input', () => tinyDetectorOnnx({ inputElemType: onnx.TensorProto.DataType.FLOAT16 }),
      "input 'images' is float16; expected float32 (export with half=False)"],
    ['NHWC input', () => tinyDetectorOnnx({ inputDims: [1, 16, 16, 3] }),
      "input 'images' has shape [1, 16, 16, 3]; expected [1, 3, H, W] with a static H and W (export with dynamic=False, batch=1)"],
    ['dynamic input', () => tinyDetectorOnnx({ inputDims: ['batch', 3, 'height', 'width'] }),
      "input 'images' has shape [batch, 3, height, width]; expected [1, 3, H, W] with a static H and W (export with dynamic=False, batch=1)"],
    ['imgsz not the input size', () => tinyDetectorOnnx({ props: { imgsz: '[640, 640]' } }),
      "ONNX metadata imgsz [640, 640] does not match input 'images' of shape [1, 3, 16, 16]"],
    ['imgsz unreadable', () => tinyDetectorOnnx({ props: { imgsz: 'big' } }),
      "ONNX metadata 'imgsz' is 'big'; expected [height, width] or one size"],
    ['stride unreadable', () => tinyDetectorOnnx({ props: { stride: '8.5' } }),
      "ONNX metadata 'stride' is '8.5'; expected a positive integer"],
    ['empty bytes', () => new Uint8Array(0),
      'not a readable ONNX file (truncated or not ONNX): ONNX artifact is empty (0 bytes)'],
    ['a PNG', () => fs.readFileSync(path.join(CASE, 'dataset/images/0001.png')),
      'not a readable ONNX file (truncated or not ONNX): ONNX artifact (1918 bytes) is not a valid ONNX protobuf: invalid wire type 6 at offset 31'],
    ['the reference model missing its last byte', () => reference.slice(0, reference.length - 1),
      'not a readable ONNX file (truncated or not ONNX): ONNX artifact (699053 bytes) is not a valid ONNX protobuf: index out of range: 699001 + 53 > 699053'],
    ['the reference model cut in half', () => reference.slice(0, reference.length >> 1),
      'not a readable ONNX file (truncated or not ONNX): ONNX artifact (349527 bytes) is not a valid ONNX protobuf: index out of range: 306884 + 82944 > 349527'],
  ];
  it.each(cases)('refuses %s with one clear message', (_name, make, message) => {
    expect(layoutError(make())).toBe(message);
  });

  it('a file cut between its metadata entries says what is missing and that it may be truncated', () => {
    // metadata_props come last; `names` is the last entry Ultralytics writes.
    const full = tinyDetectorOnnx();
    const withoutNames = tinyDetectorOnnx({ props: { names: undefined } });
    expect(Buffer.from(full.subarray(0, withoutNames.length)).equals(Buffer.from(withoutNames))).toBe(true);
    expect(layoutError(full.slice(0, withoutNames.length))).toMatch(/^ONNX metadata has no 'names' .*or a truncated file$/);
  });

  it('every file cut short is refused, never read as a smaller detector', () => {
    for (let cut = 0; cut < reference.length; cut += 4999) {
      expect(() => readDetectorInfo(reference.slice(0, cut))).toThrow(DetectorLayoutError);
    }
  });
});

describe('modelTaskOf', () => {
  it('tells Ultralytics detectors from Assay classifiers', () => {
    expect(modelTaskOf(reference)).toBe('detect');
    expect(modelTaskOf(tinyDetectorOnnx({ props: { task: undefined, labels: '["red_light","green_light"]' } }))).toBe('classify');
  });

  it('refuses anything else with a reason', () => {
    expect(() => modelTaskOf(tinyDetectorOnnx({ props: { task: 'pose' } }))).toThrow(
      "ONNX metadata task is 'pose'; Assay evaluates its own classifiers and Ultralytics detect models (task=detect)");
    expect(() => modelTaskOf(tinyDetectorOnnx({ props: { task: undefined } }))).toThrow(
      "the ONNX model has neither Assay classifier metadata ('labels') nor Ultralytics detector metadata (task=detect)");
    expect(() => modelTaskOf(new Uint8Array([1, 2, 3]))).toThrow(DetectorLayoutError);
  });

  it('DETECT_DEFAULTS are the edge contract', () => {
    expect(DETECT_DEFAULTS).toEqual({
      letterbox: true, padValue: 114, scale: 1 / 255, layout: 'NCHW', colour: 'RGB', confThreshold: 0.25,
      evalConfThreshold: 0.001, iouThreshold: 0.7, maxCandidates: 30000, maxDetections: 300,
    });
  });
});
