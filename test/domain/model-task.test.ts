import { describe, expect, it } from '@jest/globals';
import { classifyRuntime, DETECT_RUNTIME_DEFAULTS, detectRuntime, isModelTask } from '../../src/domain/index.js';
import { DETECT_DEFAULTS } from '../../src/ml/detect/layout.js';

describe('model runtime descriptor', () => {
  it('detector: Ultralytics letterbox and postprocess defaults, the evaluator’s numbers', () => {
    const r = detectRuntime({ inputSize: { height: 320, width: 320 }, classNames: ['red_light', 'green_light', 'yellow_light'], candidates: 2100 });
    expect(r).toMatchObject({
      task: 'detect',
      input: { name: 'images', shape: [1, 3, 320, 320], layout: 'NCHW', colour: 'RGB' },
      classNames: ['red_light', 'green_light', 'yellow_light'],
      preprocess: { resize: 'letterbox', padValue: DETECT_DEFAULTS.padValue, scale: DETECT_DEFAULTS.scale },
      postprocess: { output: { name: 'output0', shape: [1, 7, 2100] }, confThreshold: DETECT_DEFAULTS.confThreshold, iouThreshold: DETECT_DEFAULTS.iouThreshold, maxDetections: DETECT_DEFAULTS.maxDetections },
    });
    expect(DETECT_RUNTIME_DEFAULTS).toMatchObject({ padValue: 114, scale: 1 / 255, confThreshold: 0.25, iouThreshold: 0.7 });
    expect(r.input.colour).toBe(DETECT_DEFAULTS.colour);
    expect(r.input.layout).toBe(DETECT_DEFAULTS.layout);
  });

  it('classifier: input shape and labels in output order', () => {
    expect(classifyRuntime({ labels: ['neg', 'pos'], inputShape: [1, 64, 64, 3] })).toMatchObject({
      task: 'classify', input: { shape: [1, 64, 64, 3], layout: 'NHWC' }, inputSize: { height: 64, width: 64 }, classNames: ['neg', 'pos'],
      postprocess: { output: { name: 'probabilities', shape: ['N', 2] } },
    });
    expect(classifyRuntime({ labels: ['a'], inputShape: null }).inputSize).toBeNull();
    expect([isModelTask('detect'), isModelTask('classify'), isModelTask('classifier')]).toEqual([true, true, false]);
  });
});
