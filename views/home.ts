// App Home: recent trainings, approvals waiting for the viewer, the active model per kit (≤100 blocks).
import type { HomeView, KnownBlock } from '@slack/types';
import { actions, button, capBlocks, context, divider, escapeMrkdwn, header, LIMITS, optionTitle, section, slackDate, userMention } from './blocks.js';
import { ACTIONS } from './training-message.js';

export interface HomeInput {
  trainings: { trainingId: string; lineageName: string; status: string; currentEpoch: number; totalEpochs: number; requestedBy: string; createdAt: Date; model: { modelName: string; status: string } | null }[];
  waiting: { id: string; modelName: string; modelVersion: number; requestedBy: string | null; createdAt: Date }[];
  active: { kitId: string; kitName: string; optionName: string; optionTitle?: string | null; modelName: string }[];
  isApprover: boolean;
}

export function homeView(h: HomeInput): HomeView {
  const blocks: KnownBlock[] = [header('Approvals waiting for you')];
  if (!h.isApprover) blocks.push(context('You are not an approver.'));
  else if (h.waiting.length === 0) blocks.push(context('Nothing to approve.'));
  for (const m of h.waiting.slice(0, 10)) {
    blocks.push(section(`\`${escapeMrkdwn(m.modelName)}\` v${m.modelVersion}${m.requestedBy ? ` · requested by ${userMention(m.requestedBy)}` : ''} · ${slackDate(m.createdAt)}`));
    blocks.push(actions(`home:${m.id}`, [button('Approve', ACTIONS.approve, m.id, 'primary'), button('Reject', ACTIONS.reject, m.id, 'danger'), button('Details', ACTIONS.details, m.id)]));
  }
  blocks.push(divider(), header('Recent trainings'));
  if (h.trainings.length === 0) blocks.push(context('No trainings yet: run /assay train.'));
  for (const t of h.trainings.slice(0, 10)) {
    blocks.push(section(`*${escapeMrkdwn(t.lineageName)}* (${t.trainingId}) — ${t.status}${t.status === 'training' ? ` ${t.currentEpoch}/${t.totalEpochs}` : ''}${t.model ? ` → \`${escapeMrkdwn(t.model.modelName)}\` (${t.model.status})` : ''}\n${userMention(t.requestedBy)} · ${slackDate(t.createdAt)}`));
  }
  blocks.push(divider(), header('Active model per kit'));
  if (h.active.length === 0) blocks.push(context('No model is active yet.'));
  const byKit = new Map<string, string[]>();
  for (const a of h.active) {
    const k = `*${escapeMrkdwn(a.kitName)}* (${escapeMrkdwn(a.kitId)})`;
    const option = optionTitle({ name: a.optionName, description: a.optionTitle }) === a.optionName ? a.optionName : `${optionTitle({ name: a.optionName, description: a.optionTitle })} (${a.optionName})`;
    byKit.set(k, [...(byKit.get(k) ?? []), `${escapeMrkdwn(option)}: \`${escapeMrkdwn(a.modelName)}\``]);
  }
  for (const [kit, lines] of byKit) blocks.push(section(`${kit}\n${lines.join('\n')}`));
  return { type: 'home', blocks: capBlocks(blocks, LIMITS.homeBlocks, 'More kits are not shown: use /assay models <kit>.') };
}
