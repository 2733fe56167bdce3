// A local stand-in for Slack's Web API, for the demo: Assay's Bolt app is pointed at it with
// SLACK_API_URL. It records every call (method, arguments incl. blocks and views) in order, next
// to the user actions the demo performs, and answers the way Slack does. It also serves the
// downloads of files "uploaded" to it and takes the posts Bolt's respond() makes to response_url.
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';

export interface RecordedCall {
  kind: 'call';
  seq: number;
  at: number;
  /** Web API method (`chat.postMessage`), `response_url` for respond(), `ack` for Assay's reply to an interaction. */
  method: string;
  args: Record<string, unknown>;
  response: Record<string, unknown>;
}

/** A user action in the story, so the transcript can say what led to each call. */
export interface UserAction {
  kind: 'action';
  seq: number;
  at: number;
  actor: string;
  description: string;
  /** What Slack would have sent Assay (payload fields worth showing), optional. */
  details?: Record<string, unknown>;
}

export type TranscriptEntry = RecordedCall | UserAction;

export interface SlackFile {
  id: string;
  name: string;
  title: string;
  mimetype: string;
  filetype: string;
  size: number;
  url_private: string;
  url_private_download: string;
}

interface StoredView {
  id: string;
  hash: string;
  view: Record<string, unknown>;
  userId: string | undefined;
}

export interface SlackRecorderOptions {
  /** Calls must carry `Authorization: Bearer <botToken>`; others get invalid_auth, like Slack. */
  botToken: string;
  /** Members of user groups, for usergroups.users.list. */
  userGroups?: Record<string, string[]>;
  teamId?: string;
  botUserId?: string;
}

const tsNow = (() => {
  let last = 0;
  return () => {
    // Slack ts are unique per channel; microsecond-ish counter keeps them unique and ordered.
    const us = Math.max(Date.now() * 1000, last + 1);
    last = us;
    return `${Math.floor(us / 1e6)}.${String(us % 1e6).padStart(6, '0')}`;
  };
})();

function parseValue(v: string): unknown {
  const t = v.trim();
  if ((t.startsWith('{') && t.endsWith('}')) || (t.startsWith('[') && t.endsWith(']'))) {
    try {
      return JSON.parse(t);
    } catch {
      return v;
    }
  }
  return v;
}

async function readBody(req: http.IncomingMessage, limit = 5 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Form (what @slack/web-api sends: nested values JSON-encoded), JSON, or multipart fields. */
async function parseArgs(req: http.IncomingMessage, body: Buffer, query: URLSearchParams): Promise<Record<string, unknown>> {
  const args: Record<string, unknown> = {};
  for (const [k, v] of query) args[k] = parseValue(v);
  const type = String(req.headers['content-type'] ?? '');
  if (body.length === 0) return args;
  if (type.includes('application/json')) {
    Object.assign(args, JSON.parse(body.toString('utf8')) as Record<string, unknown>);
  } else if (type.includes('multipart/form-data')) {
    const form = await new Response(new Uint8Array(body), { headers: { 'content-type': type } }).formData();
    for (const [k, v] of form) args[k] = typeof v === 'string' ? parseValue(v) : `<file ${v.name}, ${v.size} bytes>`;
  } else {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) args[k] = parseValue(v);
  }
  return args;
}

export class SlackRecorder {
  readonly entries: TranscriptEntry[] = [];
  private server: http.Server | undefined;
  private base = '';
  private seq = 0;
  private ids = 0;
  private readonly views = new Map<string, StoredView>();
  private readonly files = new Map<string, { meta: SlackFile; content: Buffer }>();
  /** files.getUploadURLExternal → bytes POSTed to the upload URL → files.completeUploadExternal. */
  private readonly uploads = new Map<string, { filename: string; length: number; content?: Buffer }>();
  private readonly waiters: { test: (c: RecordedCall) => boolean; resolve: (c: RecordedCall) => void }[] = [];
  readonly teamId: string;
  readonly botUserId: string;

  constructor(private readonly options: SlackRecorderOptions) {
    this.teamId = options.teamId ?? 'T0DEMO0001';
    this.botUserId = options.botUserId ?? 'U0ASSAYBOT';
  }

