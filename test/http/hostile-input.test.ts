// Finding 6 of the adversarial review: inputs that answered 500 (SOAP nested 5,000+ deep, sObject
// fields named __proto__/constructor, an entity blow-up, signed JSON nested 100,000 deep, a trainer
// callback whose artifact URL is refused) now get a 4xx with the reason; the outbound token never
// reaches a log line; wrong content types get 415; a body over the cap gets 413 before it is read
// to the end.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import nock from 'nock';
import { createLogger } from '../../src/app/logger.js';
import { SalesforceEvent, ModelTraining } from '../../src/db/entities/index.js';
import { addEdge } from '../../src/services/edge-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { SLACK_ENV } from '../helpers/slack.js';
import { seedAndTrain, signed } from '../jobs/pipeline-helpers.js';
import { OUTBOUND_TOKEN, WEBHOOK_SECRET, outboundMessage, postChangeEvents, postOutbound, notificationId } from '../salesforce/support.js';

const ORG = '00D5e000000KQ2eEAG';
const TRAINER_SECRET = 'trainer-secret-hostile-0123456789';
let app: TestAssay;
let edgeToken: string;
const logLines: string[] = [];
const ds = () => app.ctx.db.dataSource;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  app = await startTestAssay(
    { ...SLACK_ENV, LOG_LEVEL: 'debug', SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_ORG_ID: ORG, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, TRAINER_URL: 'https://trainer.example.com', TRAINER_SECRET, SF_RECONCILE_INTERVAL: 'off' },
    { worker: false, logLines },
  );
  edgeToken = (await addEdge(ds().manager, 'edge-hostile', systemActor)).token;
});
afterAll(async () => {
  await app?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

const kit = (extra: string) =>
  outboundMessage(ORG, [{ id: notificationId(), type: 'Test_Kit__c', fields: { Id: 'a0B5e000000AbcdEAC', Name: 'Kit', Kit_Id__c: '777', SystemModstamp: '2026-01-01T00:00:00.000Z' } }]).replace('</sObject>', `${extra}</sObject>`);

describe('inputs that answered 500', () => {
  it('hostile Outbound Messages are 400 with the reason; nothing stored; the token is in no log line', async () => {
    const attacks: Record<string, string> = {
      'nested 6,000 deep': kit('<a>'.repeat(6000) + 'x' + '</a>'.repeat(6000)),
      '__proto__ field': kit('<sf:__proto__>x</sf:__proto__>'),
      'constructor field': kit('<sf:constructor><prototype>1</prototype></sf:constructor>'),
      'entity blow-up': kit(`<sf:Description>${'&big;'.repeat(2000)}</sf:Description>`).replace('<soapenv:Envelope', `<!DOCTYPE x [<!ENTITY big "${'b'.repeat(5000)}">]><soapenv:Envelope`),
    };
    for (const [what, xml] of Object.entries(attacks)) {
      const r = await postOutbound(app.url, xml);
      const body = (await r.json()) as { error: string };
      expect([what, r.status]).toEqual([what, 400]);
      expect(body.error).toMatch(/^malformed XML/);
    }
    expect(await ds().manager.count(SalesforceEvent)).toBe(0);
    // A real message still goes through.
    expect((await postOutbound(app.url, kit(''))).status).toBe(200);
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.filter((l) => l.includes(OUTBOUND_TOKEN))).toEqual([]);
  });

  it('signed JSON events nested 100,000 deep are 400', async () => {
    const deep = '['.repeat(100_000) + '1' + ']'.repeat(100_000);
    const raw = `{"ChangeEventHeader":{"entityName":"Test_Kit__c","changeType":"UPDATE","recordIds":["a0B000000000001AAA"]},"x":${deep}}`;
    const r = await postChangeEvents(app.url, null, { raw });
    expect(r.status).toBe(400);
    expect(await r.json()).toEqual({ error: 'the body is nested deeper than 64 levels' });
    const beat = await fetch(`${app.url}/api/v1/edge/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${edgeToken}`, 'content-type': 'application/json' }, body: `{"models":${deep}}` });
    expect(beat.status).toBe(400);
  });

  it('a trainer callback whose artifact URL is refused is 422 with the reason (and the training ends)', async () => {
    const ids = await seedAndTrain(ds(), 'hostile-artifact', { source: 'url', uri: 'https://d.example.com/x.json' }, 'remote');
    await ds().transaction((tx) => transition(tx, 'training', ids.trainingUid, 'training', systemActor, { remoteJobId: 'rj-hostile' } as Partial<ModelTraining>));
    const text = JSON.stringify({ type: 'completed', jobId: 'rj-hostile', trainingUid: ids.trainingUid, artifactUrl: 'https://[::127.0.0.1]/model.onnx' });
    const r = await fetch(`${app.url}/webhooks/trainer`, { method: 'POST', headers: signed(TRAINER_SECRET, text), body: text });
    expect(r.status).toBe(422);
    expect(await r.json()).toEqual({ error: 'the trained model could not be downloaded: ::7f00:1 is not a public address; refused' });
    expect(await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid })).toMatchObject({ status: 'failed', trainingError: expect.stringMatching(/not a public address/) });
  });
});

