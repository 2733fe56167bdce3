// Issue #8, fuzz: every HTTP endpoint gets seeded, generated malformed requests (random bytes,
// truncated JSON, deep nesting, huge and oversized bodies, wrong types and content types,
// missing or garbage auth, unicode). No 5xx, no stack traces, JSON errors where JSON is spoken.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { SLACK_ENV } from '../helpers/slack.js';
import { signBody } from '../../src/domain/signature.js';
import { slackSignature } from '../../src/testing/slack-signature.js';
import { addEdge } from '../../src/services/edge-service.js';
import { systemActor } from '../../src/services/audit.js';
import { seededRandom } from '../../src/ml/random.js';

const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed);
const WEBHOOK_SECRET = 'whsec-fuzz-0123456789abcdef';
const OUTBOUND_TOKEN = 'om-token-fuzz-0123456789abcdef';
const TRAINER_SECRET = 'trainer-secret-fuzz-0123456789';
const ADMIN_TOKEN = 'admin-token-fuzz-0123456789';
const METRICS_TOKEN = 'metrics-token-fuzz-0123456789';
const ORG_ID = '00D5e000000KQ2eEAG';

/** mulberry32: small, seeded, deterministic. */
function rng(seed: number) {
  const next = seededRandom(seed);
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]): T => xs[int(xs.length)]! };
}
const r = rng(SEED);

const UNICODE = ['\u0000', '\ud83e\udd2f', '\u202e', '𝔘𝔫𝔦', '🧪🔬', 'ß', '\ufeff', '\u2028', 'é', '中文', '\\u0000', '%00', '%E0%A4%A'];
const randomBytes = (n: number) => Buffer.from(Array.from({ length: n }, () => r.int(256)));
const unicodeString = (n: number) => Array.from({ length: n }, () => r.pick(UNICODE)).join('');

/** Plausible JSON for each surface, to be broken in different ways. */
const SAMPLES: unknown[] = [
  { ChangeEventHeader: { entityName: 'Test_Kit__c', changeType: 'UPDATE', recordIds: ['a0B000000000001AAA'], commitTimestamp: Date.now(), transactionKey: 'tx', sequenceNumber: 1 } },
  { events: [{ payload: { ChangeEventHeader: { entityName: 'Test_Kit__c', changeType: 'CREATE', recordIds: [] } }, event: { replayId: 5 } }] },
  { jobId: randomUUID(), status: 'progress', epoch: 1, totalEpochs: 2, loss: 0.1 },
  { jobId: randomUUID(), status: 'completed', artifactUrl: 'https://x.example.com/m.onnx', metrics: { accuracy: 0.9 } },
  { models: [{ modelId: randomUUID(), version: 1 }], deployments: [{ deploymentId: randomUUID(), status: 'completed', progress: 1 }] },
  { type: 'url_verification', challenge: 'abc', token: 'legacy' },
  { type: 'event_callback', event_id: 'Ev1', event: { type: 'app_home_opened', user: 'U1', tab: 'home' } },
];
const WRONG_TYPES: unknown[] = [null, 0, -1, 1e308, true, 'string', [], {}, [null], { ChangeEventHeader: 5 }, { events: 'x' }, { models: {} }, { deployments: [{ deploymentId: 7 }] }, { status: ['completed'] }, { jobId: { $ne: null } }, { __proto__: { polluted: true } }, { constructor: { prototype: { x: 1 } } }];

function mutateTypes(v: unknown, depth = 0): unknown {
  if (depth > 4) return v;
  if (Array.isArray(v)) return v.map((x) => mutateTypes(x, depth + 1));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = r.next() < 0.35 ? r.pick(WRONG_TYPES) : mutateTypes(x, depth + 1);
    if (r.next() < 0.3) out[unicodeString(3)] = unicodeString(5);
    return out;
  }
  return r.next() < 0.3 ? r.pick(WRONG_TYPES) : v;
}

