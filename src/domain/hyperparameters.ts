// Hyperparameters: the one table of their limits, and content addressing (the same settings
// always get the same fingerprint, so identical runs share one immutable row).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from './errors.js';

/**
 * What a training may ask for: the one table of hyperparameter limits. The wizard checks typed
 * values against it (and says the ranges in its hints), the stored set is parsed with it, and
 * both in-process trainers build their input schemas from its fields.
 */
export const HYPERPARAMETER_LIMITS = {
  epochs: { min: 1, max: 500 },
  batchSize: { min: 1, max: 1024 },
  /** Above 0. */
  learningRate: { max: 1 },
  imageSize: { min: 8, max: 512 },
} as const;

/** The detector's input is a multiple of its largest stride (16), at least 64 px (src/ml/train/detector). */
export const DETECTOR_IMAGE_SIZE = { min: 64, multipleOf: 16 } as const;

export const HYPERPARAMETER_KEYS = ['epochs', 'batchSize', 'learningRate', 'imageSize'] as const;
export type HyperparameterKey = (typeof HYPERPARAMETER_KEYS)[number];

const L = HYPERPARAMETER_LIMITS;
/** The fields every trainer takes (the trainers add their own extras). */
export const hyperparameterFields = {
  epochs: z.number().int().min(L.epochs.min).max(L.epochs.max),
  batchSize: z.number().int().min(L.batchSize.min).max(L.batchSize.max),
  learningRate: z.number().positive().max(L.learningRate.max),
  imageSize: z.number().int().min(L.imageSize.min).max(L.imageSize.max),
  seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
};

export const hyperparametersSchema = z.object(hyperparameterFields).strict();

export type HyperparameterSet = z.infer<typeof hyperparametersSchema>;

export const DEFAULT_HYPERPARAMETERS: HyperparameterSet = { epochs: 10, batchSize: 32, learningRate: 0.001, imageSize: 64 };
/** The detector trainer's measured defaults (bench/detector-training.bench.ts; src/ml/train/detector/trainer.ts uses these). */
export const DEFAULT_DETECTOR_HYPERPARAMETERS: HyperparameterSet = { epochs: 40, batchSize: 8, learningRate: 0.006, imageSize: 160 };

/** What is wrong with a typed value, in the words the form shows under it; null when it is fine. */
export function hyperparameterProblem(key: HyperparameterKey, value: number): string | null {
  if (hyperparameterFields[key].safeParse(value).success) return null;
  return key === 'learningRate' ? `Enter a number above 0 and at most ${L.learningRate.max}` : `Enter a whole number from ${L[key].min} to ${L[key].max}`;
}

export const isDetectorImageSize = (imageSize: number): boolean => imageSize >= DETECTOR_IMAGE_SIZE.min && imageSize % DETECTOR_IMAGE_SIZE.multipleOf === 0;

/** A detector's image size, or a ValidationError on `imageSize` saying the rule. */
export function checkDetectorImageSize(imageSize: number): void {
  if (isDetectorImageSize(imageSize)) return;
  const { min, multipleOf } = DETECTOR_IMAGE_SIZE;
  throw new ValidationError(`A detector needs an image size that is a multiple of ${multipleOf}, from ${min} to ${L.imageSize.max} (${DEFAULT_DETECTOR_HYPERPARAMETERS.imageSize} is the default)`, 'imageSize');
}

/** JSON with keys sorted at every level and no whitespace: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('Non-finite numbers have no canonical JSON form');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export function fingerprint(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex');
}
