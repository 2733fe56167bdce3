// Renders what the bot sent to Slack, in order, as one self-contained HTML page: messages and
// modals drawn roughly as Slack shows Block Kit, each under the user action that led to it.
// Everything that came from a payload is HTML-escaped; links are kept only for http(s)/mailto.
import type { RecordedCall, TranscriptEntry, UserAction } from './slack-recorder.js';

type Obj = Record<string, unknown>;

export function escapeHtml(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Slack's own escaping of &, <, > inside message text. */
const unslack = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function safeHref(url: string): string | null {
  return /^(https?:|mailto:)/i.test(url.trim()) ? url.trim() : null;
}

/** Display names for user and channel ids while a transcript renders (rendering is synchronous). */
let names: Record<string, string> = {};
const nameOf = (id: string) => names[id] ?? id;
const channelName = (id: string) => (/^[CG]/.test(id) ? `#${nameOf(id)}` : /^D/.test(id) ? `DM with ${nameOf(`U${id.slice(1)}`)}` : nameOf(id));

/** Slack mrkdwn → HTML: *bold*, _italic_, ~strike~, `code`, ```pre```, <url|text>, <@U…>, <#C…>, <!here>, <!date^…|fallback>. */
export function mrkdwn(text: string): string {
  const held: string[] = [];
  const hold = (html: string) => `\u0000${held.push(html) - 1}\u0000`;
  let s = String(text ?? '').replace(/\u0000/g, '');
  s = s.replace(/```([\s\S]*?)```/g, (_, code: string) => hold(`<pre>${escapeHtml(unslack(code))}</pre>`));
  s = s.replace(/`([^`\n]+)`/g, (_, code: string) => hold(`<code>${escapeHtml(unslack(code))}</code>`));
  s = s.replace(/<([^<>\n]+)>/g, (whole, inner: string) => {
    const [target, label] = inner.split('|', 2) as [string, string | undefined];
    if (target.startsWith('@')) return hold(`<span class="mention">@${escapeHtml(label ?? nameOf(target.slice(1)))}</span>`);
    if (target.startsWith('#')) return hold(`<span class="mention">#${escapeHtml(label ?? nameOf(target.slice(1)))}</span>`);
    // Dates show their fallback text (Slack would localise them).
    if (target.startsWith('!date^')) return hold(escapeHtml(unslack(label ?? '')));
    if (target.startsWith('!')) return hold(`<span class="mention">@${escapeHtml(label ?? target.slice(1).split('^')[0])}</span>`);
    const href = safeHref(unslack(target));
    if (!href) return hold(escapeHtml(unslack(whole)));
    return hold(`<a href="${escapeHtml(href)}" rel="noopener noreferrer">${escapeHtml(unslack(label ?? target))}</a>`);
  });
  s = escapeHtml(unslack(s));
  s = s.replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,:;!?])/g, '$1<b>$2</b>');
  s = s.replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,:;!?])/g, '$1<i>$2</i>');
  s = s.replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,:;!?])/g, '$1<s>$2</s>');
  s = s.replace(/^&gt; ?(.*)$/gm, '<span class="quote">$1</span>');
  s = s.replace(/\n/g, '<br>');
  return s.replace(/\u0000(\d+)\u0000/g, (_, i: string) => held[Number(i)]!);
}

function textObject(t: unknown): string {
  if (t === undefined || t === null) return '';
  if (typeof t === 'string') return escapeHtml(t);
  const o = t as Obj;
  return o.type === 'mrkdwn' ? mrkdwn(String(o.text ?? '')) : escapeHtml(o.text);
}

const plain = (t: unknown) => (t && typeof t === 'object' ? escapeHtml((t as Obj).text) : escapeHtml(t));

function optionList(el: Obj): Obj[] {
  const groups = (el.option_groups as Obj[] | undefined) ?? [];
  return [...((el.options as Obj[] | undefined) ?? []), ...groups.flatMap((g) => (g.options as Obj[]) ?? [])];
}

const chosenValues = (el: Obj): Set<string> =>
  new Set([...(((el.initial_options as Obj[] | undefined) ?? []) as Obj[]), ...(el.initial_option ? [el.initial_option as Obj] : [])].map((o) => String(o.value)));

