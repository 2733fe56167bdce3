// The detector part of a training's approval card: mAP50-95 and mAP50, then AP per class (named
// by the AI option's Salesforce name, its key second), each against the lineage's previous
// version when it had the same measure. Plain values in (the evaluation's DetectionMetrics
// shape), blocks out. Slack caps a section at 10 fields of 2000 characters.
import type { KnownBlock, SectionBlock } from '@slack/types';
import { context, escapeMrkdwn, LIMITS, mrkdwn, truncate } from './blocks.js';

export interface DetectionClassFigures {
  AP: number;
  AP50: number;
  num_gt?: number;
}

/** What the section reads of an evaluation (src/ml/detect/evaluate.ts DetectionMetrics fits). */
export interface DetectionFigures {
  AP: number;
  AP50: number;
  per_class: Record<string, DetectionClassFigures>;
  images?: number;
}

export interface DetectionSectionOptions {
  /** The previous version's number, said next to its figures. */
  previousVersion?: number | null;
  /** Class sections at most (10 classes each); the rest is counted in a note. Default 3. */
  maxClassSections?: number;
}

const FIELDS_PER_SECTION = 10;
const FIELD_TEXT = 2000;

/** pycocotools reports -1 for a class without true boxes: no figure, not a bad one. */
const measured = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
/** A COCO figure as approvers read it: three decimals, '—' for none. */
export const cocoFigure = (v: unknown) => (measured(v) ? v.toFixed(3) : '—');

function delta(v: unknown, p: unknown): string {
  if (!measured(v) || !measured(p)) return '';
  const d = v - p;
  const sign = d > 0.0005 ? '+' : d < -0.0005 ? '−' : '±';
  return `${sign}${Math.abs(d).toFixed(3)}`;
}

const fields = (texts: string[]): SectionBlock => ({ type: 'section', fields: texts.slice(0, FIELDS_PER_SECTION).map((t) => mrkdwn(truncate(t, FIELD_TEXT))) });

/** `Red light` (`red_light`): the Salesforce name first, the key the dataset uses second. */
function classLabel(key: string, title: string | null | undefined): string {
  const name = title?.trim();
  return name && name !== key ? `*${escapeMrkdwn(truncate(name, 80))}* (\`${escapeMrkdwn(truncate(key, 60))}\`)` : `*${escapeMrkdwn(truncate(key, 80))}*`;
}

/**
 * Blocks for a detector's metrics: a headline section (mAP50-95, mAP50, with the previous
 * version's value and the change) and per-class AP / AP50 fields. `classNames` maps a class key
 * (the AI option name) to its Salesforce name.
 */
export function detectorApprovalSection(
  metrics: DetectionFigures,
  previous: DetectionFigures | null,
  classNames: Record<string, string | null | undefined>,
  opts: DetectionSectionOptions = {},
): KnownBlock[] {
  const vs = previous ? (opts.previousVersion ? `v${opts.previousVersion}` : 'previous') : null;
  const headline = (label: string, v: number, p: number | undefined) => {
    const d = previous ? delta(v, p) : '';
    return `*${label}*\n${cocoFigure(v)}${d ? `  (${vs} ${cocoFigure(p)}, ${d})` : ''}`;
  };
  const blocks: KnownBlock[] = [fields([headline('mAP50-95', metrics.AP, previous?.AP), headline('mAP50', metrics.AP50, previous?.AP50)])];

  const classes = Object.entries(metrics.per_class ?? {});
  const maxSections = Math.max(1, opts.maxClassSections ?? 3);
  const shown = classes.slice(0, maxSections * FIELDS_PER_SECTION);
  const texts = shown.map(([key, c]) => {
    const p = previous?.per_class?.[key];
    const ap = delta(c.AP, p?.AP);
    const ap50 = delta(c.AP50, p?.AP50);
    const boxes = typeof c.num_gt === 'number' ? ` · ${c.num_gt} box${c.num_gt === 1 ? '' : 'es'}` : '';
    return `${classLabel(key, classNames[key])}\nAP ${cocoFigure(c.AP)}${ap ? ` (${ap})` : ''} · AP50 ${cocoFigure(c.AP50)}${ap50 ? ` (${ap50})` : ''}${boxes}`;
  });
  for (let i = 0; i < texts.length; i += FIELDS_PER_SECTION) blocks.push(fields(texts.slice(i, i + FIELDS_PER_SECTION)));

  const notes: string[] = [];
  if (classes.length > shown.length) notes.push(`${classes.length - shown.length} more class${classes.length - shown.length === 1 ? '' : 'es'} not shown (see Details).`);
  if (vs) notes.push(`Changes are against ${vs} of this lineage.`);
  notes.push(`Test split${typeof metrics.images === 'number' ? `, ${metrics.images} photo${metrics.images === 1 ? '' : 's'}` : ''}; AP is COCO mAP50-95 per class.`);
  blocks.push(context(truncate(notes.join(' '), LIMITS.sectionText)));
  return blocks;
}
