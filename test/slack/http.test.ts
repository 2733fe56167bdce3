// The real server and the real Bolt app over HTTP: signatures, retries and the simple commands.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { eventCallback, mockSlackApi, postSlack, sign, slashCommand, SLACK_ENV } from '../helpers/slack.js';
import { SlackDelivery } from '../../src/db/entities/index.js';
import { seeded } from '../helpers/factories.js';
import { slackSurface } from '../../src/slack/app.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
/** The server's log, read to see that a redelivery was recognised (and so never reaches a listener). */
const logLines: string[] = [];
beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay({ ...SLACK_ENV, LOG_LEVEL: 'info' }, { worker: false, logLines });
  await seeded(assay.ctx.db.dataSource.manager);
});
afterAll(async () => {
  await assay.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
beforeEach(() => {
  nock.cleanAll();
  slack = mockSlackApi();
});

describe('request verification', () => {
  it('refuses a bad signature with 401 and acts on nothing', async () => {
    const body = new URLSearchParams({ command: '/assay', text: 'sync', user_id: 'U1', channel_id: 'C1', trigger_id: 't' }).toString();
    const r = await postSlack(assay.url, body, { secret: 'not-the-secret' });
    expect(r.status).toBe(401);
    const jobs = await assay.ctx.db.pool.query(`SELECT count(*)::int AS n FROM agenda_jobs WHERE name = 'salesforce.reconcile'`).catch(() => ({ rows: [{ n: 0 }] }));
    expect(jobs.rows[0].n).toBe(0);
  });

  it('refuses a correctly signed request older than 5 minutes', async () => {
    const body = new URLSearchParams({ command: '/assay', text: 'help', user_id: 'U1', channel_id: 'C1', trigger_id: 't' }).toString();
    const r = await postSlack(assay.url, body, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 });
    expect(r.status).toBe(401);
  });

  it('refuses a request without signature headers', async () => {
    const r = await fetch(`${assay.url}/slack/events`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'command=%2Fassay&text=help' });
    expect(r.status).toBe(401);
    expect(sign('x')['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
  });
});

describe('/assay commands', () => {
  it('help and unknown subcommands answer with a short ephemeral usage', async () => {
    const help = await slashCommand(assay.url, 'help');
    expect(help.status).toBe(200);
    expect(help.json.response_type).toBe('ephemeral');
    expect(JSON.stringify(help.json.blocks)).toContain('/assay train');
    const unknown = await slashCommand(assay.url, 'frobnicate');
    expect(unknown.json.response_type).toBe('ephemeral');
    expect(unknown.json.text).toBe('Unknown subcommand "frobnicate".');
    const missing = await slashCommand(assay.url, 'status');
    expect(missing.json.text).toBe('/assay status needs a training id, a model name, or "salesforce".');
  });

  it('kits lists trainable kits with a search', async () => {
    const all = await slashCommand(assay.url, 'kits');
    expect(all.json.text).toMatch(/trainable kits/);
    const text = JSON.stringify(all.json.blocks);
    expect(text).toContain('PR urine');
    const dna = await slashCommand(assay.url, 'kits dna');
    expect(JSON.stringify(dna.json.blocks)).toContain('PR DNA urine');
    expect(JSON.stringify(dna.json.blocks)).not.toContain('Road sign panel');
    const none = await slashCommand(assay.url, 'kits zzzz');
    expect(none.json.text).toContain('No trainable kits match');
  });

  it('sync (approvers) queues salesforce.reconcile with the requester and its recorded run', async () => {
    const r = await slashCommand(assay.url, 'sync', 'UAPPROVER1');
    expect(r.json.text).toContain('Kit sync with Salesforce queued');
    const rows = await assay.ctx.db.pool.query(`SELECT data FROM agenda_jobs WHERE name = 'salesforce.reconcile'`);
    const [run] = (await assay.ctx.db.pool.query(`SELECT id FROM catalog_sync_runs WHERE requested_by = 'UAPPROVER1'`)).rows;
    expect(rows.rows.map((x: any) => (typeof x.data === 'string' ? JSON.parse(x.data) : x.data))).toContainEqual({ requestedBy: 'UAPPROVER1', runId: run.id });
  });

  it('status and cancel of unknown ids are clear errors', async () => {
    expect((await slashCommand(assay.url, 'status nope')).json.text).toBe('No training or model "nope".');
    const c = await slashCommand(assay.url, 'cancel 00000000-0000-0000-0000-000000000000');
    expect(c.json.text).toContain('was not found');
  });
});

describe('Socket Mode', () => {
  it('with SLACK_APP_TOKEN the app uses a Socket Mode receiver and mounts no HTTP route', async () => {
    const cfg = assay.ctx.config;
    const surface = slackSurface({ ...assay.ctx, config: { ...cfg, slack: { ...cfg.slack!, appToken: 'xapp-1-A1-test' } } });
    expect(surface!.router).toBeNull();
    expect(slackSurface(assay.ctx)!.router).not.toBeNull();
  });
});

describe('Events API', () => {
  it('a redelivered event (X-Slack-Retry-Num) is acknowledged but acted on once', async () => {
    const event = { type: 'app_home_opened', user: 'UVIEWER', channel: 'D1', tab: 'home', event_ts: '1.1' };
    const first = await eventCallback(assay.url, event, 'Ev001');
    expect(first.status).toBe(200);
    await slack.waitFor('views.publish');
    const retry = await eventCallback(assay.url, event, 'Ev001', { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' });
    expect(retry.status).toBe(200);
    // Events are acknowledged before the middleware runs: wait until it has dropped the retry.
    await waitFor('the redelivery to be dropped', () => logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'Slack redelivery ignored' && l.key === 'event:Ev001'));
    expect(slack.of('views.publish')).toHaveLength(1);
    const home = slack.of('views.publish')[0]!.body;
    expect(home.user_id).toBe('UVIEWER');
    expect(home.view.type).toBe('home');
    expect(home.view.blocks.length).toBeLessThanOrEqual(100);
    expect(await assay.ctx.db.dataSource.manager.countBy(SlackDelivery, { deliveryKey: 'event:Ev001' })).toBe(1);
  });

  it('answers the url_verification challenge', async () => {
    const body = JSON.stringify({ type: 'url_verification', challenge: 'abc123', token: 'x' });
    const r = await postSlack(assay.url, body, { contentType: 'application/json' });
    expect(r.status).toBe(200);
    expect(r.text).toContain('abc123');
  });
});
