// Issue 13, item 12: GET /metrics (Prometheus text) from the running server, behind
// ASSAY_METRICS_TOKEN. Real traffic moves real values: HTTP durations, Slack ack latency, webhook
// intake, Salesforce apply lag, job durations and failures, queue depth, trainings, edge heartbeats.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { slashCommand, SLACK_ENV } from '../helpers/slack.js';
import { addEdge } from '../../src/services/edge-service.js';
import { systemActor } from '../../src/services/audit.js';
import { seedAndTrain } from '../jobs/pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';
import { cdcEvent, notificationId, OUTBOUND_TOKEN, outboundMessage, postChangeEvents, postOutbound, WEBHOOK_SECRET } from '../salesforce/support.js';

const ORG = '00D5e000000KQ2eEAG';

const TOKEN = 'metrics-token-0123456789abcdef';
let app: TestAssay;
let off: TestAssay;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  nock('https://slack.com').persist().post(/.*/).reply(200, { ok: true });
  app = await startTestAssay({ ...SLACK_ENV, ASSAY_METRICS_TOKEN: TOKEN, ASSAY_METRICS_PORT: '0', SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_ORG_ID: ORG, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, SF_RECONCILE_INTERVAL: 'off', TRAINER_URL: 'https://trainer.example.com', TRAINER_SECRET: 'trainer-secret-0123456789' });
  off = await startTestAssay({}, { worker: false });
});
afterAll(async () => {
  await app?.stop();
  await off?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

const scrape = async (base = app.url) => {
  const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.text();
};

/** The value of one sample: metric name and exact label values (order free); 0 when absent. */
function value(text: string, name: string, labels: Record<string, string> = {}): number {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return 0;
}

describe('GET /metrics', () => {
  it('needs the token, and is off (with the reason) without ASSAY_METRICS_TOKEN', async () => {
    expect((await fetch(`${app.url}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.url}/metrics`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    const r = await fetch(`${off.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ error: 'metrics are off: set ASSAY_METRICS_TOKEN to enable /metrics' });
  });

  it('real traffic moves real values', async () => {
    const before = await scrape();
    const healthz = { route: '/healthz', method: 'GET', status: '200' };

    for (let i = 0; i < 3; i++) await fetch(`${app.url}/healthz`);
    expect((await slashCommand(app.url, 'help')).status).toBe(200);
    const e = cdcEvent('Test_Kit__c', 'UPDATE', ['a0B000000000001AAA']);
    expect((await postChangeEvents(app.url, e)).status).toBe(422); // no Salesforce API: refused
    expect((await postChangeEvents(app.url, e, { secret: 'not-the-secret-0123456789' })).status).toBe(401);
    const om = outboundMessage(ORG, [{ id: notificationId(), type: 'Test_Kit__c', fields: { Id: 'a0B000000000001AAA', Name: 'Metrics kit', Kit_Id__c: 'MET-1', SystemModstamp: '2026-11-20T10:00:00.000Z' } }]);
    expect((await postOutbound(app.url, om)).status).toBe(200);
    expect((await postOutbound(app.url, om)).status).toBe(200); // duplicate
    const ids = await seedAndTrain(app.ctx.db.dataSource, 'metrics-set', { source: 'url', uri: 'https://d.example.com/x.json' }, 'remote');
    expect(ids.trainingUid).toBeDefined();
    await app.ctx.queue.now('dataset.validate', { datasetId: 'not-a-uuid', trainingUid: 'nope' }); // fails: counted
    await app.ctx.agenda.now('metrics.unhandled' as never, {}); // nobody runs it: it waits in the queue
    const edge = await addEdge(app.ctx.db.dataSource.manager, 'edge-metrics', systemActor);
    const beat = await fetch(`${app.url}/api/v1/edge/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${edge.token}`, 'content-type': 'application/json' }, body: '{}' });
    expect(beat.status).toBe(200);

    const after = await waitFor('the jobs to run', async () => {
      const t = await scrape();
      const ready = value(t, 'assay_salesforce_apply_lag_seconds_count') >= 1 && value(t, 'assay_job_failures_total', { name: 'dataset.validate' }) >= 1;
      return ready ? t : null;
    }, 30_000);

    expect(value(after, 'assay_http_request_duration_seconds_count', healthz) - value(before, 'assay_http_request_duration_seconds_count', healthz)).toBe(3);
    expect(value(after, 'assay_http_request_duration_seconds_count', { route: '/webhooks/salesforce', method: 'POST', status: '401' })).toBe(1);
    expect(value(after, 'assay_slack_ack_seconds_count', { type: 'slash_command' })).toBe(1);
    expect(value(after, 'assay_slack_ack_seconds_sum', { type: 'slash_command' })).toBeGreaterThan(0);
    expect(value(after, 'assay_webhook_events_total', { source: 'salesforce_outbound', outcome: 'stored' })).toBe(1);
    expect(value(after, 'assay_webhook_events_total', { source: 'salesforce_outbound', outcome: 'duplicate' })).toBe(1);
    expect(value(after, 'assay_webhook_events_total', { source: 'salesforce_cdc', outcome: 'refused' })).toBe(2);
    expect(value(after, 'assay_salesforce_apply_lag_seconds_count', { status: 'applied' })).toBe(1);
    expect(value(after, 'assay_job_duration_seconds_count', { name: 'salesforce.sync', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'assay_job_failures_total', { name: 'dataset.validate' })).toBeGreaterThanOrEqual(1);
    expect(value(after, 'assay_jobs', { name: 'metrics.unhandled', state: 'queued' })).toBe(1);
    expect(value(after, 'assay_trainings', { status: 'queued' })).toBeGreaterThanOrEqual(1);
    const age = value(after, 'assay_edge_heartbeat_age_seconds', { edge: 'edge-metrics' });
    expect(after).toMatch(/assay_edge_heartbeat_age_seconds\{edge="edge-metrics"\}/);
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThan(60);
    expect(value(after, 'assay_process_resident_memory_bytes')).toBeGreaterThan(0);
    // The route label is the pattern, never the path with its ids.
    expect(after).not.toMatch(/route="[^"]*[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  it('ASSAY_METRICS_PORT serves the same behind the same token (for --worker processes)', async () => {
    expect(app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const text = await scrape(app.metricsUrl);
    expect(value(text, 'assay_trainings', { status: 'queued' })).toBeGreaterThanOrEqual(1);
    expect((await fetch(`${app.metricsUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.metricsUrl}/healthz`)).status).toBe(404);
  });
});