function idTag(label: string, value: unknown): string {
  return value ? `<span class="id">${label}=${escapeHtml(value)}</span>` : '';
}

function renderSelect(el: Obj): string {
  const type = String(el.type);
  const chosen = chosenValues(el);
  const multi = type.startsWith('multi_');
  const head = `<span class="select">${escapeHtml(type)}: ${plain(el.placeholder) || 'Select…'} ▾</span>${idTag('action_id', el.action_id)}`;
  const opts = optionList(el);
  const initial = [...((el.initial_options as Obj[]) ?? []), ...(el.initial_option ? [el.initial_option as Obj] : [])];
  let list = '';
  if (opts.length) {
    list = `<ul class="options">${opts
      .map((o) => `<li class="${chosen.has(String(o.value)) ? 'chosen' : ''}">${chosen.has(String(o.value)) ? '✔ ' : ''}${plain(o.text)}${o.description ? ` <span class="muted">— ${plain(o.description)}</span>` : ''} ${idTag('value', o.value)}</li>`)
      .join('')}</ul>`;
  } else if (type.includes('external')) {
    list = `<div class="muted">options are loaded from Assay as the user types${el.min_query_length !== undefined ? ` (min ${escapeHtml(el.min_query_length)} chars)` : ''}${initial.length ? `; preselected: ${initial.map((o) => plain(o.text)).join(', ')}` : ''}</div>`;
  }
  return `<div class="element">${head}${multi ? ' <span class="muted">(multi)</span>' : ''}${list}</div>`;
}

function renderChoice(el: Obj, mark: [string, string]): string {
  const chosen = chosenValues(el);
  return `<div class="element">${idTag('action_id', el.action_id)}<ul class="choices">${optionList(el)
    .map((o) => `<li>${chosen.has(String(o.value)) ? mark[1] : mark[0]} ${textObject(o.text)}${o.description ? `<div class="muted">${textObject(o.description)}</div>` : ''}</li>`)
    .join('')}</ul></div>`;
}

export function renderElement(el: Obj): string {
  const type = String(el.type ?? '');
  switch (type) {
    case 'button': {
      const style = el.style === 'primary' ? 'primary' : el.style === 'danger' ? 'danger' : 'default';
      const href = el.url ? safeHref(String(el.url)) : null;
      const label = plain(el.text);
      const inner = href ? `<a href="${escapeHtml(href)}" rel="noopener noreferrer">${label}</a>` : label;
      return `<span class="button ${style}" title="action_id=${escapeHtml(el.action_id)}${el.value ? ` value=${escapeHtml(el.value)}` : ''}">${inner}</span>`;
    }
    case 'static_select':
    case 'external_select':
    case 'multi_static_select':
    case 'multi_external_select':
    case 'users_select':
    case 'multi_users_select':
    case 'conversations_select':
    case 'channels_select':
    case 'overflow':
      return renderSelect(el);
    case 'checkboxes':
      return renderChoice(el, ['☐', '☑']);
    case 'radio_buttons':
      return renderChoice(el, ['○', '◉']);
    case 'plain_text_input':
    case 'url_text_input':
    case 'email_text_input':
    case 'number_input': {
      const value = el.initial_value !== undefined ? escapeHtml(el.initial_value) : '';
      const ph = plain(el.placeholder);
      const box = el.multiline ? `<div class="textbox multiline">${value || `<span class="muted">${ph}</span>`}</div>` : `<div class="textbox">${value || `<span class="muted">${ph}</span>`}</div>`;
      return `<div class="element">${box}<span class="muted">${escapeHtml(type)}</span> ${idTag('action_id', el.action_id)}</div>`;
    }
    case 'file_input': {
      const types = Array.isArray(el.filetypes) ? (el.filetypes as unknown[]).map(escapeHtml).join(', ') : 'any';
      return `<div class="element"><div class="dropzone">📎 Drag a file here or upload from your computer <span class="muted">(file types: ${types}; max files: ${escapeHtml(el.max_files ?? 10)})</span></div>${idTag('action_id', el.action_id)}</div>`;
    }
    case 'datepicker':
    case 'timepicker':
    case 'datetimepicker':
      return `<div class="element"><span class="select">📅 ${escapeHtml(el.initial_date ?? el.initial_time ?? type)}</span>${idTag('action_id', el.action_id)}</div>`;
    case 'image':
      return safeHref(String(el.image_url ?? '')) ? `<img class="thumb" src="${escapeHtml(el.image_url)}" alt="${escapeHtml(el.alt_text)}">` : `<span class="muted">[image ${escapeHtml(el.alt_text)}]</span>`;
    case 'mrkdwn':
    case 'plain_text':
      return `<span>${textObject(el)}</span>`;
    default:
      return `<span class="muted">[${escapeHtml(type)}]</span>`;
  }
}

