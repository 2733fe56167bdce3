// Short answers to /assay subcommands (ephemeral unless said otherwise), Details and Reject modals.
import type { KnownBlock, ModalView } from '@slack/types';
import { capBlocks, context, escapeMrkdwn, input, LIMITS, lineSections, modal, section, slackDate, userMention } from './blocks.js';
import { metricLines, taskWord } from './training-message.js';

export const USAGE = [
  '*/assay train* — open the training wizard',
  '*/assay import* — bring in a detector trained elsewhere (Ultralytics ONNX) as a new model version',
  '*/assay kits* [search] — kits that can be trained',
  '*/assay models* [kit] — recent models',
  '*/assay status* <training or model> — where it stands (a training: with its full dataset report)',
  '*/assay status salesforce* — what Salesforce sent lately and every event Assay could not apply, with the reason',
  '*/assay cancel* <training> — stop a training (its requester or an approver)',
  '*/assay deploy* <model> — activate an approved model (approvers)',
  '*/assay rollback* <kit> — return a kit to its previous models, after a confirmation (approvers)',
  '*/assay history* <kit> — promotions of a kit',
  '*/assay sync* — reconcile kits with Salesforce now (approvers, one at a time; says how the last one ended)',
  '*/assay help* — this list',
].join('\n');

export const usageReply = (problem?: string) => ({ text: problem ? escapeMrkdwn(problem) : 'Assay commands', blocks: [...(problem ? [section(`:warning: ${escapeMrkdwn(problem)}`)] : []), section(USAGE)] });

/** `text` is mrkdwn as given: escape what came from outside (escapeMrkdwn) before passing it. */
export const textReply = (text: string) => ({ text, blocks: [section(text)] });

export function kitsReply(kits: { kitId: string; kitName: string; selectableOptions: number }[], total: number, search?: string): { text: string; blocks: KnownBlock[] } {
  if (kits.length === 0) return textReply(search ? `No trainable kits match "${escapeMrkdwn(search)}".` : 'No trainable kits yet: kits arrive from Salesforce (Outbound Messages, change events or /assay sync); /assay status salesforce shows what arrived.');
  const lines = kits.slice(0, 40).map((k) => `• *${escapeMrkdwn(k.kitName)}* (${escapeMrkdwn(k.kitId)}) — ${k.selectableOptions} selectable option${k.selectableOptions === 1 ? '' : 's'}`);
  const more = total > lines.length ? [context(`${total - lines.length} more: narrow with /assay kits <search>.`)] : [];
  return { text: `${total} trainable kits`, blocks: capBlocks([section(`*${total} trainable kit${total === 1 ? '' : 's'}*`), section(lines.join('\n')), ...more], LIMITS.messageBlocks) };
}

export interface ModelLine {
  modelName: string;
  modelVersion: number;
  task?: 'detect' | 'classify';
  status: string;
  createdAt: Date;
}

export function modelsReply(models: ModelLine[], kitName?: string): { text: string; blocks: KnownBlock[] } {
  if (models.length === 0) return textReply(kitName ? `No models for ${escapeMrkdwn(kitName)} yet.` : 'No models yet.');
  const lines = models.map((m) => `• \`${escapeMrkdwn(m.modelName)}\` v${m.modelVersion}${m.task ? ` ${taskWord(m.task)}` : ''} — ${m.status} — ${slackDate(m.createdAt)}`);
  return { text: `${models.length} models`, blocks: [section(`*Models${kitName ? ` of ${escapeMrkdwn(kitName)}` : ''}*`), section(lines.join('\n'))] };
}

export function modelStatusReply(m: { modelName: string; modelVersion: number; task?: 'detect' | 'classify'; status: string; metrics: Record<string, unknown> | null; approvedBy: string | null; rejectionReason: string | null }) {
  const lines = [`*Model* \`${escapeMrkdwn(m.modelName)}\` v${m.modelVersion}${m.task ? ` (${taskWord(m.task)})` : ''}: *${m.status}*`, ...metricLines(m.metrics)];
  if (m.approvedBy) lines.push(`Approved by ${userMention(m.approvedBy)}`);
  if (m.rejectionReason) lines.push(`Rejected: ${escapeMrkdwn(m.rejectionReason)}`);
  return textReply(lines.join('\n'));
}

export function detailsModal(m: { modelName: string; modelVersion: number; status: string; metrics: Record<string, unknown> | null; requestedBy: string | null; createdAt: Date }): ModalView {
  const lines = metricLines(m.metrics);
  return modal({
    callbackId: 'model_details',
    title: 'Model details',
    blocks: [
      section(`\`${escapeMrkdwn(m.modelName)}\` v${m.modelVersion} — *${m.status}*`),
      section(lines.length ? lines.join('\n') : 'No metrics yet.'),
      context(`Created ${slackDate(m.createdAt)}${m.requestedBy ? ` · requested by ${userMention(m.requestedBy)}` : ''}`),
    ],
  });
}

export const REJECT_CALLBACK = 'model_reject_reason';

