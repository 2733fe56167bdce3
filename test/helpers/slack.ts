// Requests as Slack sends them: form-encoded, signed with v0 HMAC-SHA256 over
// `v0:{timestamp}:{body}`; plus a nock scope for https://slack.com/api that records calls.
import nock from 'nock';
import { slackSignature } from '../../src/testing/slack-signature.js';
import { waitFor } from './wait.js';
import { postToAssay } from '../../src/testing/post.js';

export const SIGNING_SECRET = 'test-signing-secret-0123456789abcdef';
export const SLACK_ENV = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SIGNING_SECRET, ASSAY_APPROVERS: 'UAPPROVER1,UAPPROVER2' };

export function sign(body: string, timestamp = Math.floor(Date.now() / 1000), secret = SIGNING_SECRET): Record<string, string> {
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(secret, timestamp, body), 'content-type': 'application/x-www-form-urlencoded' };
}

export async function postSlack(url: string, body: string, opts: { headers?: Record<string, string>; timestamp?: number; secret?: string; contentType?: string } = {}) {
  const headers = { ...sign(body, opts.timestamp, opts.secret), ...(opts.contentType ? { 'content-type': opts.contentType } : {}), ...(opts.headers ?? {}) };
  const r = await postToAssay(`${url}/slack/events`, { headers, body });
  const text = await r.text();
  let json: any = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: r.status, text, json };
}

export function slashCommand(url: string, text: string, user = 'UREQUESTER', extra: Record<string, string> = {}) {
  const body = new URLSearchParams({
    token: 'legacy',
    team_id: 'T1',
    team_domain: 'acme',
    channel_id: 'C_TRAIN',
    channel_name: 'ml',
    user_id: user,
    user_name: user.toLowerCase(),
    command: '/assay',
    text,
    api_app_id: 'A1',
    response_url: 'https://hooks.slack.com/commands/T1/1/x',
    trigger_id: `trig.${Math.random().toString(36).slice(2)}`,
    ...extra,
  }).toString();
  return postSlack(url, body);
}

export function interaction(url: string, payload: Record<string, unknown>, headers?: Record<string, string>) {
  return postSlack(url, new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), { headers });
}

export function eventCallback(url: string, event: Record<string, unknown>, eventId: string, headers?: Record<string, string>) {
  const body = JSON.stringify({ token: 'legacy', team_id: 'T1', api_app_id: 'A1', type: 'event_callback', event_id: eventId, event_time: Math.floor(Date.now() / 1000), event });
  return postSlack(url, body, { headers, contentType: 'application/json' });
}

export interface SlackCall {
  method: string;
  body: Record<string, any>;
}

/** Mocks every Slack Web API method; `answers` overrides per method. Records what Slack got. */
export function mockSlackApi(answers: Record<string, (body: Record<string, any>) => Record<string, unknown> | [number, Record<string, unknown>, Record<string, string>?]> = {}) {
  const calls: SlackCall[] = [];
  let counter = 0;
  const scope = nock('https://slack.com')
    .persist()
    .post(/\/api\/.+/)
    .reply(function (uri, requestBody) {
      const method = uri.replace(/^\/api\//, '');
      const raw = typeof requestBody === 'string' ? requestBody : JSON.stringify(requestBody);
      let body: Record<string, any>;
      try {
        body = typeof requestBody === 'object' ? (requestBody as Record<string, any>) : JSON.parse(raw);
      } catch {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
      for (const k of ['view', 'blocks']) if (typeof body[k] === 'string') body[k] = JSON.parse(body[k]);
      calls.push({ method, body });
      const custom = answers[method]?.(body);
      if (Array.isArray(custom)) return [custom[0], custom[1], custom[2] ?? {}];
      if (custom) return [200, { ok: true, ...custom }];
      counter++;
      if (method === 'views.open' || method === 'views.update' || method === 'views.push') return [200, { ok: true, view: { id: body.view_id ?? `V${counter}`, hash: `h${counter}` } }];
      if (method === 'chat.postMessage') return [200, { ok: true, channel: body.channel, ts: `1700000000.${String(counter).padStart(6, '0')}` }];
      return [200, { ok: true }];
    });
  return {
    calls,
    scope,
    of: (method: string) => calls.filter((c) => c.method === method),
    async waitFor(method: string, n = 1, timeoutMs = 5000) {
      const got = () => calls.filter((c) => c.method === method);
      await waitFor(`Slack to get ${n}× ${method}`, () => got().length >= n, timeoutMs, 20).catch((e: Error) => {
        throw new Error(`${e.message}; got: ${calls.map((c) => c.method).join(', ')}`);
      });
      return got();
    },
    reset() {
      calls.length = 0;
    },
  };
}

export function viewSubmission(input: { callbackId: string; viewId?: string; hash?: string; privateMetadata: string; values: Record<string, Record<string, unknown>>; user?: string; blocks?: { type: string; block_id: string }[] }) {
  const blocks = input.blocks ?? Object.keys(input.values).map((b) => ({ type: 'input', block_id: b }));
  return {
    type: 'view_submission',
    team: { id: 'T1', domain: 'acme' },
    user: { id: input.user ?? 'UREQUESTER', username: 'requester', team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trig.${Math.random().toString(36).slice(2)}`,
    view: {
      id: input.viewId ?? 'VWIZ',
      team_id: 'T1',
      type: 'modal',
      callback_id: input.callbackId,
      private_metadata: input.privateMetadata,
      hash: input.hash ?? `hash.${Math.random().toString(36).slice(2)}`,
      blocks,
      state: { values: input.values },
      title: { type: 'plain_text', text: 'Train a model' },
    },
  };
}

export function blockAction(input: { actionId: string; value: string; user: string; channel?: string; messageTs?: string; actionTs?: string }) {
  const channel = input.channel ?? 'C_TRAIN';
  const ts = input.messageTs ?? '1700000000.000001';
  return {
    type: 'block_actions',
    team: { id: 'T1', domain: 'acme' },
    user: { id: input.user, username: input.user.toLowerCase(), team_id: 'T1' },
    api_app_id: 'A1',
    token: 'legacy',
    trigger_id: `trig.${Math.random().toString(36).slice(2)}`,
    container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
    channel: { id: channel, name: 'ml' },
    message: { type: 'message', ts, text: 'training', blocks: [] },
    response_url: 'https://hooks.slack.com/actions/T1/1/x',
    actions: [{ type: 'button', action_id: input.actionId, block_id: 'model:x', value: input.value, action_ts: input.actionTs ?? `${Date.now() / 1000}${Math.random().toString().slice(2, 6)}`, text: { type: 'plain_text', text: 'x' } }],
  };
}
