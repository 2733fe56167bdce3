// The shipped jsforce client against nock's Salesforce REST API: JWT token, query + queryMore
// with subquery pages, session refresh, request limit, 5xx. Writes go to a real database.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nock from 'nock';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { loadConfig } from '../../src/config/index.js';
import { createLogger } from '../../src/app/logger.js';
import { SalesforceClient } from '../../src/salesforce/client.js';
import { RetryableSalesforceError } from '../../src/services/ports/catalog-source.js';
import { catalogPorts } from '../../src/salesforce/context.js';
import { kitQuery } from '../../src/salesforce/catalog-records.js';
import { reconcileCatalog, type KitSyncDeps } from '../../src/services/kit-sync-service.js';

const LOGIN = 'https://login.salesforce.com';
const INST = 'https://acme.my.salesforce.com';
const V = '/services/data/v62.0';
let db: TestDatabase;
let keyDir: string;
let config: ReturnType<typeof loadConfig>;

const token = (n: number) => ({ access_token: `00Dxx!AQ.fake${n}`, instance_url: INST, id: `${LOGIN}/id/00Dxx0000001gPFEAY/005xx000001SwiUAAS`, token_type: 'Bearer', scope: 'api', issued_at: '1719600000000', signature: 'x' });
const option = (key: string, id: string) => ({ attributes: { type: 'AI_Option__c' }, Id: id, Name: key, Option_Key__c: key, Label_Name__c: null, Selectable__c: true, Example_Image_URL__c: null, Active__c: true, SystemModstamp: '2026-11-01T10:00:00.000+0000' });
const link = (id: string, opt: ReturnType<typeof option>) => ({ attributes: { type: 'Kit_AI_Option__c' }, Id: id, Selectable__c: true, AI_Option__r: opt });
const kitRecord = (id: string, kitId: string, children: unknown) => ({
  attributes: { type: 'Test_Kit__c', url: `${V}/sobjects/Test_Kit__c/${id}` },
  Id: id, Name: `Kit ${kitId}`, Kit_Id__c: kitId, Active__c: true, SystemModstamp: '2026-11-01T10:00:00.000+0000', Kit_AI_Options__r: children,
});

