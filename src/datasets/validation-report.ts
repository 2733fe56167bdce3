// The dataset validation report: pure, from the parsed COCO document, the training's label names
// and what loading each image found. Errors make the dataset invalid; warnings are shown only.
import { splitForImageId, type Split } from '../ml/dataset/crops.js';
import type { Coco, CocoImageEntry } from './coco.js';

export type ImageCheck = { ok: true; width: number; height: number } | { ok: false; reason: 'unreachable' | 'undecodable' | 'no_source' | 'too_large'; message: string };

export type IssueCode =
  | 'invalid_json'
  | 'missing_labels'
  | 'label_without_examples'
  | 'unknown_categories'
  | 'duplicate_ids'
  | 'duplicate_category_names'
  | 'dangling_references'
  | 'box_out_of_bounds'
  | 'unreachable_images'
  | 'undecodable_images'
  | 'oversized_images'
  | 'empty_split'
  | 'size_mismatch';

export interface Issue {
  code: IssueCode;
  message: string;
  count?: number;
  /** At most a few examples, so the report stays small. */
  examples?: string[];
}

export interface ValidationReport {
  valid: boolean;
  /** One or two lines for Slack and for training_error. */
  summary: string;
  errors: Issue[];
  warnings: Issue[];
  counts: { images: number; annotations: number; categories: number };
  labels: { expected: string[]; missing: string[]; unknownCategories: string[] };
  splitCounts: Record<Split, number>;
  /** Annotations per split per expected label. */
  labelCounts: Record<Split, Record<string, number>>;
  /** Images with at least one box of the label, per split per expected label. */
  labelImageCounts: Record<Split, Record<string, number>>;
}

const MAX_EXAMPLES = 5;
const SPLITS: Split[] = ['train', 'val', 'test'];

export function splitOfImage(image: Pick<CocoImageEntry, 'id' | 'split'>): Split {
  return image.split ?? splitForImageId(image.id);
}

function issue(code: IssueCode, message: string, items?: string[]): Issue {
  return items ? { code, message, count: items.length, examples: items.slice(0, MAX_EXAMPLES) } : { code, message };
}

function duplicates(values: (string | number)[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) {
    const k = String(v);
    if (seen.has(k)) dup.add(k);
    seen.add(k);
  }
  return [...dup];
}

/** A report for a document that could not be parsed at all. */
export function unreadableReport(message: string, expected: string[]): ValidationReport {
  return finish({
    errors: [issue('invalid_json', message)],
    warnings: [],
    counts: { images: 0, annotations: 0, categories: 0 },
    labels: { expected, missing: [], unknownCategories: [] },
    splitCounts: { train: 0, val: 0, test: 0 },
    labelCounts: { train: {}, val: {}, test: {} },
    labelImageCounts: { train: {}, val: {}, test: {} },
  });
}

