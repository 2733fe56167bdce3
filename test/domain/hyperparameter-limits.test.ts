// The one table of hyperparameter limits: what the wizard says, the stored set and the trainers agree.
import { describe, expect, it } from '@jest/globals';
import {
  checkDetectorImageSize, DEFAULT_DETECTOR_HYPERPARAMETERS, DEFAULT_HYPERPARAMETERS, hyperparameterProblem, hyperparametersSchema, isDetectorImageSize, ValidationError,
} from '../../src/domain/index.js';
import { classifierHyperparametersSchema } from '../../src/ml/train/hyperparameters.js';

describe('hyperparameter limits', () => {
  it('says a typed value out of range in the words the wizard shows', () => {
    expect(hyperparameterProblem('epochs', 500)).toBeNull();
    expect(hyperparameterProblem('epochs', 501)).toBe('Enter a whole number from 1 to 500');
    expect(hyperparameterProblem('epochs', 2.5)).toBe('Enter a whole number from 1 to 500');
    expect(hyperparameterProblem('batchSize', 1025)).toBe('Enter a whole number from 1 to 1024');
    expect(hyperparameterProblem('imageSize', 4)).toBe('Enter a whole number from 8 to 512');
    expect(hyperparameterProblem('learningRate', 0)).toBe('Enter a number above 0 and at most 1');
    expect(hyperparameterProblem('learningRate', Number.NaN)).toBe('Enter a number above 0 and at most 1');
    expect(hyperparameterProblem('learningRate', 1)).toBeNull();
  });

  it('the stored set and the classifier trainer take the same ranges', () => {
    for (const schema of [hyperparametersSchema, classifierHyperparametersSchema]) {
      expect(schema.safeParse({ ...DEFAULT_HYPERPARAMETERS, epochs: 500, batchSize: 1024 }).success).toBe(true);
      expect(schema.safeParse({ ...DEFAULT_HYPERPARAMETERS, epochs: 501 }).success).toBe(false);
      expect(schema.safeParse({ ...DEFAULT_HYPERPARAMETERS, batchSize: 1025 }).success).toBe(false);
    }
    expect(hyperparametersSchema.safeParse(DEFAULT_DETECTOR_HYPERPARAMETERS).success).toBe(true);
  });

  it("a detector's image size is a multiple of 16, at least 64", () => {
    expect([64, 160, 512].every(isDetectorImageSize)).toBe(true);
    expect([48, 40, 100].some(isDetectorImageSize)).toBe(false);
    expect(() => checkDetectorImageSize(160)).not.toThrow();
    let err: unknown;
    try {
      checkDetectorImageSize(40);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ field: 'imageSize', message: 'A detector needs an image size that is a multiple of 16, from 64 to 512 (160 is the default)' });
  });
});
