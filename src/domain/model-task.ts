/**
 * What a model version is (its task) and what an edge needs to run it: the runtime descriptor
 * stored with the version and sent in the edge assignment. Pure values, no ONNX reading here:
 * callers pass what the trainer or the layout reader found.
 */

export const MODEL_TASKS = ['detect', 'classify'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/** Ultralytics' conventions, the same numbers as DETECT_DEFAULTS in src/ml/detect/layout.ts. */
export const DETECT_RUNTIME_DEFAULTS = {
  padValue: 114,
  scale: 1 / 255,
  confThreshold: 0.25,
  iouThreshold: 0.7,
  maxDetections: 300,
} as const;

/** Our classifier export's tensor names (src/ml/onnx/export.ts). */
const CLASSIFIER_IO = { input: 'input', output: 'probabilities' } as const;
/** Ultralytics' (and our detector export's) tensor names. */
const DETECTOR_IO = { input: 'images', output: 'output0' } as const;

export interface DetectRuntime {
  task: 'detect';
  format: 'onnx';
  input: { name: string; shape: [1, 3, number, number]; dtype: 'float32'; layout: 'NCHW'; colour: 'RGB' };
  /** Input height and width in pixels. */
  inputSize: { height: number; width: number };
  /** Class names in the order of the output's score rows. */
  classNames: string[];
  preprocess: { resize: 'letterbox'; padValue: number; scale: number };
  postprocess: {
    output: { name: string; shape: [1, number, number]; rows: 'cx, cy, w, h (input pixels), then one score per class' };
    confThreshold: number;
    iouThreshold: number;
    nms: 'class-aware';
    maxDetections: number;
  };
}

export interface ClassifyRuntime {
  task: 'classify';
  format: 'onnx';
  /** null when the version was recorded without its input shape (older remote-trainer callbacks). */
  input: { name: string; shape: number[] | null; dtype: 'float32'; layout: 'NHWC'; colour: 'RGB' };
  inputSize: { height: number; width: number } | null;
  /** Labels in the order of the output's probabilities. */
  classNames: string[];
  preprocess: { resize: 'crop the annotation box, stretch to the input size'; scale: number };
  postprocess: { output: { name: string; shape: ['N', number] }; kind: 'softmax probabilities, argmax is the label' };
}

export type ModelRuntime = DetectRuntime | ClassifyRuntime;

export function isModelTask(v: unknown): v is ModelTask {
  return typeof v === 'string' && (MODEL_TASKS as readonly string[]).includes(v);
}

export function detectRuntime(input: {
  inputSize: { height: number; width: number };
  classNames: string[];
  /** N, the candidate boxes per image; known from the ONNX output shape. */
  candidates: number;
  inputName?: string;
  outputName?: string;
}): DetectRuntime {
  const { height, width } = input.inputSize;
  const nc = input.classNames.length;
  return {
    task: 'detect',
    format: 'onnx',
    input: { name: input.inputName ?? DETECTOR_IO.input, shape: [1, 3, height, width], dtype: 'float32', layout: 'NCHW', colour: 'RGB' },
    inputSize: { height, width },
    classNames: [...input.classNames],
    preprocess: { resize: 'letterbox', padValue: DETECT_RUNTIME_DEFAULTS.padValue, scale: DETECT_RUNTIME_DEFAULTS.scale },
    postprocess: {
      output: { name: input.outputName ?? DETECTOR_IO.output, shape: [1, 4 + nc, input.candidates], rows: 'cx, cy, w, h (input pixels), then one score per class' },
      confThreshold: DETECT_RUNTIME_DEFAULTS.confThreshold,
      iouThreshold: DETECT_RUNTIME_DEFAULTS.iouThreshold,
      nms: 'class-aware',
      maxDetections: DETECT_RUNTIME_DEFAULTS.maxDetections,
    },
  };
}

/** `inputShape` is the classifier's per-image NHWC shape, [1, S, S, 3]. */
export function classifyRuntime(input: { labels: string[]; inputShape: number[] | null; inputName?: string; outputName?: string }): ClassifyRuntime {
  const shape = input.inputShape && input.inputShape.length === 4 ? [...input.inputShape] : null;
  return {
    task: 'classify',
    format: 'onnx',
    input: { name: input.inputName ?? CLASSIFIER_IO.input, shape, dtype: 'float32', layout: 'NHWC', colour: 'RGB' },
    inputSize: shape ? { height: shape[1]!, width: shape[2]! } : null,
    classNames: [...input.labels],
    preprocess: { resize: 'crop the annotation box, stretch to the input size', scale: DETECT_RUNTIME_DEFAULTS.scale },
    postprocess: { output: { name: input.outputName ?? CLASSIFIER_IO.output, shape: ['N', input.labels.length] }, kind: 'softmax probabilities, argmax is the label' },
  };
}

/** Human word for cards and lists. */
export function taskLabel(task: ModelTask): string {
  return task === 'detect' ? 'detector' : 'classifier';
}