  /** The SLACK_API_URL to give Assay. */
  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  get calls(): RecordedCall[] {
    return this.entries.filter((e): e is RecordedCall => e.kind === 'call');
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: false, error: 'internal_error', detail: err.message }));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.server = undefined;
  }

  /** Marks the start of a user action; calls recorded after it are its consequences. */
  userAction(actor: string, description: string, details?: Record<string, unknown>): UserAction {
    const entry: UserAction = { kind: 'action', seq: ++this.seq, at: Date.now(), actor, description, details };
    this.entries.push(entry);
    return entry;
  }

  /**
   * What Assay answered the interaction itself (Bolt's ack body): wizard steps arrive this way
   * (`response_action: update|push|errors`), and slash commands may answer with text.
   */
  recordAck(body: Record<string, unknown>, viewId?: string): RecordedCall {
    // The modal now shows the view in the ack, as Slack would (and gets a new hash).
    let response: Record<string, unknown> = { ok: true };
    if (viewId && body.response_action === 'update' && body.view && this.views.has(viewId)) response = { ok: true, view: this.storeView(body, viewId) };
    if (viewId && body.response_action === 'push' && body.view) response = { ok: true, view: this.storeView(body) };
    this.record('ack', body, response);
    return this.calls[this.calls.length - 1]!;
  }

  /** The modal or home view as Slack holds it now: id, hash and the last content sent. */
  currentView(id: string): Record<string, unknown> | undefined {
    const v = this.views.get(id);
    return v ? { ...v.view, id: v.id, hash: v.hash } : undefined;
  }

  /** A response_url for a payload; posts to it are recorded as `response_url` calls. */
  responseUrl(): string {
    return `${this.base}/response/${this.nextId('R')}`;
  }

  /** Puts a file "in Slack" so Assay can download it with the bot token (files.info, url_private_download). */
  addFile(name: string, content: Buffer, mimetype = 'application/json', fileId?: string): SlackFile {
    const id = fileId ?? this.nextId('F');
    const url = `${this.base}/files-pri/${this.teamId}-${id}/${encodeURIComponent(name)}`;
    const meta: SlackFile = {
      id,
      name,
      title: name,
      mimetype,
      filetype: name.split('.').pop() ?? 'binary',
      size: content.length,
      url_private: url,
      url_private_download: `${url}?download=1`,
    };
    this.files.set(id, { meta, content });
    return meta;
  }

  /** The images Assay uploaded, url_private → data: URI, so a transcript can show them inline. */
  imageAssets(): Map<string, string> {
    const out = new Map<string, string>();
    for (const { meta, content } of this.files.values()) {
      if (/^image\/(png|jpeg)$/.test(meta.mimetype)) out.set(meta.url_private, `data:${meta.mimetype};base64,${content.toString('base64')}`);
    }
    return out;
  }

  /** The bytes of a file in "Slack" (uploaded by Assay or added by the demo). */
  fileContent(id: string): Buffer | undefined {
    return this.files.get(id)?.content;
  }

  /** Resolves with the first call (already recorded after `sinceSeq`, or future) that matches. */
  waitFor(test: (c: RecordedCall) => boolean, timeoutMs: number, sinceSeq = 0): Promise<RecordedCall> {
    const found = this.calls.find((c) => c.seq > sinceSeq && test(c));
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter = {
        test,
        resolve: (c: RecordedCall) => {
          clearTimeout(timer);
          resolve(c);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no matching Slack call within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  get lastSeq(): number {
    return this.seq;
  }

  private nextId(prefix: string): string {
    return `${prefix}0DEMO${String(++this.ids).padStart(4, '0')}`;
  }

  private record(method: string, args: Record<string, unknown>, response: Record<string, unknown>): void {
    const call: RecordedCall = { kind: 'call', seq: ++this.seq, at: Date.now(), method, args, response };
    this.entries.push(call);
    for (const w of [...this.waiters]) {
      if (w.test(call)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(call);
      }
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.base);
    const send = (status: number, body: unknown, type = 'application/json; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body));
    };
    const authorized = req.headers.authorization === `Bearer ${this.options.botToken}`;

    if (url.pathname.startsWith('/files-pri/')) {
      const id = url.pathname.split('/')[2]?.split('-').pop() ?? '';
      const file = this.files.get(id);
      // Slack answers an unauthenticated download with its login page, not a 401.
      if (!authorized) return send(200, '<!DOCTYPE html><html><body>Sign in to Slack</body></html>', 'text/html');
      if (!file) return send(404, 'not found', 'text/plain');
      return send(200, file.content, file.meta.mimetype);
    }
    if (url.pathname.startsWith('/upload/') && req.method === 'POST') {
      // Slack's upload URL is pre-signed: no token. The body is the file, raw or as a form field.
      const upload = this.uploads.get(url.pathname.slice('/upload/'.length));
      if (!upload) return send(404, 'not found', 'text/plain');
      let content = await readBody(req);
      if (String(req.headers['content-type'] ?? '').includes('multipart/form-data')) {
        const form = await new Response(new Uint8Array(content), { headers: { 'content-type': String(req.headers['content-type']) } }).formData();
        const file = [...form.values()].find((v) => typeof v !== 'string') as Blob | undefined;
        content = file ? Buffer.from(await file.arrayBuffer()) : Buffer.alloc(0);
      }
      upload.content = content;
      return send(200, `OK - ${content.length}`, 'text/plain');
    }
    if (url.pathname.startsWith('/response/') && req.method === 'POST') {
      const body = await readBody(req);
      const args = await parseArgs(req, body, new URLSearchParams());
      this.record('response_url', args, { ok: true });
      return send(200, 'ok', 'text/plain');
    }
    if (!url.pathname.startsWith('/api/')) return send(404, 'not found', 'text/plain');

    const method = url.pathname.slice('/api/'.length);
    const body = await readBody(req);
    const args = await parseArgs(req, body, url.searchParams);
    if (!authorized) {
      const response = { ok: false, error: 'invalid_auth' };
      this.record(method, args, response);
      return send(200, response);
    }
    const response = this.answer(method, args);
    this.record(method, args, response);
    send(200, response);
  }

  private storeView(args: Record<string, unknown>, existingId?: string): Record<string, unknown> {
    const view = (args.view ?? {}) as Record<string, unknown>;
    const prior = existingId ? this.views.get(existingId) : undefined;
    const id = prior?.id ?? this.nextId('V');
    const hash = `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`;
    const stored: StoredView = { id, hash, view, userId: (args.user_id as string | undefined) ?? prior?.userId };
    this.views.set(id, stored);
    return { id, hash, team_id: this.teamId, app_id: 'A0ASSAYAPP', bot_id: 'B0ASSAYBOT', state: { values: {} }, ...view };
  }

  private answer(method: string, args: Record<string, unknown>): Record<string, unknown> {
    const channelOf = (c: unknown) => {
      const ch = String(c ?? '');
      // Posting to a user id lands in the bot's DM with them.
      return /^[UW]/.test(ch) ? `D${ch.slice(1)}` : ch;
    };
    const message = (ts: string) => ({ type: 'message', user: this.botUserId, bot_id: 'B0ASSAYBOT', text: args.text ?? '', blocks: args.blocks, ts, thread_ts: args.thread_ts });
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://assay-demo.slack.com/', team: 'Assay demo', user: 'assay', team_id: this.teamId, user_id: this.botUserId, bot_id: 'B0ASSAYBOT' };
      case 'chat.postMessage': {
        if (!args.channel) return { ok: false, error: 'channel_not_found' };
        if (!args.text && !args.blocks && !args.attachments) return { ok: false, error: 'no_text' };
        const ts = tsNow();
        return { ok: true, channel: channelOf(args.channel), ts, message: message(ts) };
      }
      case 'chat.update':
        if (!args.channel || !args.ts) return { ok: false, error: 'message_not_found' };
        return { ok: true, channel: args.channel, ts: args.ts, text: args.text ?? '', message: message(String(args.ts)) };
      case 'chat.postEphemeral':
        if (!args.channel || !args.user) return { ok: false, error: 'user_not_in_channel' };
        return { ok: true, message_ts: tsNow() };
      case 'chat.getPermalink':
        return { ok: true, channel: args.channel, permalink: `https://assay-demo.slack.com/archives/${String(args.channel)}/p${String(args.message_ts).replace('.', '')}` };
      case 'views.open':
      case 'views.push':
        if (!args.trigger_id && !args.interactivity_pointer) return { ok: false, error: 'invalid_arguments' };
        return { ok: true, view: this.storeView(args) };
      case 'views.update': {
        const id = String(args.view_id ?? '');
        const prior = this.views.get(id);
        if (!prior) return { ok: false, error: 'not_found' };
        if (args.hash && args.hash !== prior.hash) return { ok: false, error: 'hash_conflict' };
        return { ok: true, view: this.storeView(args, id) };
      }
      case 'views.publish':
        return { ok: true, view: this.storeView(args) };
      case 'usergroups.users.list':
        return { ok: true, users: this.options.userGroups?.[String(args.usergroup)] ?? [] };
      case 'files.info': {
        const file = this.files.get(String(args.file));
        return file ? { ok: true, file: file.meta } : { ok: false, error: 'file_not_found' };
      }
      case 'files.getUploadURLExternal': {
        const length = Number(args.length);
        if (!args.filename || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const id = this.nextId('F');
        this.uploads.set(id, { filename: String(args.filename), length });
        return { ok: true, upload_url: `${this.base}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal': {
        const list = (Array.isArray(args.files) ? args.files : []) as { id?: string; title?: string }[];
        if (list.length === 0) return { ok: false, error: 'invalid_arguments' };
        const done: SlackFile[] = [];
        for (const f of list) {
          const upload = this.uploads.get(String(f.id));
          // Slack refuses a file whose bytes never arrived or differ from the announced length.
          if (!upload?.content || upload.content.length !== upload.length) return { ok: false, error: 'file_upload_size_mismatch' };
          const png = upload.content.subarray(1, 4).toString('latin1') === 'PNG';
          const meta = this.addFile(upload.filename, upload.content, png ? 'image/png' : 'application/octet-stream', String(f.id));
          done.push({ ...meta, title: f.title ?? meta.title });
          this.uploads.delete(String(f.id));
        }
        return { ok: true, files: done };
      }
      case 'conversations.open': {
        const users = String(args.users ?? '').split(',').filter(Boolean);
        if (users.length === 0) return { ok: false, error: 'users_list_not_supplied' };
        return { ok: true, channel: { id: `D${users[0]!.slice(1)}` } };
      }
      case 'users.info':
        return { ok: true, user: { id: args.user, name: String(args.user).toLowerCase(), real_name: String(args.user), is_bot: false, profile: { display_name: String(args.user) } } };
      default:
        // Methods Assay has no reason to call still succeed; the transcript shows them as plain calls.
        return { ok: true };
    }
  }
}
