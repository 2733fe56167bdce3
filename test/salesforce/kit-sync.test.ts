// Kit sync end to end: the real server and worker, a real database, webhooks over real HTTP,
// and jsforce talking real HTTP to a local fake org.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { FakeSalesforce, fakeId, type FakeKit, type FakeOption } from '../../src/testing/fake-salesforce.js';
import { makeModel } from '../helpers/factories.js';
import { activateModel } from '../../src/services/activation-service.js';
import { systemActor } from '../../src/services/audit.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { OUTBOUND_ACK } from '../../src/salesforce/outbound-message.js';
import { cdcEvent, notificationId, OUTBOUND_TOKEN, outboundMessage, postChangeEvents, postOutbound, WEBHOOK_SECRET } from './support.js';
import { waitFor } from '../helpers/wait.js';

let fake: FakeSalesforce;
let assay: TestAssay;
let red: FakeOption, green: FakeOption, proper: FakeOption;
let urine: FakeKit, empty: FakeKit, big: FakeKit;

const q = (sql: string, params: unknown[] = []) => assay.ctx.db.dataSource.query(sql, params);
const kit = async (kitId: string) => (await q(`SELECT * FROM test_types WHERE kit_id = $1`, [kitId]))[0];
const linksOf = async (kitId: string): Promise<string[]> =>
  (await q(`SELECT o.name FROM test_type_ai_options l JOIN test_types t ON t.id = l.test_type_id JOIN ai_options o ON o.uid = l.ai_option_uid WHERE t.kit_id = $1 ORDER BY o.name`, [kitId])).map((r: { name: string }) => r.name);
const event = async (key: string) => (await q(`SELECT * FROM salesforce_events WHERE event_key = $1`, [key]))[0];
const settled = (key: string) => waitFor(`event ${key} processed`, async () => ((await event(key))?.status !== 'received' ? event(key) : null));
const cdcKey = (e: ReturnType<typeof cdcEvent>) => `cdc:tx:${e.ChangeEventHeader.transactionKey}:1`;
/** The salesforce.sync jobs of an event, once none is waiting or running: its processing is over. */
const syncJobsFinished = (eventId: string) =>
  waitFor(`the sync jobs of event ${eventId} to finish`, async () => {
    const { jobs } = await assay.ctx.agenda.queryJobs({ name: JOBS.salesforceSync, data: { eventId } });
    return jobs.every((j) => j.state === 'completed' || j.state === 'failed') ? jobs : null;
  });