/** `maxLength`: the reason cap (src/domain/limits.ts), said in the input. */
export function rejectModal(input_: { modelId: string; modelName: string; channel?: string; ts?: string; maxLength: number }): ModalView {
  return modal({
    callbackId: REJECT_CALLBACK,
    title: 'Reject model',
    submit: 'Reject',
    close: 'Cancel',
    privateMetadata: JSON.stringify({ modelId: input_.modelId, channel: input_.channel ?? null, ts: input_.ts ?? null }),
    blocks: [section(`Reject \`${escapeMrkdwn(input_.modelName)}\`? The requester sees your reason.`), input('reason', 'Reason', { type: 'plain_text_input', action_id: 'value', multiline: true, min_length: 3, max_length: input_.maxLength }, { hint: `3 to ${input_.maxLength} characters.` })],
  });
}

export interface SyncRunView {
  requestedBy: string;
  status: string;
  requestedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  summary: { kitsSeen?: number; kitsCreated?: number; kitsUpdated?: number; archived?: string[]; durationMs?: number } | null;
  error: string | null;
}

const who = (id: string) => (id === 'schedule' ? 'the schedule' : id.startsWith('cli:') ? `${escapeMrkdwn(id.slice(4))} (CLI)` : userMention(id));

/** How a finished sync ended, in one sentence. */
export function syncRunLine(r: SyncRunView): string {
  const when = slackDate(r.startedAt ?? r.requestedAt);
  if (r.status === 'completed' && r.summary) {
    const s = r.summary;
    const took = s.durationMs !== undefined ? ` in ${Math.max(1, Math.round(s.durationMs / 1000))} s` : '';
    return `The last sync started ${when} (asked by ${who(r.requestedBy)}) and completed${took}: ${s.kitsSeen ?? 0} kits read, ${s.kitsCreated ?? 0} new, ${s.kitsUpdated ?? 0} updated, ${s.archived?.length ?? 0} archived.`;
  }
  return `The last sync started ${when} (asked by ${who(r.requestedBy)}) and failed: ${escapeMrkdwn(r.error ?? 'no reason recorded')}.`;
}

export function syncQueuedReply(last: SyncRunView | null) {
  return textReply(`:arrows_counterclockwise: Kit sync with Salesforce queued; new kits show up in /assay kits when it ends.\n${last ? syncRunLine(last) : 'This is the first sync.'}`);
}

export function syncBusyReply(open: SyncRunView) {
  const since = slackDate(open.startedAt ?? open.requestedAt);
  return textReply(`:hourglass: A kit sync is already ${open.status === 'running' ? 'running' : 'queued'} since ${since} (asked by ${who(open.requestedBy)}): one at a time. Try again when it ends.`);
}

export interface IntakeStatusView {
  apiConfigured: boolean;
  outboundConfigured: boolean;
  lastDay: { applied: number; ignored: number; failed: number; received: number };
  unapplied: { source: string; entityName: string | null; recordId: string | null; state: 'failed' | 'waiting' | 'pending'; error: string | null; receivedAt: Date }[];
  unappliedTotal: number;
}

const STATE_ICON = { failed: ':x: failed', waiting: ':hourglass: waiting', pending: ':hourglass: not applied yet' } as const;

/** `/assay status salesforce`: how kits arrive here, and everything that did not apply (Salesforce text escaped). */
export function salesforceStatusReply(s: IntakeStatusView): { text: string; blocks: KnownBlock[] } {
  const how = s.apiConfigured
    ? 'Salesforce API configured: every event re-reads its records from the org.'
    : s.outboundConfigured
      ? 'Salesforce API not configured: Outbound Messages are applied from their own fields; change events are refused (422).'
      : 'Salesforce is not connected: no API credentials, no Outbound Message endpoint (README: Wiring Salesforce).';
  const d = s.lastDay;
  const blocks: KnownBlock[] = [
    section(`*Salesforce* — ${how}`),
    context(`Last 24 hours: ${d.applied} applied, ${d.ignored} ignored (stale or duplicate), ${d.failed} failed, ${d.received} not applied yet.`),
  ];
  if (s.unappliedTotal === 0) blocks.push(section(':white_check_mark: Every event Salesforce sent was applied or deliberately ignored.'));
  else {
    const lines = s.unapplied.map((e) => {
      const what = `${e.source === 'outbound' ? 'Outbound Message' : e.source === 'cdc' ? 'change event' : escapeMrkdwn(e.source)} ${escapeMrkdwn(e.entityName ?? '?')} ${escapeMrkdwn(e.recordId ?? '')}`.trim();
      return `• ${STATE_ICON[e.state]} — ${what} — ${escapeMrkdwn(e.error ?? 'its apply job has not run')} — ${slackDate(e.receivedAt)}`;
    });
    blocks.push(section(`*${s.unappliedTotal} event${s.unappliedTotal === 1 ? '' : 's'} not applied*`), ...lineSections(lines));
    if (s.unappliedTotal > lines.length) blocks.push(context(`and ${s.unappliedTotal - lines.length} more (newest shown).`));
  }
  return { text: s.unappliedTotal ? `Salesforce: ${s.unappliedTotal} event(s) not applied` : 'Salesforce: everything applied', blocks };
}