function renderRichText(block: Obj): string {
  const walk = (node: unknown): string => {
    if (!node || typeof node !== 'object') return '';
    const n = node as Obj;
    if (n.type === 'text') return escapeHtml(n.text);
    if (n.type === 'link') return safeHref(String(n.url)) ? `<a href="${escapeHtml(n.url)}">${escapeHtml(n.text ?? n.url)}</a>` : escapeHtml(n.text ?? n.url);
    if (n.type === 'user') return `<span class="mention">@${escapeHtml(n.user_id)}</span>`;
    if (n.type === 'emoji') return `:${escapeHtml(n.name)}:`;
    const inner = ((n.elements as unknown[]) ?? []).map(walk).join('');
    if (n.type === 'rich_text_preformatted') return `<pre>${inner}</pre>`;
    if (n.type === 'rich_text_list') return `<ul>${((n.elements as unknown[]) ?? []).map((e) => `<li>${walk(e)}</li>`).join('')}</ul>`;
    return inner;
  };
  return `<div class="block rich">${walk(block)}</div>`;
}

export function renderBlock(block: Obj): string {
  const type = String(block.type ?? '');
  const bid = idTag('block_id', block.block_id);
  switch (type) {
    case 'header':
      return `<div class="block header">${plain(block.text)}${bid}</div>`;
    case 'divider':
      return '<hr class="block divider">';
    case 'section': {
      const fields = Array.isArray(block.fields) ? `<div class="fields">${(block.fields as unknown[]).map((f) => `<div>${textObject(f)}</div>`).join('')}</div>` : '';
      const accessory = block.accessory ? `<div class="accessory">${renderElement(block.accessory as Obj)}</div>` : '';
      return `<div class="block section"><div class="body">${block.text ? `<div>${textObject(block.text)}</div>` : ''}${fields}${bid}</div>${accessory}</div>`;
    }
    case 'context':
      return `<div class="block context">${((block.elements as Obj[]) ?? []).map((e) => (e.type === 'image' ? renderElement(e) : `<span>${textObject(e)}</span>`)).join(' ')}${bid}</div>`;
    case 'image': {
      const img = safeHref(String(block.image_url ?? '')) ? `<img src="${escapeHtml(block.image_url)}" alt="${escapeHtml(block.alt_text)}">` : `<span class="muted">[image]</span>`;
      return `<div class="block image">${block.title ? `<div class="muted">${plain(block.title)}</div>` : ''}${img}${bid}</div>`;
    }
    case 'actions':
      return `<div class="block actions">${((block.elements as Obj[]) ?? []).map(renderElement).join(' ')}${bid}</div>`;
    case 'input': {
      const el = (block.element ?? {}) as Obj;
      const optional = block.optional ? ' <span class="muted">(optional)</span>' : '';
      const dispatch = block.dispatch_action ? ' <span class="muted">(sends actions)</span>' : '';
      const hint = block.hint ? `<div class="hint">${plain(block.hint)}</div>` : '';
      return `<div class="block input"><label>${plain(block.label)}${optional}${dispatch}</label>${renderElement(el)}${hint}${bid}</div>`;
    }
    case 'rich_text':
      return renderRichText(block);
    case 'file':
      return `<div class="block muted">[file ${escapeHtml(block.external_id)}]</div>`;
    default:
      return `<div class="block muted">[${escapeHtml(type || 'unknown')} block]</div>`;
  }
}

