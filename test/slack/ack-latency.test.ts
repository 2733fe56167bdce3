// Acks never wait on Slack's Web API: the bot is identified once (auth.test at start, in the
// background), so a slow auth.test (2.5 s here) neither delays acks nor is repeated per request.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { mockSlackApi, slashCommand, SLACK_ENV } from '../helpers/slack.js';
import { slackSurface } from '../../src/slack/app.js';
import { BotIdentity } from '../../src/slack/bot-identity.js';
import { webApi } from '../../src/slack/bolt.js';
import { createLogger } from '../../src/app/logger.js';

let assay: TestAssay;
let authTests = 0;
let authAnswered = false;
let releaseAuth: () => void = () => undefined;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // Registered before the catch-all mock, so it answers auth.test: after 2.5 s (or when released).
  nock('https://slack.com')
    .persist()
    .post('/api/auth.test')
    .reply(async () => {
      authTests++;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2500);
        releaseAuth = () => {
          clearTimeout(t);
          resolve();
        };
      });
      authAnswered = true;
      return [200, { ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' }];
    });
  mockSlackApi();
  assay = await startTestAssay(SLACK_ENV, { worker: false });
});
afterAll(async () => {
  releaseAuth();
  await assay.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

async function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('Slack acks with a slow Web API', () => {
  it('acks signed slash commands while the one auth.test is still pending', async () => {
    await until(() => authTests === 1, 'the start-up auth.test');
    const answers = await Promise.all(Array.from({ length: 8 }, () => slashCommand(assay.url, 'help')));
    // Every ack arrived while Slack had not yet answered auth.test.
    expect(authAnswered).toBe(false);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(a.json.response_type).toBe('ephemeral');
    }
    expect(authTests).toBe(1);
  });

  it('keeps the bot ids once Slack answers, and never asks again', async () => {
    releaseAuth();
    const surface = slackSurface(assay.ctx)!;
    await until(() => surface.identity.known !== null, 'the bot identity');
    expect(surface.identity.known).toMatchObject({ botUserId: 'UBOT', botId: 'BBOT' });
    const more = await Promise.all(Array.from({ length: 5 }, () => slashCommand(assay.url, 'help')));
    expect(more.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(authTests).toBe(1);
  });
});

describe('identifying the bot in the background', () => {
  const silent = createLogger('silent');
  const client = (api: string) => new webApi.WebClient('xoxb-test', { slackApiUrl: `${api}/api/`, retryConfig: { retries: 0 } });

  it('retries a failed auth.test until Slack answers', async () => {
    const answers = [{ ok: false, error: 'internal_error' }, { ok: false, error: 'ratelimited' }, { ok: true, user_id: 'UBOT2', bot_id: 'BBOT2' }];
    let calls = 0;
    const api = 'https://slack-retry.example.com';
    nock(api).persist().post('/api/auth.test').reply(() => [200, answers[Math.min(calls++, 2)]!]);
    const identity = new BotIdentity(client(api), 'xoxb-test', silent, [10]);
    identity.start();
    expect(await identity.authorize()).toEqual({ botToken: 'xoxb-test' });
    await until(() => identity.known !== null, 'the identity after retries');
    expect(calls).toBe(3);
    expect(await identity.authorize()).toMatchObject({ botToken: 'xoxb-test', botUserId: 'UBOT2', botId: 'BBOT2' });
    identity.stop();
  });

  it('stops on a rejected token instead of retrying forever', async () => {
    let calls = 0;
    const api = 'https://slack-revoked.example.com';
    nock(api).persist().post('/api/auth.test').reply(() => (calls++, [200, { ok: false, error: 'invalid_auth' }]));
    const lines: string[] = [];
    const logger = createLogger('info', 'assay', { destination: { write: (l: string) => void lines.push(l) } });
    const identity = new BotIdentity(client(api), 'xoxb-test', logger, [10]);
    identity.start();
    await until(() => lines.some((l) => l.includes('SLACK_BOT_TOKEN')), 'the error line');
    // Given up at once: one call, and no retry was scheduled (that would have logged "retrying").
    expect(calls).toBe(1);
    expect(lines.filter((l) => l.includes('retrying'))).toEqual([]);
    expect(identity.known).toBeNull();
    identity.stop();
  });
});
