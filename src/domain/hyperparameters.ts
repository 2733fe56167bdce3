// Hyperparameters are content-addressed: the same settings always get the same fingerprint,
// so identical runs share one immutable row.
import { createHash } from 'node:crypto';
import { z } from 'zod';

export const hyperparametersSchema = z
  .object({
    epochs: z.number().int().min(1).max(500),
    batchSize: z.number().int().min(1).max(1024),
    learningRate: z.number().positive().max(1),
    imageSize: z.number().int().min(8).max(512),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
  })
  .strict();

export type HyperparameterSet = z.infer<typeof hyperparametersSchema>;

export const DEFAULT_HYPERPARAMETERS: HyperparameterSet = { epochs: 10, batchSize: 32, learningRate: 0.001, imageSize: 64 };
/** The detector trainer's measured defaults (DEFAULT_DETECTOR_HYPERPARAMETERS in src/ml/train/detector/trainer.ts). */
export const DEFAULT_DETECTOR_HYPERPARAMETERS: HyperparameterSet = { epochs: 40, batchSize: 8, learningRate: 0.006, imageSize: 160 };

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
