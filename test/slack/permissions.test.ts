// /assay cancel and /assay sync as Slack sends them. Cancel: the requester or an approver only.
// Sync: approvers only, one at a time (a second while one runs is refused, saying since when),
// and the answer says when the last one ran and how it ended. Refusals are audited.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { mockSlackApi, slashCommand, SLACK_ENV } from '../helpers/slack.js';
import { FakeSalesforce } from '../../src/testing/fake-salesforce.js';
import { seeded } from '../helpers/factories.js';
import { AuditLogEntry, ModelTraining } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { systemActor } from '../../src/services/audit.js';
import { waitFor } from '../helpers/wait.js';

let assay: TestAssay;
let fake: FakeSalesforce;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
const runs = (): Promise<{ status: string; requested_by: string; error: string | null }[]> => m().query(`SELECT status, requested_by, error FROM catalog_sync_runs ORDER BY requested_at`);
let n = 0;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  mockSlackApi();
  fake = await new FakeSalesforce().start();
  const red = fake.addOption('red_light');
  fake.addKit('7001', 'Synced kit', [red]);
  assay = await startTestAssay({ ...SLACK_ENV, ...fake.env(), SF_RECONCILE_INTERVAL: 'off' });
  s = await seeded(m());
});
afterAll(async () => {
  // Drain first, while the stand-in org still answers (no Salesforce request left retrying into the next file).
  await assay.drain(20_000);
  await assay.stop();
  await fake.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

async function queuedTraining(requestedBy: string) {
  n++;
  const created = await createTraining(
    m(),
    { kitIds: [s.kit('4567').id], optionUids: [s.option('red_light').uid], datasetName: `ds-perm-${n}`, dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy },
    systemActor,
  );
  return created.training!.uid;
}

describe('/assay cancel', () => {
  it('refuses anyone but the requester or an approver, audited; the training goes on', async () => {
    const uid = await queuedTraining('UREQUESTER');
    const r = await slashCommand(assay.url, `cancel ${uid}`, 'URANDOM');
    expect(r.json.text).toMatch(/Only the person who requested this training or an approver can cancel it/);
    expect(await m().findOneByOrFail(ModelTraining, { uid })).toMatchObject({ status: 'queued', cancelRequested: false });
    const denied = await m().findBy(AuditLogEntry, { action: 'permission.denied', actorId: 'URANDOM', entityId: uid });
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ entityType: 'training', details: { attempted: 'cancel' } });
  });

  it('the requester may cancel their training, and an approver anyone’s', async () => {
    const mine = await queuedTraining('UREQUESTER');
    expect((await slashCommand(assay.url, `cancel ${mine}`, 'UREQUESTER')).json.text).toBe(`Training ${mine} is cancelled.`);
    const theirs = await queuedTraining('UREQUESTER');
    expect((await slashCommand(assay.url, `cancel ${theirs}`, 'UAPPROVER2')).json.text).toBe(`Training ${theirs} is cancelled.`);
    expect(await m().countBy(ModelTraining, { uid: theirs, status: 'cancelled' })).toBe(1);
  });

  it('a training id that is not one is "not found", not an internal error', async () => {
    expect((await slashCommand(assay.url, 'cancel nope', 'UAPPROVER1')).json.text).toMatch(/Training nope was not found/);
  });
});

describe('/assay sync', () => {
  it('refuses non-approvers (audited) and queues nothing', async () => {
    const r = await slashCommand(assay.url, 'sync', 'URANDOM');
    expect(r.json.text).toMatch(/Only approvers can start a Salesforce sync/);
    expect(await runs()).toEqual([]);
    expect(await m().countBy(AuditLogEntry, { action: 'permission.denied', actorId: 'URANDOM', entityType: 'catalog_sync' })).toBe(1);
  });

  it('one at a time: a second while one runs is refused with when it started; afterwards the answer says how the last one ended', async () => {
    const release = fake.hold();
    const first = await slashCommand(assay.url, 'sync', 'UAPPROVER1');
    expect(first.json.text).toMatch(/Kit sync with Salesforce queued/);
    expect(first.json.text).toContain('This is the first sync.');
    await waitFor('the sync to be running', async () => ((await runs())[0]?.status === 'running' ? true : null));

    const second = await slashCommand(assay.url, 'sync', 'UAPPROVER2');
    expect(second.json.text).toMatch(/A kit sync is already running since <!date\^\d+\^\{date_short_pretty\} \{time\}\|[^>]+> \(asked by <@UAPPROVER1>\): one at a time/);
    expect(await runs()).toHaveLength(1);
    expect(await m().countBy(AuditLogEntry, { action: 'catalog.sync_refused', actorId: 'UAPPROVER2' })).toBe(1);

    release();
    await waitFor('the sync to end', async () => ((await runs())[0]?.status === 'completed' ? true : null));
    expect(await m().query(`SELECT kit_name FROM test_types WHERE kit_id = '7001'`)).toEqual([{ kit_name: 'Synced kit' }]);

    // The next one fails at Salesforce; the one after says so.
    fake.failNext(400, [{ message: 'the org refused the query', errorCode: 'MALFORMED_QUERY' }]);
    const third = await slashCommand(assay.url, 'sync', 'UAPPROVER2');
    expect(third.json.text).toMatch(/The last sync started <!date\^\d+\^[^>]+> \(asked by <@UAPPROVER1>\) and completed in \d+ s: \d+ kits read, 1 new, \d+ updated, \d+ archived\./);
    await waitFor('the failing sync to end', async () => ((await runs())[1]?.status === 'failed' ? true : null));
    const fourth = await slashCommand(assay.url, 'sync', 'UAPPROVER1');
    expect(fourth.json.text).toMatch(/The last sync started <!date[^>]+> \(asked by <@UAPPROVER2>\) and failed: .*the org refused the query/);
    await waitFor('the last sync to end', async () => (['completed', 'failed'].includes((await runs())[2]?.status ?? '') ? true : null));
  });
});