function deps(client: SalesforceClient): KitSyncDeps {
  return { dataSource: db.dataSource, config, logger: createLogger('silent'), notifier: { notify: async () => {} } as never, queue: { now: async () => {} }, ...catalogPorts(client, config.salesforce.objects) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sf-key-'));
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(path.join(keyDir, 'server.key'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
  config = loadConfig({ NODE_ENV: 'test', SF_CLIENT_ID: 'cid', SF_USERNAME: 'sync@acme.test', SF_PRIVATE_KEY_PATH: path.join(keyDir, 'server.key') });
  nock.disableNetConnect();
});
afterEach(() => nock.cleanAll());
afterAll(async () => {
  nock.enableNetConnect();
  await db.close();
  fs.rmSync(keyDir, { recursive: true, force: true });
});

const SOQL = () => kitQuery(config.salesforce.objects);

describe('jsforce client (nock)', () => {
  it('pages kits with queryMore, follows a subquery nextRecordsUrl, handles a null subquery', async () => {
    const red = option('red_light', 'a1O000000000001AAA');
    const green = option('green_light', 'a1O000000000002AAA');
    const auth = nock(LOGIN).post('/services/oauth2/token', (b) => b.grant_type === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && typeof b.assertion === 'string').reply(200, token(1));
    const api = nock(INST, { reqheaders: { authorization: 'Bearer 00Dxx!AQ.fake1', 'sforce-call-options': 'client=assay' } })
      .get(`${V}/query`).query({ q: SOQL() })
      .reply(200, {
        totalSize: 3, done: false, nextRecordsUrl: `${V}/query/01gxx0000002abcAAA-2000`,
        records: [
          kitRecord('a0B000000000001AAA', 'K1', { totalSize: 2, done: false, nextRecordsUrl: `${V}/query/01gxx0000002chlAAA-1`, records: [link('a2L000000000001AAA', red)] }),
          kitRecord('a0B000000000002AAA', 'K2', null),
        ],
      }, { 'Sforce-Limit-Info': 'api-usage=25/15000' })
      .get(`${V}/query/01gxx0000002chlAAA-1`).reply(200, { totalSize: 2, done: true, records: [link('a2L000000000002AAA', green)] })
      .get(`${V}/query/01gxx0000002abcAAA-2000`).reply(200, { totalSize: 3, done: true, records: [kitRecord('a0B000000000003AAA', 'K3', { totalSize: 1, done: true, records: [link('a2L000000000003AAA', red)] })] }, { 'Sforce-Limit-Info': 'api-usage=27/15000' });

    const client = new SalesforceClient(config.salesforce);
    const result = await reconcileCatalog(deps(client), 'test');
    auth.done();
    api.done();
    expect(result).toMatchObject({ kitsSeen: 3, pages: 2, kitsCreated: 3, restCalls: 3, apiUsage: { used: 27, limit: 15000 } });
    const links = await db.dataSource.query(
      `SELECT t.kit_id, array_agg(o.name ORDER BY o.name) AS options FROM test_types t LEFT JOIN test_type_ai_options l ON l.test_type_id = t.id LEFT JOIN ai_options o ON o.uid = l.ai_option_uid GROUP BY t.kit_id ORDER BY t.kit_id`,
    );
    expect(links).toEqual([
      { kit_id: 'K1', options: ['green_light', 'red_light'] },
      { kit_id: 'K2', options: [null] },
      { kit_id: 'K3', options: ['red_light'] },
    ]);
  });

  it('INVALID_SESSION_ID: mints a new JWT token and replays the same request', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(200, token(1)).post('/services/oauth2/token').reply(200, token(2));
    const api = nock(INST)
      .get(`${V}/query`).query(true).matchHeader('authorization', 'Bearer 00Dxx!AQ.fake1')
      .reply(401, [{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }])
      .get(`${V}/query`).query({ q: SOQL() }).matchHeader('authorization', 'Bearer 00Dxx!AQ.fake2')
      .reply(200, { totalSize: 1, done: true, records: [kitRecord('a0B000000000001AAA', 'K1', null)] });
    const client = new SalesforceClient(config.salesforce);
    const result = await reconcileCatalog(deps(client), 'test');
    api.done();
    expect(client.tokenRequests).toBe(2);
    expect(result.kitsSeen).toBe(1);
  });

  it('REQUEST_LIMIT_EXCEEDED (403) becomes a retryable error and writes nothing', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(200, token(1));
    nock(INST).get(`${V}/query`).query(true).reply(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    const before = await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_log`);
    const error = await reconcileCatalog(deps(new SalesforceClient(config.salesforce)), 'test').catch((e) => e);
    expect(error).toBeInstanceOf(RetryableSalesforceError);
    expect(error.code).toBe('REQUEST_LIMIT_EXCEEDED');
    expect(await db.dataSource.query(`SELECT count(*)::int AS n FROM audit_log`)).toEqual(before);
  });

  it('a 5xx that outlasts jsforce transport retries becomes a retryable error', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(200, token(1));
    const api = nock(INST).get(`${V}/query`).query(true).times(2).reply(503, 'Service Unavailable');
    const client = new SalesforceClient(config.salesforce, { retry: { maxRetries: 1, minTimeout: 10 } });
    const error = await reconcileCatalog(deps(client), 'test').catch((e) => e);
    api.done();
    expect(error).toBeInstanceOf(RetryableSalesforceError);
  });

  it('a rejected JWT login says why, without the assertion', async () => {
    nock(LOGIN).post('/services/oauth2/token').reply(400, { error: 'invalid_grant', error_description: 'user hasn\'t approved this consumer' });
    const error = await reconcileCatalog(deps(new SalesforceClient(config.salesforce)), 'test').catch((e) => e);
    expect(error.message).toBe("Salesforce JWT login failed (400): invalid_grant - user hasn't approved this consumer");
  });
});