export const renderBlocks = (blocks: unknown): string => (Array.isArray(blocks) ? (blocks as Obj[]).map(renderBlock).join('') : '');

function messageBody(args: Obj): string {
  const blocks = Array.isArray(args.blocks) && (args.blocks as unknown[]).length ? renderBlocks(args.blocks) : '';
  return blocks || `<div class="block section"><div class="body">${mrkdwn(String(args.text ?? ''))}</div></div>`;
}

const time = (at: number) => new Date(at).toISOString().slice(11, 19);

function renderView(call: RecordedCall, v: Obj, target: string, failed: string): string {
  const isHome = v.type === 'home';
  const title = isHome ? 'App Home' : plain(v.title);
  const buttons = isHome ? '' : `<div class="modal-buttons">${v.close ? `<span class="button default">${plain(v.close)}</span>` : ''}${v.submit ? `<span class="button primary">${plain(v.submit)}</span>` : ''}</div>`;
  return `<div class="modal${isHome ? ' home' : ''}" data-method="${escapeHtml(call.method)}"><span class="method">${escapeHtml(call.method)}</span> <span class="time">${time(call.at)}</span><span class="muted">${target}</span>${idTag('callback_id', v.callback_id)}<div class="modal-title">${title}</div><div class="modal-body">${renderBlocks(v.blocks)}</div>${buttons}${failed}</div>`;
}

function renderCall(call: RecordedCall, updates: number): string {
  const a = call.args;
  const r = call.response;
  const failed = r.ok === false ? `<div class="error">Slack answered ${escapeHtml(r.error)}</div>` : '';
  const when = `<span class="time">${time(call.at)}</span>`;
  const method = `<span class="method">${escapeHtml(call.method)}</span>`;
  switch (call.method) {
    case 'chat.postMessage':
    case 'chat.update':
    case 'chat.postEphemeral':
    case 'response_url': {
      const where =
        call.method === 'response_url'
          ? a.response_type === 'in_channel' ? 'reply in channel' : 'reply only you can see'
          : `${call.method === 'chat.postEphemeral' ? `only visible to ${escapeHtml(nameOf(String(a.user)))} in ` : ''}${escapeHtml(channelName(String(r.channel ?? a.channel)))}${a.thread_ts ? ' (in thread)' : ''}`;
      const edited = call.method === 'chat.update' ? ` <span class="muted">(edited message ts=${escapeHtml(a.ts)}${updates > 1 ? `; ${updates} consecutive edits, showing the last` : ''})</span>` : '';
      const kind = call.method === 'chat.postEphemeral' || (call.method === 'response_url' && a.response_type !== 'in_channel') ? 'message ephemeral' : 'message';
      return `<div class="${kind}" data-method="${escapeHtml(call.method)}">${method} ${when}<div class="meta"><b>Assay</b> <span class="app">APP</span> → ${where}${edited}</div>${messageBody(a)}${failed}</div>`;
    }
    case 'ack': {
      if (a.response_action === 'errors') {
        const errors = Object.entries((a.errors ?? {}) as Obj).map(([block, msg]) => `<li><span class="id">block_id=${escapeHtml(block)}</span> ${escapeHtml(msg)}</li>`).join('');
        return `<div class="modal" data-method="ack">${method} ${when}<div class="error">The modal stays open with these field errors:</div><ul class="field-errors">${errors}</ul></div>`;
      }
      if ((a.response_action === 'update' || a.response_action === 'push') && a.view) {
        return renderView({ ...call, method: `ack (response_action: ${String(a.response_action)})` }, a.view as Obj, '', failed);
      }
      if (a.response_action === 'clear') return `<div class="apicall">${method} ${when} the modal closes</div>`;
      if (a.text || a.blocks) return `<div class="message ephemeral" data-method="ack">${method} ${when}<div class="meta"><b>Assay</b> <span class="app">APP</span> → reply only you can see</div>${messageBody(a)}</div>`;
      return '';
    }
    case 'views.open':
    case 'views.update':
    case 'views.push':
    case 'views.publish': {
      const target = call.method === 'views.publish' ? ` for ${escapeHtml(nameOf(String(a.user_id)))}` : a.view_id ? ` view ${escapeHtml(a.view_id)}` : '';
      return renderView(call, (a.view ?? {}) as Obj, target, failed);
    }
    case 'files.completeUploadExternal': {
      // A file shared in a channel or thread: the comment, then the picture (inlined from assets).
      const files = (Array.isArray(r.files) ? r.files : []) as Obj[];
      const where = `${escapeHtml(channelName(String(a.channel_id ?? '')))}${a.thread_ts ? ' (in thread)' : ''}`;
      const comment = a.initial_comment ? `<div class="block section"><div class="body">${mrkdwn(String(a.initial_comment))}</div></div>` : '';
      const shown = files.map((f) => {
        const src = safeHref(String(f.url_private ?? ''));
        const img = src && String(f.mimetype ?? '').startsWith('image/') ? `<img src="${escapeHtml(src)}" alt="${escapeHtml(f.title)}">` : `<span class="muted">[file ${escapeHtml(f.name)}]</span>`;
        return `<div class="block image"><div class="muted">${escapeHtml(f.title)}</div>${img}</div>`;
      }).join('');
      return `<div class="message" data-method="${escapeHtml(call.method)}">${method} ${when}<div class="meta"><b>Assay</b> <span class="app">APP</span> → ${where}</div>${comment}${shown}${failed}</div>`;
    }
    case 'files.getUploadURLExternal':
    case 'auth.test':
      // Bolt checks its token once per request: noise in a transcript of what the bot said.
      return '';
    default: {
      const shown = Object.entries(a)
        .filter(([k]) => k !== 'token')
        .map(([k, v]) => `${escapeHtml(k)}=${escapeHtml(typeof v === 'string' ? v : JSON.stringify(v))}`)
        .join(' ');
      return `<div class="apicall">${method} ${when} <span class="muted">${shown.slice(0, 300)}</span>${failed}</div>`;
    }
  }
}

