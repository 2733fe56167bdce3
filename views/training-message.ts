// A training's home message: progress while it runs, then metrics (compared with the previous
// version) and the decision buttons; after a decision, who decided and when. Max 50 blocks.
import type { KnownBlock } from '@slack/types';
import { actions, button, capBlocks, context, escapeMrkdwn, header, LIMITS, progressBar, section, slackDate, userMention } from './blocks.js';
import { cocoFigure, detectorApprovalSection, type DetectionFigures } from './detection-card.js';

export const ACTIONS = { approve: 'model_approve', reject: 'model_reject', details: 'model_details', deploy: 'model_deploy', rollback: 'kit_rollback' } as const;

export interface TrainingMessageInput {
  uid: string;
  status: string;
  currentEpoch: number;
  totalEpochs: number;
  progress: number;
  datasetName: string;
  requestedBy: string;
  error: string | null;
  lineageName: string;
  trainingId: string;
  live?: { loss?: number; accuracy?: number; valLoss?: number; valAccuracy?: number; etaSeconds?: number };
  model: {
    id: string; modelName: string; modelVersion: number; task?: 'detect' | 'classify'; status: string; metrics: Record<string, unknown> | null;
    /** A detector's class keys (AI option labels) → the options' Salesforce names. */
    classTitles?: Record<string, string | null>;
  } | null;
  decision: { decision: string; actor: string; at: Date; comment: string | null } | null;
}

const STATUS_ICON: Record<string, string> = { queued: ':hourglass:', validating: ':mag:', training: ':gear:', trained: ':white_check_mark:', failed: ':x:', cancelled: ':no_entry_sign:' };

/** What approvers call the two tasks. */
export const taskWord = (task: 'detect' | 'classify') => (task === 'detect' ? 'detector' : 'classifier');

const fmt = (v: unknown) => (typeof v === 'number' ? (Math.abs(v) < 10 ? v.toFixed(3) : String(Math.round(v))) : '—');

/** Metric lines for a reply or a modal: a detector's COCO figures by name, else the flat numbers. */
export function metricLines(metrics: Record<string, unknown> | null): string[] {
  const detection = detectionFigures(metrics);
  return detection ? detectorLines(metrics!, detection) : flatLines(metrics);
}

/** Flat numeric metrics, each next to model.metrics.previous's value when it has one (services keep only quality metrics there). */
function flatLines(metrics: Record<string, unknown> | null): string[] {
  if (!metrics) return [];
  const previous = (metrics.previous ?? null) as Record<string, unknown> | null;
  const lines: string[] = [];
  for (const [k, v] of Object.entries(metrics)) {
    if (k === 'previous' || typeof v !== 'number') continue;
    const p = previous?.[k];
    const delta = typeof p === 'number' ? ` (previous ${fmt(p)}, ${v - p >= 0 ? '+' : ''}${(v - p).toFixed(3)})` : '';
    lines.push(`• *${escapeMrkdwn(k)}*: ${fmt(v)}${delta}`);
  }
  return lines.slice(0, 20);
}

const DETECTOR_HEADLINE: [key: string, label: string][] = [['AP', 'mAP50-95'], ['AP50', 'mAP50'], ['AP75', 'mAP75'], ['AR100', 'AR100']];
const CLASS_LINES = 12;

/**
 * A detector in words approvers use (mAP50-95, mAP50) rather than the 12 COCO keys, against the
 * previous version; then per class AP, AP50 and precision/recall at the edge's confidence 0.25.
 */
function detectorLines(metrics: Record<string, unknown>, d: DetectionFigures): string[] {
  const previous = (metrics.previous ?? null) as Record<string, unknown> | null;
  const lines = DETECTOR_HEADLINE.flatMap(([key, label]) => {
    const v = metrics[key];
    if (typeof v !== 'number') return [];
    const p = previous?.[key];
    const delta = typeof p === 'number' && p >= 0 && v >= 0 ? ` (previous ${cocoFigure(p)}, ${v - p >= 0 ? '+' : ''}${(v - p).toFixed(3)})` : '';
    return [`• *${label}*: ${cocoFigure(v)}${delta}`];
  });
  if (d.images !== undefined) lines.push(`• *Images evaluated*: ${d.images}`);
  const classes = Object.entries(d.per_class);
  for (const [name, c] of classes.slice(0, CLASS_LINES)) {
    const pr = c as { precision?: unknown; recall?: unknown; num_gt?: unknown };
    const at25 = typeof pr.precision === 'number' && typeof pr.recall === 'number' ? ` · precision ${cocoFigure(pr.precision)} · recall ${cocoFigure(pr.recall)}` : '';
    const boxes = typeof pr.num_gt === 'number' ? ` · ${pr.num_gt} box${pr.num_gt === 1 ? '' : 'es'}` : '';
    lines.push(`• \`${escapeMrkdwn(name)}\`: AP ${cocoFigure(c.AP)} · AP50 ${cocoFigure(c.AP50)}${at25}${boxes}`);
  }
  if (classes.length > CLASS_LINES) lines.push(`…and ${classes.length - CLASS_LINES} more classes`);
  if (classes.some(([, c]) => typeof (c as { precision?: unknown }).precision === 'number')) lines.push('_Precision and recall at confidence 0.25, IoU 0.5 (the edge default)._');
  return lines;
}

