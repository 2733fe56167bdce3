// Deploy confirmation: which kit options and which edge servers, picked before anything moves.
import type { KnownBlock, ModalView, PlainTextOption } from '@slack/types';
import { context, escapeMrkdwn, input, LIMITS, modal, nameWithId, option, optionTitle, plain, section } from './blocks.js';

export const DEPLOY_CALLBACK = 'model_deploy_confirm';

export interface DeployPreviewView {
  modelId: string;
  modelName: string;
  scope: { testTypeId: string; kitId: string; kitName: string; aiOptionUid: string; optionName: string; optionTitle?: string | null; currentModelName: string | null }[];
  targets: string[];
  channel?: string | null;
  ts?: string | null;
}

/** Checkboxes hold 10; more become a multi-select (100). All start selected. */
function choice(blockId: string, label: string, opts: PlainTextOption[]): KnownBlock {
  const list = opts.slice(0, LIMITS.staticOptions);
  const element =
    list.length <= 10
      ? { type: 'checkboxes' as const, action_id: 'value', options: list, initial_options: list }
      : { type: 'multi_static_select' as const, action_id: 'value', options: list, initial_options: list, placeholder: plain('Pick') };
  return input(blockId, label, element);
}

export function deployModal(p: DeployPreviewView): ModalView {
  const blocks: KnownBlock[] = [section(`Deploy \`${escapeMrkdwn(p.modelName)}\`? Each picked kit option switches to this model; the model it replaces is kept for rollback.`)];
  if (p.scope.length) {
    // The kit id stays whole (long kit names would look alike); the option's key goes second.
    const text = (s: DeployPreviewView['scope'][number]) => nameWithId(`${optionTitle({ name: s.optionName, description: s.optionTitle })} · ${s.kitName}`, s.kitId);
    blocks.push(choice('scope', 'Kit options', p.scope.map((s) => option(text(s), `${s.testTypeId}:${s.aiOptionUid}`, `${s.optionName} · ${s.currentModelName ? `now ${s.currentModelName}` : 'no active model yet'}`))));
  } else {
    blocks.push(section(':warning: This model is not mapped to any kit option yet.'));
  }
  if (p.targets.length) blocks.push(choice('targets', 'Edge servers', p.targets.map((t) => option(t, t))));
  else blocks.push(context('No edge servers are registered: the model is activated for the kits only.'));
  return modal({
    callbackId: DEPLOY_CALLBACK,
    title: 'Deploy model',
    submit: p.scope.length ? 'Deploy' : undefined,
    close: 'Cancel',
    blocks,
    privateMetadata: JSON.stringify({ modelId: p.modelId, channel: p.channel ?? null, ts: p.ts ?? null }),
  });
}
