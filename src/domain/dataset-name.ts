// Generated dataset names: deterministic from kits, options and lineage, editable by the user,
// and unique (a taken name gets the next free suffix).
import { ValidationError } from './errors.js';
import { slugify } from './lineage.js';
import { checkLength } from './limits.js';

export const DATASET_NAME_RE = /^[a-z0-9][a-z0-9_.-]{0,99}$/;

export function generateDatasetName(input: { kitNames: readonly string[]; optionNames: readonly string[]; trainingId: string; on: Date }): string {
  const kits = slugify([...input.kitNames].sort().join(' '), 30);
  const options = input.optionNames.length <= 3 ? slugify([...input.optionNames].sort().join(' '), 40) : `${input.optionNames.length}_options`;
  const day = input.on.toISOString().slice(0, 10).replace(/-/g, '');
  return `${kits}-${options}-${input.trainingId}-${day}`.slice(0, 100);
}

export function validateDatasetName(name: string): string {
  const trimmed = checkLength(name.trim(), 'datasetName', 'dataset_name', 'A dataset name');
  if (!DATASET_NAME_RE.test(trimmed)) {
    throw new ValidationError(
      'Dataset names use lowercase letters, digits, "_", "." and "-", start with a letter or digit, and are at most 100 characters',
      'dataset_name',
    );
  }
  return trimmed;
}

/** `base` if free, else base-2, base-3, ... (the first one not in `taken`). */
export function uniqueDatasetName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let i = 2; ; i++) {
    const suffix = `-${i}`;
    const candidate = base.slice(0, 100 - suffix.length) + suffix;
    if (!taken.has(candidate)) return candidate;
  }
}