function renderAction(action: UserAction): string {
  const details = action.details && Object.keys(action.details).length ? `<details><summary>what Slack sent Assay</summary><pre>${escapeHtml(JSON.stringify(action.details, null, 2))}</pre></details>` : '';
  return `<div class="action"><span class="time">${time(action.at)}</span> <b>${escapeHtml(action.actor)}</b> ${escapeHtml(action.description)}${details}</div>`;
}

/** Consecutive chat.update calls on one message (live progress) collapse into the last one. */
function collapse(entries: readonly TranscriptEntry[]): { entry: TranscriptEntry; updates: number }[] {
  const out: { entry: TranscriptEntry; updates: number }[] = [];
  for (const entry of entries) {
    const prev = out[out.length - 1];
    if (entry.kind === 'call' && entry.method === 'chat.update' && prev?.entry.kind === 'call' && prev.entry.method === 'chat.update' && prev.entry.args.ts === entry.args.ts && prev.entry.args.channel === entry.args.channel) {
      out[out.length - 1] = { entry, updates: prev.updates + 1 };
    } else out.push({ entry, updates: 1 });
  }
  return out;
}

const CSS = `
body{font-family:-apple-system,BlinkMacSystemFont,"Segoe UI",Lato,Helvetica,Arial,sans-serif;background:#f8f8f8;color:#1d1c1d;margin:0;padding:24px;font-size:15px;line-height:1.45}
main{max-width:820px;margin:auto}h1{font-size:22px}.summary{background:#fff;border:1px solid #ddd;border-radius:8px;padding:12px 16px;margin-bottom:20px}
.summary li.fail{color:#c0392b}.action{margin:22px 0 8px;padding:8px 12px;background:#e8f5fa;border-left:4px solid #1264a3;border-radius:4px}
.message,.modal,.apicall{background:#fff;border:1px solid #e2e2e2;border-radius:8px;padding:10px 14px;margin:8px 0 8px 24px}
.message.ephemeral{border-style:dashed;background:#fcfcf4}.apicall{font-size:12px;background:#fafafa;color:#555}
.modal{border:1px solid #bbb;box-shadow:0 2px 8px rgba(0,0,0,.12)}.modal-title{font-weight:700;font-size:18px;margin:6px 0;border-bottom:1px solid #eee;padding-bottom:6px}
.modal.home{background:#fdfdff}.modal-buttons{text-align:right;border-top:1px solid #eee;padding-top:8px;margin-top:8px}
.meta{font-size:13px;margin-bottom:4px}.app{font-size:10px;background:#ddd;border-radius:2px;padding:0 3px}
.method{font-family:Menlo,monospace;font-size:11px;color:#888}.time{font-size:11px;color:#888}
.id{font-family:Menlo,monospace;font-size:10px;color:#aaa;margin-left:6px}.muted{color:#777;font-size:13px}
.block{margin:6px 0}.header{font-size:18px;font-weight:800}.section{display:flex;gap:12px}.section .body{flex:1}
.fields{display:grid;grid-template-columns:1fr 1fr;gap:4px 16px;margin-top:4px}.context{font-size:12px;color:#616061}
.divider{border:none;border-top:1px solid #ddd}.image img{max-width:100%;border-radius:4px}.thumb{width:48px;height:48px;border-radius:4px}
.button{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:3px 12px;margin:2px 4px 2px 0;font-weight:700;font-size:13px}
.button.primary{background:#007a5a;border-color:#007a5a;color:#fff}.button.danger{background:#e01e5a;border-color:#e01e5a;color:#fff}.button a{color:inherit}
.input label{display:block;font-weight:700;margin-bottom:3px}.hint{font-size:12px;color:#777}.textbox{border:1px solid #bbb;border-radius:4px;padding:5px 8px;min-height:20px}
.textbox.multiline{min-height:48px}.select{display:inline-block;border:1px solid #bbb;border-radius:4px;padding:3px 8px}.dropzone{border:1px dashed #999;border-radius:4px;padding:10px;text-align:center}
ul.options,ul.choices{list-style:none;padding-left:8px;margin:4px 0}li.chosen{font-weight:700}
code{background:#f4f4f4;border:1px solid #e8e8e8;border-radius:3px;padding:0 3px;color:#c7254e;font-size:13px}pre{background:#f4f4f4;padding:8px;border-radius:4px;white-space:pre-wrap}
.mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}.quote{border-left:3px solid #ddd;padding-left:8px;display:inline-block}
.error{color:#c0392b;font-weight:700}`;