/** A detector's evaluation (task 'detect', COCO figures and per_class), else null. */
function detectionFigures(metrics: Record<string, unknown> | null | undefined): DetectionFigures | null {
  if (!metrics || metrics.task !== 'detect' || typeof metrics.AP !== 'number' || typeof metrics.AP50 !== 'number') return null;
  return { AP: metrics.AP, AP50: metrics.AP50, per_class: (metrics.per_class ?? {}) as DetectionFigures['per_class'], images: typeof metrics.images === 'number' ? metrics.images : undefined };
}

export function trainingMessage(t: TrainingMessageInput): { text: string; blocks: KnownBlock[] } {
  const title = `${STATUS_ICON[t.status] ?? ''} Training ${t.lineageName} (${t.trainingId})`.trim();
  const blocks: KnownBlock[] = [
    header(title),
    section(`*Status:* ${t.status}   *Dataset:* \`${escapeMrkdwn(t.datasetName)}\`   *Requested by:* ${userMention(t.requestedBy)}`),
  ];
  if (t.status === 'training' || t.status === 'queued' || t.status === 'validating') {
    const fraction = t.totalEpochs ? t.currentEpoch / t.totalEpochs : t.progress;
    const live = t.live ?? {};
    const extra = [live.loss !== undefined && `loss ${fmt(live.loss)}`, live.accuracy !== undefined && `acc ${fmt(live.accuracy)}`, live.valAccuracy !== undefined && `val acc ${fmt(live.valAccuracy)}`, live.etaSeconds !== undefined && `~${Math.ceil(live.etaSeconds / 60)} min left`]
      .filter(Boolean)
      .join(' · ');
    blocks.push(section(`\`${progressBar(fraction)}\` epoch ${t.currentEpoch}/${t.totalEpochs}${extra ? `\n${extra}` : ''}`, 'progress'));
  }
  if (t.error) blocks.push(section(`*Error:* ${escapeMrkdwn(t.error).slice(0, 2000)}`));
  if (t.model) {
    const detection = detectionFigures(t.model.metrics);
    const task = t.model.task ?? (detection ? 'detect' : undefined);
    const modelLine = `*Model:* \`${escapeMrkdwn(t.model.modelName)}\` (v${t.model.modelVersion}, ${task ? `${taskWord(task)}, ` : ''}${t.model.status})`;
    if (detection) {
      const prev = (t.model.metrics?.previous ?? null) as Record<string, unknown> | null;
      const previous = detectionFigures(prev ? { task: 'detect', ...prev } : null);
      blocks.push(section(modelLine, 'metrics'));
      blocks.push(...detectorApprovalSection(detection, previous, t.model.classTitles ?? {}, { previousVersion: typeof prev?.modelVersion === 'number' ? prev.modelVersion : null }));
    } else {
      const lines = metricLines(t.model.metrics);
      blocks.push(section(`${modelLine}${lines.length ? `\n${lines.join('\n')}` : ''}`, 'metrics'));
    }
    if (t.decision) {
      const verb = t.decision.decision === 'approved' ? ':white_check_mark: Approved' : ':no_entry: Rejected';
      blocks.push(context(`${verb} by ${userMention(t.decision.actor)} ${slackDate(t.decision.at)}${t.decision.comment ? ` — ${escapeMrkdwn(t.decision.comment)}` : ''}`));
    }
    const buttons = [];
    if (t.model.status === 'pending_approval' && !t.decision) {
      buttons.push(button('Approve', ACTIONS.approve, t.model.id, 'primary'), button('Reject', ACTIONS.reject, t.model.id, 'danger'));
    }
    if (t.model.status === 'approved') buttons.push(button('Deploy', ACTIONS.deploy, t.model.id, 'primary'));
    buttons.push(button('Details', ACTIONS.details, t.model.id));
    blocks.push(actions(`model:${t.model.id}`, buttons));
  }
  // The header is plain text (shown as is); the fallback text is mrkdwn: escaped.
  return { text: `${escapeMrkdwn(title)}: ${t.status}`, blocks: capBlocks(blocks, LIMITS.messageBlocks) };
}
