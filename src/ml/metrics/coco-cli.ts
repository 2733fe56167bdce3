// File-level entry points for `assay eval-coco`: load and validate COCO ground truth and
// results files, evaluate, and render output like pycocotools' summarize().
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  CocoInputError,
  evaluateCoco,
  IOU_THRESHOLDS,
  STAT_KEYS,
  type CocoDetection,
  type CocoEvalResult,
  type CocoGroundTruth,
  type CocoStats,
} from './coco.js';
import { pyFixed } from './numpy-compat.js';

const id = z.union([z.number(), z.string()], { error: 'must be a number or a string' });
const bbox = z
  .array(z.number({ error: 'bbox values must be finite numbers' }), { error: 'bbox must be an array' })
  .length(4, 'bbox must be 4 numbers [x, y, width, height]');

// Unknown keys pass through (COCO files carry segmentation, file_name, ...).
const gtSchema = z
  .object({
    images: z.array(z.object({ id }).loose()),
    annotations: z.array(
      z
        .object({
          id: z.number({ error: 'annotation id must be a number' }),
          image_id: id,
          category_id: id,
          bbox,
          area: z.number({ error: 'area must be a number (size buckets use it)' }),
          iscrowd: z.union([z.number(), z.boolean()]).optional(),
        })
        .loose(),
    ),
    categories: z.array(z.object({ id, name: z.string().optional() }).loose()),
  }, { error: 'expected a COCO ground-truth object with images, annotations and categories' })
  .loose();

const dtSchema = z.array(
  z.object({ image_id: id, category_id: id, bbox, score: z.number({ error: 'score must be a number' }) }).loose(),
  { error: 'expected a JSON array of detections (COCO results format)' },
);

const MAX_ISSUES = 5;

function describeIssues(file: string, error: z.ZodError): string {
  const lines = error.issues.slice(0, MAX_ISSUES).map((issue) => {
    const where = issue.path.reduce<string>(
      (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
      '',
    );
    return `  ${where || '(root)'}: ${issue.message}`;
  });
  const more = error.issues.length > MAX_ISSUES ? `\n  ... and ${error.issues.length - MAX_ISSUES} more` : '';
  return `${file}: invalid content\n${lines.join('\n')}${more}`;
}

async function loadJson<T>(file: string, what: string, schema: z.ZodType<T>): Promise<T> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} file ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) throw new Error(describeIssues(file, parsed.error));
  return parsed.data;
}

export async function evalCocoFiles(gtPath: string, dtPath: string): Promise<CocoEvalResult> {
  const [gt, dets] = await Promise.all([
    loadJson<CocoGroundTruth>(gtPath, 'ground-truth', gtSchema as z.ZodType<CocoGroundTruth>),
    loadJson<CocoDetection[]>(dtPath, 'detections', dtSchema as z.ZodType<CocoDetection[]>),
  ]);
  try {
    return evaluateCoco(gt, dets);
  } catch (err) {
    if (err instanceof CocoInputError) {
      throw new Error(`${err.source === 'gt' ? gtPath : dtPath}: ${err.message}`);
    }
    throw err;
  }
}

// summarize() rows: AP?, iouThr (undefined = 0.50:0.95), area label, maxDets.
const ROWS: readonly [boolean, number | undefined, string, number][] = [
  [true, undefined, 'all', 100],
  [true, 0.5, 'all', 100],
  [true, 0.75, 'all', 100],
  [true, undefined, 'small', 100],
  [true, undefined, 'medium', 100],
  [true, undefined, 'large', 100],
  [false, undefined, 'all', 1],
  [false, undefined, 'all', 10],
  [false, undefined, 'all', 100],
  [false, undefined, 'small', 100],
  [false, undefined, 'medium', 100],
  [false, undefined, 'large', 100],
];

/** The 12 lines pycocotools' COCOeval.summarize() prints, byte for byte. */
export function formatCocoStats(result: Pick<CocoEvalResult, 'stats'>): string {
  const allIou = `${pyFixed(IOU_THRESHOLDS[0], 2)}:${pyFixed(IOU_THRESHOLDS[IOU_THRESHOLDS.length - 1], 2)}`;
  return ROWS.map(([ap, iou, area, maxDets], i) => {
    const title = (ap ? 'Average Precision' : 'Average Recall').padEnd(18);
    const type = ap ? '(AP)' : '(AR)';
    const iouStr = (iou === undefined ? allIou : pyFixed(iou, 2)).padEnd(9);
    const value = result.stats[STAT_KEYS[i]];
    return ` ${title} ${type} @[ IoU=${iouStr} | area=${area.padStart(6)} | maxDets=${String(maxDets).padStart(3)} ] = ${pyFixed(value, 3)}`;
  }).join('\n');
}

export interface CocoJsonClass {
  name: string;
  num_gt: number;
  num_dets: number;
  AP: number;
  AP50: number;
  AP75: number;
  AR100: number;
}

export type CocoJson = CocoStats & { per_class: Record<string, CocoJsonClass> };

/** Machine-readable summary for `--json`; per_class is keyed by category id. */
export function cocoJson(result: CocoEvalResult): CocoJson {
  const per_class: Record<string, CocoJsonClass> = {};
  for (const [key, c] of Object.entries(result.perClass)) {
    per_class[key] = {
      name: c.name, num_gt: c.numGt, num_dets: c.numDets, AP: c.AP, AP50: c.AP50, AP75: c.AP75, AR100: c.AR100,
    };
  }
  return { ...result.stats, per_class };
}