describe('content types and size caps', () => {
  it('the wrong content type is 415 on every endpoint that takes a body', async () => {
    const posts: [string, Record<string, string>][] = [
      ['/webhooks/salesforce', { 'content-type': 'text/plain' }],
      [`/webhooks/salesforce/outbound/${OUTBOUND_TOKEN}`, { 'content-type': 'application/json' }],
      ['/webhooks/trainer', { 'content-type': 'application/x-www-form-urlencoded' }],
      ['/api/v1/edge/heartbeat', { 'content-type': 'text/plain', authorization: `Bearer ${edgeToken}` }],
      ['/slack/events', { 'content-type': 'text/plain' }],
      ['/webhooks/salesforce', {}],
      ['/webhooks/salesforce', { 'content-type': 'application/json', 'content-encoding': 'gzip' }],
    ];
    for (const [path, headers] of posts) {
      const r = await fetch(`${app.url}${path}`, { method: 'POST', headers, body: '{}' });
      expect([path, headers['content-type'], r.status]).toEqual([path, headers['content-type'], 415]);
      expect(((await r.json()) as { error: string }).error).toMatch(/^content (type|encoding)/);
    }
  });

  /** Sends headers and `first` bytes, then keeps the request open: the answer must come anyway. */
  function answerBeforeTheEnd(path: string, headers: Record<string, string>, first: number): Promise<{ status: number; body: string; sent: number }> {
    return new Promise((resolve, reject) => {
      const url = new URL(path, app.url);
      const req = http.request(url, { method: 'POST', headers }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          req.destroy();
          resolve({ status: res.statusCode ?? 0, body, sent: first });
        });
      });
      req.on('error', reject);
      req.write(Buffer.alloc(first, 0x20));
      // Never ended: before the fix the server read on, waiting for the rest.
      setTimeout(() => reject(new Error(`no answer from ${path} while the body was still open`)), 5000).unref();
    });
  }

  it('a body over the cap is refused at the cap, without waiting for the rest', async () => {
    const declared = await answerBeforeTheEnd('/webhooks/salesforce', { 'content-type': 'application/json', 'content-length': String(50 * 1024 * 1024) }, 64 * 1024);
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body)).toEqual({ error: 'request body too large (limit 1048576 bytes)' });
    const chunked = await answerBeforeTheEnd(`/webhooks/salesforce/outbound/${OUTBOUND_TOKEN}`, { 'content-type': 'text/xml', 'transfer-encoding': 'chunked' }, 1_200_000);
    expect(chunked.status).toBe(413);
    const slack = await answerBeforeTheEnd('/slack/events', { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }, 2_200_000);
    expect(slack.status).toBe(413);
    // The server is fine afterwards.
    expect((await fetch(`${app.url}/healthz`)).status).toBe(200);
  });
});

describe('log masking', () => {
  it('every configured secret is masked wherever it appears in a line', () => {
    const lines: string[] = [];
    const log = createLogger('info', 'assay', { secrets: [OUTBOUND_TOKEN, 'short'], destination: { write: (l: string) => void lines.push(l) } });
    log.error({ path: `/webhooks/salesforce/outbound/${OUTBOUND_TOKEN}`, nested: { url: `https://x/${encodeURIComponent(OUTBOUND_TOKEN)}` } }, `failed for ${OUTBOUND_TOKEN}`);
    log.info('short stays');
    expect(lines.join('')).not.toContain(OUTBOUND_TOKEN);
    expect(lines[0]).toContain('/webhooks/salesforce/outbound/[redacted]');
    expect(lines[1]).toContain('short stays');
  });
});
