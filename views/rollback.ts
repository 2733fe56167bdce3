// Rollback confirmation (per kit option: the model now active → the one it returns to) and the
// words that report what a rollback did. Counts and words say exactly what changed.
import type { KnownBlock, ModalView } from '@slack/types';
import { context, escapeMrkdwn, lineSections, modal, section, userMention } from './blocks.js';

export const ROLLBACK_CALLBACK = 'kit_rollback_confirm';

export interface RollbackPreviewView {
  kit: { id: string; kitId: string; kitName: string };
  steps: { optionName: string; optionKey: string; from: { name: string }; to: { name: string } | null }[];
  from: string[];
  channel?: string | null;
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
const code = (name: string) => `\`${escapeMrkdwn(name)}\``;
const kitLabel = (k: { kitId: string; kitName: string }) => `*${escapeMrkdwn(k.kitName)}* (${escapeMrkdwn(k.kitId)})`;

export function rollbackModal(p: RollbackPreviewView): ModalView {
  const moving = p.steps.filter((s) => s.to);
  const staying = p.steps.filter((s) => !s.to);
  const line = (s: RollbackPreviewView['steps'][number]) =>
    `• *${escapeMrkdwn(s.optionName)}*${s.optionName === s.optionKey ? '' : ` (${escapeMrkdwn(s.optionKey)})`}: ${code(s.from.name)} → ${s.to ? code(s.to.name) : '_stays: no earlier model_'}`;
  const blocks: KnownBlock[] = [
    section(`Roll back kit ${kitLabel(p.kit)}? ${plural(moving.length, 'kit option')} return to the model they ran before; edges get those models again.`),
    ...lineSections([...moving, ...staying].map(line)),
  ];
  if (staying.length) blocks.push(context(`${plural(staying.length, 'kit option')} keep their model: there is nothing earlier to return to.`));
  return modal({
    callbackId: ROLLBACK_CALLBACK,
    title: 'Roll back kit',
    submit: 'Roll back',
    close: 'Cancel',
    blocks,
    privateMetadata: JSON.stringify({ kit: p.kit.id, from: p.from, channel: p.channel ?? null }),
  });
}

export interface RollbackDone {
  kit: { kitId: string; kitName: string } | null;
  restored: { from: string; to: string }[];
  unchanged: number;
  rolledBackModelIds: string[];
  deprecatedModelIds: string[];
  stillActive: Record<string, number>;
  modelNames: Record<string, string>;
  deployments: unknown[];
}

/** What the rollback did, in one message. */
export function rollbackDoneText(r: RollbackDone): string {
  const name = (id: string) => code(r.modelNames[id] ?? id);
  const moves = new Map<string, number>();
  for (const s of r.restored) moves.set(`${s.from}>${s.to}`, (moves.get(`${s.from}>${s.to}`) ?? 0) + 1);
  const parts = [...moves].map(([key, n]) => {
    const [from, to] = key.split('>') as [string, string];
    return `${plural(n, 'kit option')} ${n === 1 ? 'returns' : 'return'} from ${name(from)} to ${name(to)}`;
  });
  const lines = [`:leftwards_arrow_with_hook: Rolled back ${r.kit ? `kit ${kitLabel(r.kit)}` : 'the deployment'}: ${parts.join('; ')}.`];
  if (r.unchanged) lines.push(`${plural(r.unchanged, 'kit option')} ${r.unchanged === 1 ? 'keeps its' : 'keep their'} model: nothing earlier to return to.`);
  for (const id of r.rolledBackModelIds) {
    if (r.deprecatedModelIds.includes(id)) lines.push(`${name(id)} runs nowhere now and is deprecated.`);
    else if (r.stillActive[id]) lines.push(`${name(id)} still runs on ${plural(r.stillActive[id]!, 'other kit option')}, so it stays deployed.`);
  }
  lines.push(r.deployments.length ? `${plural(r.deployments.length, 'edge deployment')} queued.` : 'No edge server is registered: nothing to send.');
  return lines.join('\n');
}

/** The note in the rolled-back model's training thread. */
export function rolledBackNote(e: { actor: string; restored: unknown[]; deprecated: boolean; stillActive: number }): { text: string; blocks: [] } {
  const after = e.deprecated ? 'this model runs nowhere now and is deprecated' : `this model still runs on ${plural(e.stillActive, 'other kit option')} and stays deployed`;
  return { text: `Rolled back by ${userMention(e.actor)}: ${plural(e.restored.length, 'kit option')} returned to the model they ran before; ${after}.`, blocks: [] };
}
