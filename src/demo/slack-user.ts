// A scripted Slack user: builds the requests Slack sends an app (slash commands, block actions,
// view submissions, options loads), signs them with the signing secret exactly as Slack
// does, posts them to Assay's /slack/events over HTTP, and records Assay's ack in the transcript.
import { slackSignature } from '../testing/slack-signature.js';
import type { SlackFile, SlackRecorder } from './slack-recorder.js';
import { postToAssay } from '../testing/post.js';

type Obj = Record<string, unknown>;

export interface SlackReply {
  status: number;
  body: Obj;
  text: string;
}

/** An answer for one input block: text, option value(s), or uploaded files. */
export type InputAnswer = string | string[] | { files: SlackFile[] } | null;

interface Opt {
  text: Obj;
  value: string;
}

function optionsOf(el: Obj): Opt[] {
  const groups = (el.option_groups as Obj[] | undefined) ?? [];
  return [...((el.options as Opt[] | undefined) ?? []), ...groups.flatMap((g) => (g.options as Opt[]) ?? [])];
}

/** Finds an option by value (or by its visible text), as a person picking from the list would. */
function choose(el: Obj, wanted: string, known: Opt[] = []): Opt {
  const all = [...optionsOf(el), ...known];
  const hit = all.find((o) => o.value === wanted) ?? all.find((o) => String((o.text as Obj)?.text ?? '').toLowerCase().includes(wanted.toLowerCase()));
  if (!hit) throw new Error(`no option "${wanted}" in ${String(el.type)} ${String(el.action_id)} (has: ${all.map((o) => String((o.text as Obj)?.text)).join(', ') || 'none'})`);
  return { text: hit.text, value: hit.value };
}

/** The `view.state.values` Slack would send for a view with these answers (others keep their initial values). */
export function stateFor(view: Obj, answers: Record<string, InputAnswer>, known: Record<string, Opt[]> = {}): Record<string, Record<string, Obj>> {
  const values: Record<string, Record<string, Obj>> = {};
  for (const block of (view.blocks as Obj[] | undefined) ?? []) {
    if (block.type !== 'input' && block.type !== 'actions' && !(block.type === 'section' && block.accessory)) continue;
    const blockId = String(block.block_id ?? '');
    const elements = block.type === 'input' ? [block.element as Obj] : block.type === 'actions' ? ((block.elements as Obj[]) ?? []) : [block.accessory as Obj];
    for (const el of elements) {
      if (!el || el.type === 'button' || el.type === 'overflow') continue;
      const actionId = String(el.action_id ?? '');
      const answer = blockId in answers ? answers[blockId] : undefined;
      const type = String(el.type);
      const state: Obj = { type };
      const multi = type.startsWith('multi_') || type === 'checkboxes';
      if (type === 'file_input') {
        state.files = answer && typeof answer === 'object' && 'files' in answer ? answer.files : [];
      } else if (type.endsWith('select') || type === 'checkboxes' || type === 'radio_buttons') {
        const initial = multi ? ((el.initial_options as Opt[]) ?? []) : el.initial_option ? [el.initial_option as Opt] : [];
        const picked = answer === undefined ? initial : answer === null ? [] : (Array.isArray(answer) ? answer : [answer as string]).map((v) => choose(el, v, known[blockId]));
        if (multi) state.selected_options = picked;
        else state.selected_option = picked[0] ?? null;
      } else {
        state.value = answer === undefined ? (el.initial_value ?? null) : answer;
      }
      (values[blockId] ??= {})[actionId] = state;
    }
  }
  return values;
}

export class SlackUser {
  private triggers = 0;

  constructor(
    readonly id: string,
    readonly name: string,
    private readonly assayUrl: string,
    private readonly signingSecret: string,
    private readonly recorder: SlackRecorder,
    private readonly channel = { id: 'C0DEMOOPS', name: 'kit-models' },
  ) {}

  private get user() {
    return { id: this.id, username: this.name.toLowerCase(), name: this.name.toLowerCase(), team_id: this.recorder.teamId };
  }

  private triggerId(): string {
    return `${Date.now()}.${++this.triggers}.demo${Math.random().toString(16).slice(2, 10)}`;
  }

  /** Signs and posts a raw body, like Slack does; records Assay's answer (its ack). */
  async send(body: string, contentType: string, record = true, viewId?: string): Promise<SlackReply> {
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await postToAssay(`${this.assayUrl}/slack/events`, {
      headers: { 'content-type': contentType, 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(this.signingSecret, ts, body) },
      body,
    });
    const text = await res.text();
    let parsed: Obj = {};
    try {
      parsed = text ? (JSON.parse(text) as Obj) : {};
    } catch {
      parsed = text ? { text } : {};
    }
    if (record && Object.keys(parsed).length) this.recorder.recordAck(parsed, viewId);
    return { status: res.status, body: parsed, text };
  }

  private interaction(payload: Obj, record = true, viewId?: string): Promise<SlackReply> {
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    return this.send(body, 'application/x-www-form-urlencoded', record, viewId);
  }

