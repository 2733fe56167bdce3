// Typed Block Kit building blocks shared by every template. Slack's limits are enforced here
// once (option text 75, values 150, section text 3000, header 150, blocks per surface), so a
// long kit name or a big catalog degrades to a truncated label, never to a rejected view.
import type { ActionsBlock, Button, ContextBlock, HeaderBlock, InputBlock, KnownBlock, ModalView, PlainTextOption, SectionBlock } from '@slack/types';
import { escapeMrkdwn } from './mrkdwn.js';

export { escapeMrkdwn };

export const LIMITS = { optionText: 75, optionValue: 150, sectionText: 3000, header: 150, modalTitle: 24, staticOptions: 100, modalBlocks: 100, messageBlocks: 50, homeBlocks: 100 } as const;

/** Cuts to `max` characters (counting code points), ending with an ellipsis when cut. */
export function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length <= max ? text : chars.slice(0, Math.max(0, max - 1)).join('') + '…';
}


/** `name (id)` within `max` characters: a long name is cut, never the id that tells kits apart. */
export function nameWithId(name: string, id: string, max: number = LIMITS.optionText): string {
  const suffix = ` (${id})`;
  const room = max - [...suffix].length;
  return room < 8 ? truncate(`${name}${suffix}`, max) : `${truncate(name, room)}${suffix}`;
}

/** An AI option for people: its Salesforce name first; the key (what datasets use) second. */
export function optionTitle(o: { name: string; description?: string | null }): string {
  return o.description?.trim() || o.name;
}

export const plain = (text: string, max: number = LIMITS.sectionText) => ({ type: 'plain_text' as const, text: truncate(text, max), emoji: true });
export const mrkdwn = (text: string) => ({ type: 'mrkdwn' as const, text: truncate(text, LIMITS.sectionText) });

export const header = (text: string): HeaderBlock => ({ type: 'header', text: plain(text, LIMITS.header) });
export const section = (text: string, blockId?: string): SectionBlock => ({ type: 'section', text: mrkdwn(text), ...(blockId ? { block_id: blockId } : {}) });
export const context = (...texts: string[]): ContextBlock => ({ type: 'context', elements: texts.slice(0, 10).map((t) => mrkdwn(t)) });
export const divider = (): KnownBlock => ({ type: 'divider' });

export function option(text: string, value: string, description?: string): PlainTextOption {
  return {
    text: plain(text, LIMITS.optionText),
    value: truncate(value, LIMITS.optionValue),
    ...(description ? { description: plain(description, LIMITS.optionText) } : {}),
  };
}

export function button(text: string, actionId: string, value: string, style?: 'primary' | 'danger'): Button {
  return { type: 'button', text: plain(text, 75), action_id: actionId, value, ...(style ? { style } : {}) };
}

export const actions = (blockId: string, elements: Button[]): ActionsBlock => ({ type: 'actions', block_id: blockId, elements: elements.slice(0, 25) });

export function input(blockId: string, label: string, element: InputBlock['element'], opts: { optional?: boolean; hint?: string; dispatchAction?: boolean } = {}): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label, 2000),
    element,
    optional: opts.optional ?? false,
    ...(opts.hint ? { hint: plain(opts.hint, 2000) } : {}),
    ...(opts.dispatchAction ? { dispatch_action: true } : {}),
  };
}

/** Lines grouped into as few sections as Slack's 3000-character section text allows. */
export function lineSections(lines: string[], max: number = LIMITS.sectionText - 100): SectionBlock[] {
  const blocks: SectionBlock[] = [];
  let chunk: string[] = [];
  let size = 0;
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (chunk.length && size + line.length + 1 > max) {
      blocks.push(section(chunk.join('\n')));
      chunk = [];
      size = 0;
    }
    chunk.push(line);
    size += line.length + 1;
  }
  if (chunk.length) blocks.push(section(chunk.join('\n')));
  return blocks;
}

/** Keeps at most `max` blocks, replacing the tail with a note so the view stays valid. */
export function capBlocks(blocks: KnownBlock[], max: number, note = 'More items are not shown here.'): KnownBlock[] {
  if (blocks.length <= max) return blocks;
  return [...blocks.slice(0, max - 1), context(note)];
}

export function modal(input: { callbackId: string; title: string; blocks: KnownBlock[]; submit?: string; close?: string; privateMetadata?: string }): ModalView {
  return {
    type: 'modal',
    callback_id: input.callbackId,
    title: plain(input.title, LIMITS.modalTitle),
    ...(input.submit ? { submit: plain(input.submit, LIMITS.modalTitle) } : {}),
    close: plain(input.close ?? 'Close', LIMITS.modalTitle),
    blocks: capBlocks(input.blocks, LIMITS.modalBlocks),
    ...(input.privateMetadata ? { private_metadata: input.privateMetadata } : {}),
  };
}

export function progressBar(fraction: number, width = 20): string {
  const f = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `${'█'.repeat(full)}${'░'.repeat(width - full)} ${Math.round(f * 100)}%`;
}

export const userMention = (id: string) => (/^[UW][A-Z0-9]+$/.test(id) ? `<@${id}>` : escapeMrkdwn(id));
export const slackDate = (d: Date) => `<!date^${Math.floor(d.getTime() / 1000)}^{date_short_pretty} {time}|${d.toISOString()}>`;