type Body = { kind: string; body: Buffer | string; contentType?: string };
function generateBody(): Body {
  switch (r.int(10)) {
    case 0:
      return { kind: 'random bytes', body: randomBytes(r.int(2048)) };
    case 1: {
      const s = JSON.stringify(r.pick(SAMPLES));
      return { kind: 'truncated JSON', body: s.slice(0, 1 + r.int(s.length - 1)) };
    }
    case 2: {
      const d = 1000 + r.int(20_000);
      const open = r.next() < 0.5 ? '[' : '{"a":';
      const close = open === '[' ? ']' : '}';
      return { kind: `deep nesting ${d}`, body: open.repeat(d) + '1' + close.repeat(d) };
    }
    case 3:
      return { kind: 'huge string', body: JSON.stringify({ ChangeEventHeader: { entityName: 'x'.repeat(200_000 + r.int(40_000)), changeType: 'UPDATE' }, jobId: 'y'.repeat(1000) }) };
    case 4:
      return { kind: 'oversized', body: Buffer.alloc(1_100_000 + r.int(1_000_000), 0x61) };
    case 5:
      return { kind: 'wrong types', body: JSON.stringify(mutateTypes(r.pick(SAMPLES))) };
    case 6:
      return { kind: 'scalar JSON', body: JSON.stringify(r.pick(WRONG_TYPES)) };
    case 7:
      return { kind: 'unicode', body: `{"${unicodeString(4)}": "${unicodeString(20)}", "jobId": "${unicodeString(3)}"}` };
    case 8:
      return { kind: 'form', body: `payload=${encodeURIComponent(r.next() < 0.5 ? JSON.stringify(mutateTypes({ type: 'block_actions', actions: [{ action_id: 'model_approve', value: 'x' }], user: { id: 'U1' }, view: { callback_id: 'model_deploy_confirm', private_metadata: '{', state: { values: {} } } })) : unicodeString(10)).replace(/%EF%BF%BD/g, '%ED%A0%80')}&x=%ZZ` };
    default:
      return { kind: 'empty', body: '' };
  }
}

/** Inputs the adversarial review (issue 13, finding 6) saw answered with 500. */
const soap = (inner: string, prolog = '') =>
  `<?xml version="1.0"?>${prolog}<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>${ORG_ID}</OrganizationId><Notification><Id>04l5e000000Abc1AAC</Id><sObject xsi:type="sf:Test_Kit__c" xmlns:sf="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><sf:Id>a0B5e000000AbcdEAC</sf:Id>${inner}</sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>`;
