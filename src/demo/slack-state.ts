// Reading the recorder like a person reading Slack: the current state of each bot message (after
// its edits), and the buttons in it.
import type { RecordedCall, SlackRecorder } from './slack-recorder.js';

type Obj = Record<string, unknown>;

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: Obj[];
  threadTs: string | null;
  /** seq of the call that last changed it. */
  seq: number;
  at: number;
}

/** Every message the bot posted, as it looks now (chat.update applied). */
export function currentMessages(recorder: SlackRecorder): SlackMessage[] {
  const byKey = new Map<string, SlackMessage>();
  for (const call of recorder.calls) {
    if (call.response.ok !== true) continue;
    if (call.method === 'chat.postMessage') {
      const channel = String(call.response.channel);
      const ts = String(call.response.ts);
      byKey.set(`${channel}:${ts}`, toMessage(call, channel, ts));
    } else if (call.method === 'chat.update') {
      const key = `${String(call.args.channel)}:${String(call.args.ts)}`;
      const prior = byKey.get(key);
      // Fields not sent in an update keep their value (Slack keeps blocks only if they are resent).
      byKey.set(key, { ...toMessage(call, String(call.args.channel), String(call.args.ts)), threadTs: prior?.threadTs ?? null });
    }
  }
  return [...byKey.values()].sort((a, b) => a.seq - b.seq);
}

function toMessage(call: RecordedCall, channel: string, ts: string): SlackMessage {
  const a = call.args;
  return { channel, ts, text: String(a.text ?? ''), blocks: Array.isArray(a.blocks) ? (a.blocks as Obj[]) : [], threadTs: a.thread_ts ? String(a.thread_ts) : null, seq: call.seq, at: call.at };
}

export interface FoundButton {
  actionId: string;
  value: string | undefined;
  text: string;
  style: string | undefined;
}

export function buttons(blocks: Obj[]): FoundButton[] {
  const out: FoundButton[] = [];
  for (const b of blocks) {
    const elements = [...((b.elements as Obj[]) ?? []), ...(b.accessory ? [b.accessory as Obj] : [])];
    for (const e of elements) {
      if (e.type !== 'button') continue;
      out.push({ actionId: String(e.action_id), value: e.value as string | undefined, text: String((e.text as Obj)?.text ?? ''), style: e.style as string | undefined });
    }
  }
  return out;
}

/** The message's button whose text matches (e.g. /^approve$/i). */
export function findButton(message: SlackMessage, text: RegExp): FoundButton | undefined {
  return buttons(message.blocks).find((b) => text.test(b.text.trim()));
}

/** All visible text of a message (section/context/header/fields), for checks and summaries. */
export function messageText(m: { text?: string; blocks: Obj[] }): string {
  const parts: string[] = [m.text ?? ''];
  const walk = (v: unknown) => {
    if (!v || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach(walk);
    const o = v as Obj;
    if (typeof o.text === 'string') parts.push(o.text);
    for (const [k, child] of Object.entries(o)) if (k !== 'text' || typeof child === 'object') walk(child);
  };
  walk(m.blocks);
  return parts.join('\n');
}