async function reconcileNow() {
  const before = (await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'catalog.reconciled'`))[0].n;
  await assay.ctx.queue.now(JOBS.salesforceReconcile, { requestedBy: 'test' });
  await waitFor('reconciliation', async () => (await q(`SELECT count(*)::int AS n FROM audit_log WHERE action = 'catalog.reconciled'`))[0].n > before);
}

beforeAll(async () => {
  fake = await new FakeSalesforce().start();
  red = fake.addOption('red_light', { Label_Name__c: 'Red' });
  green = fake.addOption('green_light');
  proper = fake.addOption('proper_lighting', { Selectable__c: false });
  const many = Array.from({ length: 250 }, (_, i) => fake.addOption(`opt_${i}`));
  urine = fake.addKit('4567', 'PR urine', [red, green, proper]);
  empty = fake.addKit('9000', 'Kit without options', []);
  big = fake.addKit('9001', 'Big panel', many);
  assay = await startTestAssay({ ...fake.env(), SF_WEBHOOK_SECRET: WEBHOOK_SECRET, SF_ORG_ID: fake.orgId, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, SF_RECONCILE_INTERVAL: 'off' });
  await reconcileNow();
});
afterAll(async () => {
  // Drain first, while the stand-in org still answers (no Salesforce request left retrying into the next file).
  await assay?.drain(20_000);
  await assay?.stop();
  await fake?.stop();
});

describe('full reconciliation', () => {
  it('reads kits with their options (null subquery, child pages) and tags every call client=assay', async () => {
    expect(await kit('4567')).toMatchObject({ kit_name: 'PR urine', status: 'active', salesforce_id: urine.Id });
    expect(await linksOf('4567')).toEqual(['green_light', 'proper_lighting', 'red_light']);
    expect(await kit('9000')).toMatchObject({ kit_name: 'Kit without options', status: 'active' });
    expect(await linksOf('9000')).toEqual([]);
    expect((await linksOf('9001')).length).toBe(250); // 200 inline + a subquery nextRecordsUrl page
    expect(fake.requests.some((r) => /\/query\/01gFAKE/.test(r.path))).toBe(true);
    expect(fake.requests.every((r) => r.callOptions === 'client=assay')).toBe(true);
    const [o] = await q(`SELECT * FROM ai_options WHERE name = 'proper_lighting'`);
    expect(o).toMatchObject({ selectable: false, salesforce_id: proper.Id });
    expect((await q(`SELECT label_name FROM ai_options WHERE name = 'red_light'`))[0].label_name).toBe('Red');
  });

  it('archives kits the org no longer lists, keeps their rows', async () => {
    const gone = fake.addKit('9100', 'Short-lived kit', [red]);
    await reconcileNow();
    expect((await kit('9100')).status).toBe('active');
    fake.kits.delete(gone.Id);
    await reconcileNow();
    expect(await kit('9100')).toMatchObject({ status: 'archived', kit_name: 'Short-lived kit' });
  });
});

describe('change events (CDC JSON)', () => {
  it('re-reads the named kit and applies it; a duplicate is acknowledged but not applied again', async () => {
    urine.Name = 'PR urine v2';
    fake.touch(urine);
    const e = cdcEvent('Test_Kit__c', 'UPDATE', [urine.Id], Date.now(), { Name: 'PR urine v2' });
    const r = await postChangeEvents(assay.url, e);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ stored: 1, duplicates: 0, ignored: 0 });
    expect(await settled(cdcKey(e))).toMatchObject({ status: 'applied', source: 'cdc' });
    expect((await kit('4567')).kit_name).toBe('PR urine v2');

    const calls = fake.apiRequests;
    const again = await postChangeEvents(assay.url, [e]);
    expect(await again.json()).toEqual({ stored: 0, duplicates: 1, ignored: 0 });
    // The answer comes after any enqueue was issued; the one job is the first delivery's.
    expect(await syncJobsFinished((await event(cdcKey(e))).id)).toHaveLength(1);
    expect(fake.apiRequests).toBe(calls);
    expect((await q(`SELECT count(*)::int AS n FROM salesforce_events WHERE event_key = $1`, [cdcKey(e)]))[0].n).toBe(1);
  });

  it('an event older than the stored sf_last_modified_at (late, out of order) changes nothing and costs no API call', async () => {
    const calls = fake.apiRequests;
    const late = cdcEvent('Test_Kit__c', 'UPDATE', [urine.Id], Date.now() - 23 * 3600_000, { Name: 'PR urine (old name)' });
    await postChangeEvents(assay.url, late);
    expect(await settled(cdcKey(late))).toMatchObject({ status: 'ignored', error: expect.stringContaining('stale') });
    expect((await kit('4567')).kit_name).toBe('PR urine v2');
    expect(fake.apiRequests).toBe(calls);
  });

  it('an option removed from a kit (junction DELETE) removes the link', async () => {
    const link = urine.links.find((l) => l.optionId === green.Id)!;
    urine.links = urine.links.filter((l) => l !== link);
    fake.deletedLinks.set(link.Id, urine.Id);
    const e = cdcEvent('Kit_AI_Option__c', 'DELETE', [link.Id]);
    await postChangeEvents(assay.url, { events: [e] });
    expect(await settled(cdcKey(e))).toMatchObject({ status: 'applied' });
    expect(await linksOf('4567')).toEqual(['proper_lighting', 'red_light']);
  });

  it('kit deleted (archived, ops notice for its active model), undeleted (active again), late DELETE ignored', async () => {
    const t = await kit('4567');
    const optionUid = (await q(`SELECT uid FROM ai_options WHERE name = 'red_light'`))[0].uid;
    const { model } = await makeModel(assay.ctx.db.dataSource.manager, [optionUid], 'pr_urine');
    await assay.ctx.db.dataSource.transaction((m) => activateModel(m, model.id, [{ testTypeId: t.id, aiOptionUid: optionUid }], systemActor));

    fake.kits.delete(urine.Id);
    const del = cdcEvent('Test_Kit__c', 'DELETE', [urine.Id]);
    await postChangeEvents(assay.url, del);
    expect(await settled(cdcKey(del))).toMatchObject({ status: 'applied' });
    expect(await kit('4567')).toMatchObject({ status: 'archived', id: t.id });
    const [notice] = await q(`SELECT * FROM audit_log WHERE action = 'notice.kit_archived_with_active_model' AND entity_id = $1`, [t.id]);
    expect(notice.details.text).toContain(model.modelName);

    fake.kits.set(urine.Id, urine);
    fake.touch(urine, new Date(Date.now() + 1000));
    const undelete = cdcEvent('Test_Kit__c', 'UNDELETE', [urine.Id], Date.now() + 1000);
    await postChangeEvents(assay.url, undelete);
    expect(await settled(cdcKey(undelete))).toMatchObject({ status: 'applied' });
    expect(await kit('4567')).toMatchObject({ status: 'active', id: t.id });

    const lateDelete = cdcEvent('Test_Kit__c', 'DELETE', [urine.Id], Date.now() - 3600_000);
    await postChangeEvents(assay.url, lateDelete);
    expect(await settled(cdcKey(lateDelete))).toMatchObject({ status: 'ignored' });
    expect((await kit('4567')).status).toBe('active');
  });

  it('an AI option event re-reads the option; an option gone from the org is deactivated', async () => {
    green.Selectable__c = false;
    green.Example_Image_URL__c = 'https://example.com/green.png';
    green.SystemModstamp = new Date(Date.now() + 2000).toISOString().replace('Z', '+0000');
    const e = cdcEvent('AI_Option__c', 'UPDATE', [green.Id], Date.now() + 2000);
    await postChangeEvents(assay.url, e);
    expect(await settled(cdcKey(e))).toMatchObject({ status: 'applied' });
    expect((await q(`SELECT * FROM ai_options WHERE name = 'green_light'`))[0]).toMatchObject({ selectable: false, example_image_url: 'https://example.com/green.png', active: true });
    fake.options.delete(green.Id);
    const del = cdcEvent('AI_Option__c', 'DELETE', [green.Id], Date.now() + 3000);
    await postChangeEvents(assay.url, del);
    expect(await settled(cdcKey(del))).toMatchObject({ status: 'applied' });
    expect((await q(`SELECT active FROM ai_options WHERE name = 'green_light'`))[0].active).toBe(false);
    fake.options.set(green.Id, green);
  });

  it('accepts the CometD shape and deduplicates on its replay id', async () => {
    const e = { schema: 'abc', payload: cdcEvent('Test_Kit__c', 'UPDATE', [big.Id]), event: { replayId: 4242 } };
    const first = await postChangeEvents(assay.url, [e]);
    expect(await first.json()).toEqual({ stored: 1, duplicates: 0, ignored: 0 });
    const redelivered = { ...e, payload: { ...e.payload, ChangeEventHeader: { ...e.payload.ChangeEventHeader, transactionKey: 'other' } } };
    expect(await (await postChangeEvents(assay.url, redelivered)).json()).toEqual({ stored: 0, duplicates: 1, ignored: 0 });
    expect(await settled('cdc:replay:Test_Kit__c:4242')).toMatchObject({ status: 'applied' });
  });

  it('changes Assay caused (changeOrigin client=assay) are stored but not applied', async () => {
    const calls = fake.apiRequests;
    const e = cdcEvent('Test_Kit__c', 'UPDATE', [urine.Id]);
    e.ChangeEventHeader.changeOrigin = 'com/salesforce/api/rest/62.0;client=assay';
    const r = await postChangeEvents(assay.url, e);
    expect(await r.json()).toEqual({ stored: 1, duplicates: 0, ignored: 1 });
    const stored = await event(cdcKey(e));
    expect(stored).toMatchObject({ status: 'ignored', error: expect.stringContaining('Assay') });
    expect(await syncJobsFinished(stored.id)).toEqual([]);
    expect(fake.requests.slice(calls).filter((r) => decodeURIComponent(r.path).includes(urine.Id))).toEqual([]);
  });

  it('GAP_OVERFLOW triggers a full reconciliation', async () => {
    const added = fake.addKit('9200', 'Arrived in a huge transaction', [red]);
    const e = cdcEvent('Test_Kit__c', 'GAP_OVERFLOW', []);
    await postChangeEvents(assay.url, e);
    expect(await settled(cdcKey(e))).toMatchObject({ status: 'applied', error: 'full reconciliation requested' });
    await waitFor('kit from the reconciliation', async () => (await kit('9200'))?.salesforce_id === added.Id);
  });

  it('refreshes an expired session (INVALID_SESSION_ID) and replays the request', async () => {
    const tokens = fake.tokenRequests;
    fake.expireSession();
    empty.Name = 'Kit without options, renamed';
    fake.touch(empty);
    const e = cdcEvent('Test_Kit__c', 'UPDATE', [empty.Id]);
    await postChangeEvents(assay.url, e);
    expect(await settled(cdcKey(e))).toMatchObject({ status: 'applied' });
    expect((await kit('9000')).kit_name).toBe('Kit without options, renamed');
    expect(fake.tokenRequests).toBe(tokens + 1);
  });

  it('REQUEST_LIMIT_EXCEEDED keeps the event and reschedules the job with backoff', async () => {
    fake.failNext(403, [{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    empty.Name = 'After the limit';
    fake.touch(empty);
    const e = cdcEvent('Test_Kit__c', 'UPDATE', [empty.Id]);
    const started = Date.now();
    await postChangeEvents(assay.url, e);
    const held = await waitFor('limit error recorded', async () => {
      const row = await event(cdcKey(e));
      return row?.error?.includes('REQUEST_LIMIT_EXCEEDED') ? row : null;
    });
    expect(held).toMatchObject({ status: 'received', attempts: 1 });
    const [job] = await waitFor('job rescheduled', async () => {
      const jobs = await assay.ctx.agenda.queryJobs({ name: JOBS.salesforceSync, data: { eventId: held.id } } as never);
      const j = (jobs as { jobs: { failCount?: number; nextRunAt?: Date }[] }).jobs.filter((x) => x.failCount);
      return j.length ? j : null;
    });
    expect(new Date(job!.nextRunAt!).getTime()).toBeGreaterThan(started + 50_000);
    // Time passes: the retry becomes due (Agenda's own table; polling picks it up).
    await assay.ctx.db.pool.query(`UPDATE agenda_jobs SET next_run_at = now() WHERE name = $1 AND data->>'eventId' = $2`, [JOBS.salesforceSync, held.id]);
    expect(await settled(cdcKey(e))).toMatchObject({ status: 'applied' });
    expect((await kit('9000')).kit_name).toBe('After the limit');
  });

  it('rejects bad signatures, stale timestamps and malformed bodies, storing nothing', async () => {
    const count = async () => (await q(`SELECT count(*)::int AS n FROM salesforce_events`))[0].n;
    const before = await count();
    const e = cdcEvent('Test_Kit__c', 'UPDATE', [urine.Id]);
    const bad = await postChangeEvents(assay.url, e, { secret: 'not-the-secret-at-all' });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual({ error: 'bad signature' });
    const stale = await postChangeEvents(assay.url, e, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(401);
    expect(((await stale.json()) as { error: string }).error).toMatch(/stale timestamp/);
    const malformed = await postChangeEvents(assay.url, null, { raw: '{"ChangeEventHeader": ' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'the body is not valid JSON' });
    const notEvent = await postChangeEvents(assay.url, { hello: 'world' });
    expect(notEvent.status).toBe(400);
    expect(await count()).toBe(before);
  });
});

describe('Outbound Messages (SOAP)', () => {
  it('stores a batch of 100 notifications, answers the exact Ack, and applies each', async () => {
    const kits = Array.from({ length: 100 }, (_, i) => fake.addKit(`OM-${String(i).padStart(3, '0')}`, `Outbound kit ${i}`, i % 2 ? [red] : []));
    const notes = kits.map((k) => ({ id: notificationId(), type: 'Test_Kit__c', fields: { Id: k.Id, Active__c: true, Kit_Id__c: k.Kit_Id__c, Name: k.Name } }));
    const r = await postOutbound(assay.url, outboundMessage(fake.orgId, notes));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await r.text()).toBe(OUTBOUND_ACK);
    expect((await q(`SELECT count(*)::int AS n FROM salesforce_events WHERE source = 'outbound' AND event_key = ANY($1::text[])`, [notes.map((n) => `om:${n.id}`)]))[0].n).toBe(100);
    await waitFor('100 kits applied', async () => (await q(`SELECT count(*)::int AS n FROM test_types WHERE kit_id LIKE 'OM-%'`))[0].n === 100, 60_000);
    expect(await linksOf('OM-001')).toEqual(['red_light']);
    expect(await linksOf('OM-000')).toEqual([]);

    const dup = await postOutbound(assay.url, outboundMessage(fake.orgId, notes.slice(0, 3)));
    expect(await dup.text()).toBe(OUTBOUND_ACK);
    expect((await q(`SELECT count(*)::int AS n FROM salesforce_events WHERE event_key = ANY($1::text[])`, [notes.map((n) => `om:${n.id}`)]))[0].n).toBe(100);
  });

  it('wrong org or token → 403, malformed XML → 400, nothing stored', async () => {
    const count = async () => (await q(`SELECT count(*)::int AS n FROM salesforce_events`))[0].n;
    const before = await count();
    const note = [{ id: notificationId(), type: 'Test_Kit__c', fields: { Id: fakeId('a0B'), Kit_Id__c: 'X1', Name: 'x' } }];
    const wrongOrg = await postOutbound(assay.url, outboundMessage('00D000000000001AAA', note));
    expect(wrongOrg.status).toBe(403);
    const wrongToken = await postOutbound(assay.url, outboundMessage(fake.orgId, note), 'not-the-token-0123456789');
    expect(wrongToken.status).toBe(403);
    const broken = await postOutbound(assay.url, outboundMessage(fake.orgId, note).replace('</notifications>', ''));
    expect(broken.status).toBe(400);
    expect(await broken.json()).toEqual({ error: 'malformed XML' });
    expect(await count()).toBe(before);
  });
});