export interface TranscriptStep {
  ok: boolean;
  text: string;
}

/** One self-contained HTML page (inline CSS, no scripts, no external assets). */
export function renderTranscript(
  entries: readonly TranscriptEntry[],
  opts: {
    title?: string;
    steps?: TranscriptStep[];
    notes?: string[];
    /** image URL → data: URI, so the page needs nothing else */
    assets?: Map<string, string>;
    /** user/channel id → display name (`U0ANA` → `Ana`, `C0OPS` → `#kit-models`) */
    names?: Record<string, string>;
  } = {},
): string {
  names = opts.names ?? {};
  try {
    return renderPage(entries, opts);
  } finally {
    names = {};
  }
}

function renderPage(entries: readonly TranscriptEntry[], opts: { title?: string; steps?: TranscriptStep[]; notes?: string[]; assets?: Map<string, string> }): string {
  const title = opts.title ?? 'Assay demo transcript';
  const steps = opts.steps?.length
    ? `<ol>${opts.steps.map((s) => `<li class="${s.ok ? 'ok' : 'fail'}">${s.ok ? '✓' : '✗'} ${escapeHtml(s.text)}</li>`).join('')}</ol>`
    : '';
  const notes = opts.notes?.length ? `<ul>${opts.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  let body = collapse(entries)
    .map(({ entry, updates }) => (entry.kind === 'action' ? renderAction(entry) : renderCall(entry, updates)))
    .join('\n');
  for (const [url, dataUri] of opts.assets ?? []) {
    if (/^data:image\/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=]+$/.test(dataUri)) body = body.split(`src="${escapeHtml(url)}"`).join(`src="${dataUri}"`);
  }
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title><style>${CSS}</style></head>
<body><main><h1>${escapeHtml(title)}</h1>
${steps || notes ? `<div class="summary">${notes}${steps}</div>` : ''}
${body}
</main></body></html>
`;
}
