// The dataset validation report for people: per split and label a small table of images/boxes,
// then errors and warnings as bullets. In the training thread only the first few of each (with
// "and N more") and a pointer to the full report; `/assay status <training>` shows all of it.
// Everything from the dataset (category names, file names, URLs) goes through escapeMrkdwn.
import type { KnownBlock } from '@slack/types';
import { capBlocks, context, divider, escapeMrkdwn, LIMITS, lineSections, section, truncate } from './blocks.js';

interface Issue {
  code?: string;
  message?: string;
  count?: number;
  examples?: string[];
}

/** What the report holds (older stored reports may lack a field: every one is optional). */
export interface DatasetReportView {
  valid?: boolean;
  summary?: string;
  errors?: Issue[];
  warnings?: Issue[];
  counts?: { images?: number; annotations?: number; categories?: number };
  splitCounts?: Record<string, number>;
  labelCounts?: Record<string, Record<string, number>>;
  labelImageCounts?: Record<string, Record<string, number>>;
}

const SPLITS = ['train', 'val', 'test'] as const;
/** In the thread: this many issues of each kind, this many examples each. */
const BRIEF = { issues: 3, examples: 2, chars: 300 };
const FULL = { issues: 200, examples: 5, chars: 1000 };
const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** A fixed-width table: one row per label, a cell per split with images/boxes. */
export function labelTable(r: DatasetReportView): string[] {
  const boxes = r.labelCounts ?? {};
  const images = r.labelImageCounts ?? {};
  const labels = [...new Set(SPLITS.flatMap((s) => Object.keys(boxes[s] ?? {})))].sort();
  if (labels.length === 0) return [];
  const width = Math.min(24, Math.max(5, ...labels.map((l) => [...l].length)));
  const cell = (s: string, l: string) => `${images[s]?.[l] ?? '?'}/${boxes[s]?.[l] ?? 0}`;
  const row = (name: string, cells: string[]) => `${truncate(name, width).padEnd(width)}  ${cells.map((c) => c.padStart(11)).join('')}`;
  const rows = [row('label', SPLITS.map((s) => s)), ...labels.map((l) => row(l, SPLITS.map((s) => cell(s, l))))];
  if (r.splitCounts) rows.push(row('all images', SPLITS.map((s) => String(r.splitCounts?.[s] ?? 0))));
  // One section: the table stays under Slack's text limit, the rest is counted.
  const room = Math.floor((LIMITS.sectionText - 200) / (rows[0]!.length + 1));
  const shown = rows.length > room ? [...rows.slice(0, room - 1)] : rows;
  const lines = ['*Images/boxes per split and label*', '```' + escapeMrkdwn(shown.join('\n')) + '```'];
  if (shown.length < rows.length) lines.push(`…and ${plural(rows.length - shown.length, 'more label')}.`);
  return lines;
}

function issueLines(issues: Issue[], kind: 'error' | 'warning', limit: typeof BRIEF): string[] {
  if (issues.length === 0) return [];
  const lines = [`*${kind === 'error' ? 'Errors' : 'Warnings'} (${issues.length})*`];
  for (const i of issues.slice(0, limit.issues)) {
    const examples = i.examples ?? [];
    const more = (i.count ?? examples.length) - Math.min(examples.length, limit.examples);
    const eg = examples.length ? ` — e.g. ${examples.slice(0, limit.examples).map((e) => truncate(e, 120)).join('; ')}${more > 0 ? ` and ${more} more` : ''}` : '';
    lines.push(`• ${escapeMrkdwn(truncate(`${i.message ?? i.code ?? 'problem'}${eg}`, limit.chars))}`);
  }
  if (issues.length > limit.issues) lines.push(`…and ${plural(issues.length - limit.issues, `more ${kind}`)}.`);
  return lines;
}

export function datasetReportBlocks(r: DatasetReportView, opts: { trainingUid?: string | null; full?: boolean } = {}): KnownBlock[] {
  const limit = opts.full ? FULL : BRIEF;
  const c = r.counts ?? {};
  const totals = c.images !== undefined ? `${plural(c.images, 'image')}, ${plural(c.annotations ?? 0, 'box', 'boxes')}, ${plural(c.categories ?? 0, 'category', 'categories')}` : '';
  const head = r.valid ? ':white_check_mark: *Dataset passed validation*; training starts' : ':x: *Dataset failed validation*; training will not start';
  const blocks: KnownBlock[] = [section(`${head}${totals ? ` — ${totals}` : ''}`)];
  const table = labelTable(r);
  if (table.length) blocks.push(section(table.join('\n')));
  blocks.push(...lineSections([...issueLines(r.errors ?? [], 'error', limit), ...issueLines(r.warnings ?? [], 'warning', limit)]));
  const hidden = !opts.full && ((r.errors?.length ?? 0) > BRIEF.issues || (r.warnings?.length ?? 0) > BRIEF.issues || [...(r.errors ?? []), ...(r.warnings ?? [])].some((i) => (i.count ?? 0) > BRIEF.examples));
  if (!opts.full && opts.trainingUid) blocks.push(context(`${hidden ? 'Every problem with its examples' : 'The full report'}: \`/assay status ${opts.trainingUid}\``));
  return blocks;
}

/** The thread message after validation: the brief report. */
export function validationReportMessage(e: { valid: boolean; report: Record<string, unknown>; trainingUid?: string | null }): { text: string; blocks: KnownBlock[] } {
  const r = { ...(e.report as DatasetReportView), valid: e.valid };
  const text = e.valid ? 'Dataset passed validation; training starts.' : 'Dataset failed validation; training will not start.';
  return { text, blocks: datasetReportBlocks(r, { trainingUid: e.trainingUid }).slice(0, LIMITS.messageBlocks) };
}

/** `/assay status <training>`: the training's message, then its full dataset report. */
export function trainingStatusReply(message: { text: string; blocks: KnownBlock[] }, report: DatasetReportView | null): { text: string; blocks: KnownBlock[] } {
  if (!report) return message;
  return { text: message.text, blocks: capBlocks([...message.blocks, divider(), ...datasetReportBlocks(report, { full: true })], LIMITS.messageBlocks, 'The report goes on: more problems than one message holds.') };
}
