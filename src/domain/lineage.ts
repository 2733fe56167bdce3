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

/** Lineage name: the shortest kit name slug among the kits that share it (stable, readable). */
export function lineageName(kitNames: readonly string[]): string {
  const slugs = kitNames.map((n) => slugify(n, 30)).sort((a, b) => a.length - b.length || a.localeCompare(b));
  return slugs[0] ?? 'kit';
}

export function modelName(lineageName: string, trainingId: string, version: number): string {
  if (!Number.isInteger(version) || version < 1) throw new ValidationError(`Model version must be a positive integer, got ${version}`);
  return `${lineageName}_${trainingId}_v${version}`;
}