const HOSTILE: Body[] = [
  { kind: 'SOAP nested 5,000+', body: soap('<a>'.repeat(5500) + '</a>'.repeat(5500)), contentType: 'text/xml' },
  { kind: 'SOAP __proto__ field', body: soap('<sf:__proto__><x>1</x></sf:__proto__>'), contentType: 'text/xml' },
  { kind: 'SOAP constructor field', body: soap('<sf:constructor>x</sf:constructor>'), contentType: 'text/xml' },
  { kind: 'SOAP entity blow-up', body: soap(`<sf:Name>${'&e;'.repeat(3000)}</sf:Name>`, `<!DOCTYPE x [<!ENTITY e "${'e'.repeat(4000)}">]>`), contentType: 'text/xml' },
  { kind: 'JSON nested 100,000', body: `{"ChangeEventHeader":{"entityName":"Test_Kit__c","changeType":"UPDATE"},"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, contentType: 'application/json' },
  { kind: 'JSON __proto__', body: '{"__proto__":{"polluted":1},"constructor":{"prototype":{"x":1}},"ChangeEventHeader":{"entityName":"x","changeType":"UPDATE"}}', contentType: 'application/json' },
];

const CONTENT_TYPES = ['application/json', 'application/json; charset=utf-16', 'text/xml', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=zz', 'text/plain', 'application/octet-stream', '', 'garbage/; ;;='];

interface Target {
  name: string;
  method: string;
  path: () => string;
  json: boolean;
  /** Headers besides content-type: auth, signature (computed over the body). */
  headers: (body: Buffer) => Record<string, string>;
}

let assay: TestAssay;
let edgeToken = '';
const now = () => String(Math.floor(Date.now() / 1000));
const hex64 = () => randomBytes(32).toString('hex');
const garbageAuth = () => r.pick(['', 'Bearer', 'Bearer ' + unicodeString(3).replace(/[^\x20-\x7e]/g, '?'), 'Basic !!!', 'Basic ' + Buffer.from('no-colon').toString('base64'), 'Token x', 'Bearer ' + 'a'.repeat(5000)]);
const garbageId = () => r.pick([randomUUID(), 'not-a-uuid', '%E0%A4%A', '..%2F..%2Fetc%2Fpasswd', '0'.repeat(300), '%00', encodeURIComponent('🧪')]);
const garbageQuery = () => r.pick(['', '?expires=abc&sig=zz', `?expires=${Number.MAX_SAFE_INTEGER}9&sig=${hex64()}`, '?expires[]=1&sig[x]=2', '?%ZZ=1', `?expires=1&sig=${hex64()}&expires=2`]);

function targets(): Target[] {
  const sfSigned = (body: Buffer) => {
    const ts = now();
    return { 'x-assay-timestamp': ts, 'x-assay-signature': signBody(WEBHOOK_SECRET, ts, body) };
  };
  const trainerSigned = (body: Buffer) => {
    const ts = now();
    return { 'x-assay-timestamp': ts, 'x-assay-signature': signBody(TRAINER_SECRET, ts, body) };
  };
  const slackSigned = (body: Buffer) => {
    // Slack signs the bytes, binary bodies included.
    const ts = now();
    return { 'x-slack-request-timestamp': ts, 'x-slack-signature': slackSignature(SLACK_ENV.SLACK_SIGNING_SECRET, ts, body) };
  };
  const edge = () => ({ authorization: r.next() < 0.8 ? `Bearer ${edgeToken}` : garbageAuth() });
  const none = () => ({});
  const garbage = () => ({ authorization: garbageAuth(), 'x-assay-timestamp': r.pick(['', 'abc', '99999999999999', now()]), 'x-assay-signature': r.pick(['', 'sha256=', 'sha256=' + hex64(), unicodeString(2).replace(/[^\x20-\x7e]/g, '?')]), 'x-slack-signature': 'v0=' + hex64(), 'x-slack-request-timestamp': now() });
  return [
    { name: 'healthz', method: 'GET', path: () => '/healthz' + garbageQuery(), json: true, headers: garbage },
    { name: 'readyz', method: 'GET', path: () => '/readyz', json: true, headers: garbage },
    { name: 'openapi', method: 'GET', path: () => '/openapi.json' + garbageQuery(), json: true, headers: garbage },
    { name: 'metrics', method: r.pick(['GET', 'POST']), path: () => '/metrics' + garbageQuery(), json: true, headers: () => ({ authorization: r.next() < 0.5 ? `Bearer ${METRICS_TOKEN}` : garbageAuth() }) },
    { name: 'healthz POST', method: 'POST', path: () => '/healthz', json: true, headers: none },
    { name: 'sf webhook unsigned', method: 'POST', path: () => '/webhooks/salesforce', json: true, headers: garbage },
    { name: 'sf webhook signed', method: 'POST', path: () => '/webhooks/salesforce', json: true, headers: sfSigned },
    { name: 'sf outbound', method: 'POST', path: () => `/webhooks/salesforce/outbound/${r.next() < 0.7 ? OUTBOUND_TOKEN : garbageId()}`, json: true, headers: none },
    { name: 'trainer unsigned', method: 'POST', path: () => '/webhooks/trainer', json: true, headers: garbage },
    { name: 'trainer signed', method: 'POST', path: () => '/webhooks/trainer', json: true, headers: trainerSigned },
    { name: 'slack unsigned', method: 'POST', path: () => '/slack/events', json: false, headers: garbage },
    { name: 'slack signed', method: 'POST', path: () => '/slack/events', json: false, headers: slackSigned },
    { name: 'edge assignments', method: 'GET', path: () => '/api/v1/edge/assignments' + garbageQuery(), json: true, headers: edge },
    { name: 'edge download-url', method: 'GET', path: () => `/api/v1/edge/models/${garbageId()}/download-url`, json: true, headers: edge },
    { name: 'edge download', method: 'GET', path: () => `/api/v1/edge/models/${garbageId()}/download${garbageQuery()}`, json: true, headers: edge },
    { name: 'edge heartbeat', method: 'POST', path: () => '/api/v1/edge/heartbeat', json: true, headers: edge },
    { name: 'edge retry', method: 'POST', path: () => `/api/v1/edge/deployments/${garbageId()}/retry`, json: true, headers: edge },
    { name: 'edge unknown', method: r.pick(['PUT', 'DELETE', 'PATCH']), path: () => `/api/v1/edge/${garbageId()}`, json: true, headers: edge },
    { name: 'artifacts', method: 'GET', path: () => `/artifacts/${r.pick(['models', 'datasets', 'images', '..', 'x'])}/${r.next() < 0.6 ? hex64() + r.pick(['', '.onnx', '.json', '.%00']) : garbageId()}${garbageQuery()}`, json: true, headers: none },
    { name: 'admin jobs', method: 'GET', path: () => `/admin/jobs${r.pick(['', '/', '/api', `/api/jobs?${garbageQuery().slice(1)}`])}`, json: false, headers: () => ({ authorization: r.next() < 0.5 ? `Bearer ${ADMIN_TOKEN}` : garbageAuth() }) },
    { name: 'admin jobs POST', method: 'POST', path: () => `/admin/jobs/api/jobs/${r.pick(['requeue', 'delete', 'create'])}`, json: false, headers: () => ({ authorization: r.next() < 0.5 ? `Bearer ${ADMIN_TOKEN}` : garbageAuth() }) },
  ];
}

const STACK = [/\n\s+at \S/, /\bat (?:async )?[\w.<>]+ \(/, /[\w/.-]+\.(?:ts|js|mjs|cjs):\d+/, /node_modules/];

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(
    { ...SLACK_ENV, SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_ORG_ID: ORG_ID, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, TRAINER_URL: 'https://trainer.fuzz.example.com', TRAINER_SECRET, ASSAY_ADMIN_TOKEN: ADMIN_TOKEN, ASSAY_METRICS_TOKEN: METRICS_TOKEN, SF_RECONCILE_INTERVAL: 'off' },
    { worker: false },
  );
  edgeToken = (await addEdge(assay.ctx.db.dataSource.manager, 'edge-fuzz', systemActor)).token;
  nock('https://slack.com').persist().post(/.*/).reply(200, { ok: true });
});
afterAll(async () => {
  await assay?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('fuzzing every endpoint', () => {
  it(`answers malformed requests without 5xx or stack traces (seed ${SEED})`, async () => {
    const list = targets();
    const perTarget = Number(process.env.FUZZ_PER_ENDPOINT ?? 15);
    // Generated up front, so the seed alone decides every request whatever the timing.
    const fixed: Body[] = [{ kind: 'JSON null', body: 'null', contentType: 'application/json' }, { kind: 'oversized', body: Buffer.alloc(3_000_000, 0x7b) }, ...HOSTILE];
    const requests = list.flatMap((t) =>
      [...fixed, ...Array.from({ length: perTarget }, generateBody)].map(({ kind, body, contentType: fixedType }) => {
        const buf = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
        const contentType = fixedType ?? r.pick(CONTENT_TYPES);
        const headers: Record<string, string> = { ...t.headers(buf), ...(contentType ? { 'content-type': contentType } : {}) };
        if (r.next() < 0.05) headers['content-encoding'] = r.pick(['gzip', 'br', 'x-bogus']);
        const path = t.path();
        const label = `${t.name} ${t.method} ${path.slice(0, 80)} [${kind}, ${contentType || 'no content-type'}${headers['content-encoding'] ? ', ' + headers['content-encoding'] : ''}]`;
        return { t, buf, headers, path, label };
      }),
    );
    const failures: string[] = [];
    let sent = 0;
    const started = Date.now();
    const one = async ({ t, buf, headers, path, label }: (typeof requests)[number]) => {
      let res: Response;
      try {
        res = await fetch(assay.url + path, { method: t.method, headers, body: t.method !== 'GET' ? buf : undefined });
      } catch (e) {
        // The server may cut an oversized upload short; that is a refusal, not a crash.
        if (buf.length > 1_000_000) return;
        failures.push(`${label}: request failed ${(e as Error).message}`);
        return;
      }
      sent++;
      const text = await res.text();
      if (res.status >= 500) failures.push(`${label}: ${res.status} ${text.slice(0, 200)}`);
      const leak = STACK.find((re) => re.test(text));
      if (leak) failures.push(`${label}: stack trace in body (${leak}): ${text.slice(0, 200)}`);
      if (t.json && res.status >= 400) {
        const ok = /application\/json/.test(res.headers.get('content-type') ?? '') && (() => { try { return typeof JSON.parse(text).error === 'string'; } catch { return false; } })();
        if (!ok) failures.push(`${label}: ${res.status} not a JSON error: ${(res.headers.get('content-type') ?? '')} ${text.slice(0, 120)}`);
      }
    };
    // Eight at a time: Bolt holds an unacknowledged Slack request for 3 s before its 404.
    const queue = [...requests];
    await Promise.all(Array.from({ length: 8 }, async () => {
      for (let next = queue.shift(); next; next = queue.shift()) await one(next);
    }));
    console.log(`fuzz: ${sent} requests over ${list.length} endpoints in ${Date.now() - started} ms, seed ${SEED}`);
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(list.length * perTarget * 0.9);
    // The server is still healthy afterwards.
    expect((await fetch(assay.url + '/readyz')).status).toBe(200);
  });
});