/** `evaluateOnly`: the dataset is only evaluated on (an imported model), so only the test split must have boxes. */
export function buildValidationReport(coco: Coco, expectedLabels: string[], images: Map<string, ImageCheck>, opts: { evaluateOnly?: boolean } = {}): ValidationReport {
  const errors: Issue[] = [];
  const warnings: Issue[] = [];
  const expected = [...new Set(expectedLabels)];

  const dupIds = [
    ...duplicates(coco.images.map((i) => i.id)).map((id) => `image ${id}`),
    ...duplicates(coco.annotations.map((a) => a.id)).map((id) => `annotation ${id}`),
    ...duplicates(coco.categories.map((c) => c.id)).map((id) => `category ${id}`),
  ];
  if (dupIds.length) errors.push(issue('duplicate_ids', `${dupIds.length} duplicate id(s)`, dupIds));
  const dupNames = duplicates(coco.categories.map((c) => c.name));
  if (dupNames.length) errors.push(issue('duplicate_category_names', `Category names used twice: ${dupNames.join(', ')}`, dupNames));

  const categoryNames = new Set(coco.categories.map((c) => c.name));
  const missing = expected.filter((l) => !categoryNames.has(l));
  if (missing.length) errors.push(issue('missing_labels', `Labels of the selected options missing from the dataset's categories: ${missing.join(', ')}`, missing));
  const unknown = [...categoryNames].filter((n) => !expected.includes(n));
  if (unknown.length) warnings.push(issue('unknown_categories', `Categories that are not a selected option's label (their boxes are ignored): ${unknown.join(', ')}`, unknown));

  const categoryById = new Map(coco.categories.map((c) => [String(c.id), c.name]));
  const imageById = new Map(coco.images.map((i) => [String(i.id), i]));

  const unreachable: string[] = [];
  const undecodable: string[] = [];
  const oversized: string[] = [];
  const sizeMismatch: string[] = [];
  for (const image of coco.images) {
    const check = images.get(String(image.id));
    if (!check) continue;
    if (!check.ok) (check.reason === 'undecodable' ? undecodable : check.reason === 'too_large' ? oversized : unreachable).push(`image ${image.id}: ${check.message}`);
    else if ((image.width && image.width !== check.width) || (image.height && image.height !== check.height)) {
      sizeMismatch.push(`image ${image.id}: declared ${image.width}×${image.height}, file is ${check.width}×${check.height}`);
    }
  }
  if (unreachable.length) errors.push(issue('unreachable_images', `${unreachable.length} image(s) could not be fetched`, unreachable));
  if (undecodable.length) errors.push(issue('undecodable_images', `${undecodable.length} image(s) could not be decoded`, undecodable));
  if (oversized.length) errors.push(issue('oversized_images', `${oversized.length} image(s) have more pixels than allowed: ${oversized[0]!.replace(/^image \S+: /, '')}`, oversized));
  if (sizeMismatch.length) warnings.push(issue('size_mismatch', `${sizeMismatch.length} image(s) have a declared size different from the file (the file's size is used)`, sizeMismatch));

  const splitCounts: Record<Split, number> = { train: 0, val: 0, test: 0 };
  for (const image of coco.images) splitCounts[splitOfImage(image)]++;
  const labelCounts: Record<Split, Record<string, number>> = { train: {}, val: {}, test: {} };
  for (const s of SPLITS) for (const l of expected) labelCounts[s][l] = 0;
  const imagesWith = new Map<string, Set<string>>(); // split:label -> image ids

  const dangling: string[] = [];
  const outOfBounds: string[] = [];
  for (const ann of coco.annotations) {
    const image = imageById.get(String(ann.image_id));
    const label = categoryById.get(String(ann.category_id));
    if (!image || label === undefined) {
      dangling.push(`annotation ${ann.id}: ${!image ? `image ${ann.image_id}` : `category ${ann.category_id}`} does not exist`);
      continue;
    }
    const check = images.get(String(image.id));
    const width = check?.ok ? check.width : image.width;
    const height = check?.ok ? check.height : image.height;
    const [x, y, w, h] = ann.bbox;
    const finite = [x, y, w, h].every(Number.isFinite);
    if (!finite || w <= 0 || h <= 0 || x < 0 || y < 0 || (width !== undefined && x + w > width) || (height !== undefined && y + h > height)) {
      outOfBounds.push(`annotation ${ann.id}: bbox [${ann.bbox.join(', ')}] in a ${width ?? '?'}×${height ?? '?'} image`);
      continue;
    }
    if (expected.includes(label)) {
      const split = splitOfImage(image);
      labelCounts[split][label]!++;
      const key = `${split}:${label}`;
      imagesWith.set(key, (imagesWith.get(key) ?? new Set()).add(String(image.id)));
    }
  }
  if (dangling.length) errors.push(issue('dangling_references', `${dangling.length} annotation(s) refer to a missing image or category`, dangling));
  if (outOfBounds.length) errors.push(issue('box_out_of_bounds', `${outOfBounds.length} box(es) are empty or outside their image`, outOfBounds));

  const present = expected.filter((l) => !missing.includes(l));
  const noExamples = present.filter((l) => SPLITS.every((s) => labelCounts[s][l] === 0));
  if (noExamples.length) errors.push(issue('label_without_examples', `No boxes for label(s): ${noExamples.join(', ')}`, noExamples));
  for (const s of SPLITS) {
    const total = Object.values(labelCounts[s]).reduce((a, b) => a + b, 0);
    if (total > 0 || (opts.evaluateOnly && s !== 'test')) continue;
    // Training needs train examples and evaluation needs test ones; an empty val split only loses the val curve.
    (s === 'val' ? warnings : errors).push(issue('empty_split', `The ${s} split has no boxes of the selected labels (set "split" per image, or add images)`));
  }

  return finish({
    errors,
    warnings,
    counts: { images: coco.images.length, annotations: coco.annotations.length, categories: coco.categories.length },
    labels: { expected, missing, unknownCategories: unknown },
    splitCounts,
    labelCounts,
    labelImageCounts: Object.fromEntries(SPLITS.map((s) => [s, Object.fromEntries(expected.map((l) => [l, imagesWith.get(`${s}:${l}`)?.size ?? 0]))])) as Record<Split, Record<string, number>>,
  });
}

function finish(r: Omit<ValidationReport, 'valid' | 'summary'>): ValidationReport {
  const valid = r.errors.length === 0;
  const summary = valid
    ? `Dataset valid: ${r.counts.images} images, ${r.counts.annotations} boxes (train ${r.splitCounts.train} / val ${r.splitCounts.val} / test ${r.splitCounts.test} images)${r.warnings.length ? `; ${r.warnings.length} warning(s)` : ''}`
    : `Dataset invalid: ${r.errors.map((e) => e.message).join('; ')}`;
  return { valid, summary: summary.length > 1000 ? `${summary.slice(0, 997)}...` : summary, ...r };
}