  /** `/assay <text>` typed in the channel. */
  command(text: string, description = `types /assay ${text}`): Promise<SlackReply> {
    this.recorder.userAction(this.name, description, { command: '/assay', text });
    const body = new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: this.recorder.teamId,
      team_domain: 'assay-demo',
      channel_id: this.channel.id,
      channel_name: this.channel.name,
      user_id: this.id,
      user_name: this.name.toLowerCase(),
      command: '/assay',
      text,
      api_app_id: 'A0ASSAYAPP',
      is_enterprise_install: 'false',
      response_url: this.recorder.responseUrl(),
      trigger_id: this.triggerId(),
    }).toString();
    return this.send(body, 'application/x-www-form-urlencoded');
  }

  /** Clicks a button in a message the bot posted (found by action_id in its blocks). */
  clickInMessage(message: { channel: string; ts: string; blocks: Obj[]; text?: string }, actionId: string, description: string): Promise<SlackReply> {
    const { block, element } = findElement(message.blocks, actionId);
    this.recorder.userAction(this.name, description, { action_id: actionId, block_id: block.block_id, value: element.value });
    return this.interaction({
      type: 'block_actions',
      user: this.user,
      api_app_id: 'A0ASSAYAPP',
      token: 'deprecated-verification-token',
      container: { type: 'message', message_ts: message.ts, channel_id: message.channel, is_ephemeral: false },
      trigger_id: this.triggerId(),
      team: { id: this.recorder.teamId, domain: 'assay-demo' },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: message.channel, name: this.channel.name },
      message: { type: 'message', user: this.recorder.botUserId, ts: message.ts, text: message.text ?? '', blocks: message.blocks },
      state: { values: {} },
      response_url: this.recorder.responseUrl(),
      actions: [{ type: element.type, action_id: actionId, block_id: block.block_id, value: element.value, text: element.text, action_ts: String(Date.now() / 1000) }],
    });
  }

  private viewPayload(view: Obj, answers: Record<string, InputAnswer>, known: Record<string, Opt[]>): Obj {
    return {
      id: view.id,
      team_id: this.recorder.teamId,
      type: view.type ?? 'modal',
      blocks: view.blocks,
      private_metadata: view.private_metadata ?? '',
      callback_id: view.callback_id ?? '',
      state: { values: stateFor(view, answers, known) },
      hash: view.hash,
      title: view.title,
      clear_on_close: false,
      notify_on_close: false,
      close: view.close ?? null,
      submit: view.submit ?? null,
      previous_view_id: null,
      root_view_id: view.id,
      app_id: 'A0ASSAYAPP',
      external_id: '',
      app_installed_team_id: this.recorder.teamId,
      bot_id: 'B0ASSAYBOT',
    };
  }

  /** Presses the modal's submit button with these answers. */
  submit(view: Obj, answers: Record<string, InputAnswer>, description: string, known: Record<string, Opt[]> = {}): Promise<SlackReply> {
    this.recorder.userAction(this.name, description, { callback_id: view.callback_id, answers: summarise(answers) });
    return this.interaction({
      type: 'view_submission',
      team: { id: this.recorder.teamId, domain: 'assay-demo' },
      user: this.user,
      api_app_id: 'A0ASSAYAPP',
      token: 'deprecated-verification-token',
      trigger_id: this.triggerId(),
      view: this.viewPayload(view, answers, known),
      response_urls: [],
      is_enterprise_install: false,
      enterprise: null,
    }, true, String(view.id));
  }

  /** Types into an external select: Slack asks Assay for options (block_suggestion). */
  async suggest(view: Obj, blockId: string, actionId: string, value: string): Promise<Opt[]> {
    const reply = await this.interaction(
      {
        type: 'block_suggestion',
        user: this.user,
        container: { type: 'view', view_id: view.id },
        api_app_id: 'A0ASSAYAPP',
        token: 'deprecated-verification-token',
        action_id: actionId,
        block_id: blockId,
        value,
        team: { id: this.recorder.teamId, domain: 'assay-demo' },
        view: { id: view.id, callback_id: view.callback_id, private_metadata: view.private_metadata, type: view.type, blocks: view.blocks, state: { values: {} }, hash: view.hash },
      },
      false,
    );
    const opts = (reply.body.options as Opt[] | undefined) ?? [];
    const groups = (reply.body.option_groups as { options: Opt[] }[] | undefined) ?? [];
    return [...opts, ...groups.flatMap((g) => g.options)];
  }
}

export function findElement(blocks: Obj[], actionId: string): { block: Obj; element: Obj } {
  for (const block of blocks) {
    const elements = [...((block.elements as Obj[]) ?? []), ...(block.element ? [block.element as Obj] : []), ...(block.accessory ? [block.accessory as Obj] : [])];
    const element = elements.find((e) => e.action_id === actionId);
    if (element) return { block, element };
  }
  throw new Error(`no element with action_id "${actionId}" in the blocks (${blocks.map((b) => String(b.block_id ?? b.type)).join(', ')})`);
}

function summarise(answers: Record<string, InputAnswer>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(answers).map(([k, v]) => [k, v && typeof v === 'object' && 'files' in v ? v.files.map((f) => f.name) : v]));
}
