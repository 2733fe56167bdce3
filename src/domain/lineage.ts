// A lineage is a label space: kits that train on the same set of AI options share one, so
// "PR urine", "PR urine kit" and "PR DNA urine" (4567, 589, 678) get one consistent training_id.
import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';

export function lineageKey(optionUids: readonly string[]): string {
  const unique = [...new Set(optionUids.map((u) => u.toLowerCase()))].sort();
  if (unique.length === 0) throw new ValidationError('A lineage needs at least one AI option', 'options');
  return createHash('sha256').update(unique.join(',')).digest('hex');
}

/** The short, human-quotable training_id of a lineage: stable for the same option set. */
export function trainingIdFor(key: string): string {
  return 'l' + key.slice(0, 11);
}

/** Lowercase words joined by underscores, safe for model and dataset names. */
export function slugify(text: string, max = 40): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, max)
    .replace(/_+$/g, '');
  return slug || 'kit';
}

export const LINEAGE_NAME_RE = /^[a-z0-9][a-z0-9_]{0,39}$/;

/**
 * A lineage's suggested name says what it serves: its options (the label space every kit of the
 * lineage shares), not one of the kits. Up to three option keys, else the first two and a count.
 */
export function suggestLineageName(optionKeys: readonly string[]): string {
  const keys = [...new Set(optionKeys)].sort();
  const words = keys.length <= 3 ? keys : [...keys.slice(0, 2), `and_${keys.length - 2}_more`];
  return slugify(words.join(' '), 40) || 'model';
}

/** The name people may give a lineage in the wizard (it starts every model name). */
export function validateLineageName(name: string): string {
  const trimmed = name.trim();
  if (!LINEAGE_NAME_RE.test(trimmed)) {
    throw new ValidationError('Model names use lowercase letters, digits and "_", start with a letter or digit, and are at most 40 characters', 'lineage_name');
  }
  return trimmed;
}

export function modelName(lineageName: string, trainingId: string, version: number): string {
  if (!Number.isInteger(version) || version < 1) throw new ValidationError(`Model version must be a positive integer, got ${version}`);
  return `${lineageName}_${trainingId}_v${version}`;
}
