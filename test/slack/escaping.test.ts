// Finding 4 of the adversarial review: text from outside Assay reached Slack mrkdwn raw — an edge's
// heartbeat error in the training thread (<!channel>, disguised links), Salesforce kit names in
// /assay history and error replies. Here `<!channel>` and `<https://evil.example|click>` go in
// through every outside source (Salesforce kit name, a user's reason and command text, a trainer
// error, an edge error, dataset categories) and every message Slack receives is checked.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { blockAction, interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { signed } from '../jobs/pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';
import { notificationId, OUTBOUND_TOKEN, outboundMessage, postOutbound } from '../salesforce/support.js';
import { ModelTraining } from '../../src/db/entities/index.js';
import { buildValidationReport } from '../../src/datasets/validation-report.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { deployModel } from '../../src/services/deployment-service.js';
import { addEdge } from '../../src/services/edge-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';

const EVIL = '<!channel> <https://evil.example|click>';
const ESCAPED = '&lt;!channel&gt; &lt;https://evil.example|click&gt;';
const ORG = '00D5e000000KQ2eEAG';
const TRAINER_SECRET = 'trainer-secret-escaping-0123456789';
let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
const raw = (v: unknown) => JSON.stringify(v);
/** Every Slack call so far, as sent; none may hold the raw control sequences. */
const leaks = () => slack.calls.filter((c) => /<!channel>|<!here>|<https:\/\/evil\.example/.test(raw(c.body))).map((c) => `${c.method}: ${raw(c.body).slice(0, 300)}`);

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay({
    ...SLACK_ENV,
    SLACK_OPS_CHANNEL: 'C_OPS',
    SF_ORG_ID: ORG,
    SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN,
    SF_RECONCILE_INTERVAL: 'off',
    TRAINER_URL: 'https://trainer.example.com',
    TRAINER_SECRET,
  });
  s = await seeded(m());
  slack = mockSlackApi();
});
afterAll(async () => {
  await assay?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('external text in Slack mrkdwn', () => {
  let kitId: string;
  const surfaces: Record<string, string> = {};

  it('a Salesforce kit name: ops notice, /assay kits, /assay history', async () => {
    // Far-future stamp: the clamp notice names the kit (an ops notice with Salesforce text).
    const id = notificationId();
    await postOutbound(assay.url, outboundMessage(ORG, [{ id, type: 'Test_Kit__c', fields: { Id: 'a0B5e00000EviLKEAV', Active__c: true, Kit_Id__c: 'KIT-EVIL', Name: EVIL, SystemModstamp: '2999-01-01T00:00:00.000Z' } }]));
    const ops = await waitFor('the ops notice', async () => slack.calls.find((c) => c.method === 'chat.postMessage' && c.body.channel === 'C_OPS'), 20_000);
    surfaces.opsNotice = raw(ops.body);
    const [row] = await m().query(`SELECT id FROM test_types WHERE kit_id = 'KIT-EVIL'`);
    kitId = row.id;
    await m().query(`INSERT INTO test_type_ai_options (test_type_id, ai_option_uid, selectable) VALUES ($1, $2, true)`, [kitId, s.option('red_light').uid]);

    surfaces.kits = raw((await slashCommand(assay.url, 'kits')).json);
    surfaces.history = raw((await slashCommand(assay.url, 'history KIT-EVIL')).json);
    expect(surfaces.history).toContain('KIT-EVIL');
  });

  it('what a user types: error replies of /assay', async () => {
    surfaces.statusReply = raw((await slashCommand(assay.url, 'status <https://evil.example|click>')).json);
    surfaces.rollbackError = raw((await slashCommand(assay.url, 'rollback <!channel>', 'UAPPROVER1')).json);
    surfaces.modelsError = raw((await slashCommand(assay.url, 'models <!channel>')).json);
    for (const k of ['statusReply', 'rollbackError', 'modelsError']) expect([k, surfaces[k]]).toEqual([k, expect.stringContaining('&lt;')]);
  });

  it('a trainer error, a reject reason, an edge error and dataset categories in the training thread and card', async () => {
    const made = async (name: string) => {
      const created = await createTraining(
        m(),
        { kitIds: [kitId], optionUids: [s.option('red_light').uid], datasetName: name, dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 2, batchSize: 8, learningRate: 0.01, imageSize: 32 }, trainer: 'remote', versionChoice: name === 'evil-1' ? undefined : 'retrain', requestedBy: 'UREQUESTER', slackChannel: 'C_TRAIN' },
        systemActor,
      );
      const ts = `1700000400.00000${name.slice(-1)}`;
      await m().update(ModelTraining, { uid: created.training!.uid }, { slackChannel: 'C_TRAIN', slackTs: ts });
      return { ...created, ts };
    };

    // Trainer error → the card (chat.update).
    const a = await made('evil-1');
    await assay.ctx.db.dataSource.transaction((tx) => transition(tx, 'training', a.training!.uid, 'training', systemActor, { remoteJobId: 'rj-evil' } as Partial<ModelTraining>));
    const failed = JSON.stringify({ type: 'failed', jobId: 'rj-evil', trainingUid: a.training!.uid, error: EVIL });
    expect((await fetch(`${assay.url}/webhooks/trainer`, { method: 'POST', headers: signed(TRAINER_SECRET, failed), body: failed })).status).toBe(200);
    surfaces.trainerError = raw(await waitFor('the failed card', async () => slack.calls.find((c) => c.method === 'chat.update' && raw(c.body).includes('remote trainer failed')), 10_000));

    // Dataset categories (file contents) → the report in the thread.
    const report = buildValidationReport({ images: [{ id: 1, file_name: 'a.png' }], annotations: [], categories: [{ id: 1, name: EVIL }] }, ['red_light'], new Map());
    assay.ctx.events.emit('dataset.validated', { datasetId: a.dataset!.id, trainingUid: a.training!.uid, valid: false, report: report as never });
    surfaces.datasetReport = raw(await waitFor('the report', async () => slack.calls.find((c) => c.method === 'chat.postMessage' && c.body.thread_ts === a.ts && raw(c.body).includes('failed validation')), 10_000));

    // A reject reason → the approval card.
    const b = await made('evil-2');
    const model = await assay.ctx.db.dataSource.transaction(async (tx) => {
      await transition(tx, 'training', b.training!.uid, 'training', systemActor);
      const mv = await createModelVersion(tx, { lineageId: b.lineageId, trainingUid: b.training!.uid, labels: ['red_light'] }, systemActor);
      await transition(tx, 'training', b.training!.uid, 'trained', systemActor, { modelId: mv.id } as never);
      await transition(tx, 'model', mv.id, 'evaluating', systemActor);
      await transition(tx, 'model', mv.id, 'pending_approval', systemActor);
      await tx.query(`INSERT INTO model_test_types (model_id, test_type_id, ai_option_uid) VALUES ($1, $2, $3)`, [mv.id, kitId, s.option('red_light').uid]);
      return mv;
    });
    await interaction(assay.url, blockAction({ actionId: 'model_reject', value: model.id, user: 'UAPPROVER2', messageTs: b.ts }));
    const open = await waitFor('the reject modal', async () => slack.calls.find((c) => c.method === 'views.open'), 10_000);
    const sent = await interaction(assay.url, viewSubmission({ callbackId: 'model_reject_reason', privateMetadata: open.body.view.private_metadata, values: { reason: { value: { type: 'plain_text_input', value: `bad: ${EVIL}` } } }, user: 'UAPPROVER2' }));
    expect(sent.json).toBeNull();
    surfaces.approvalCard = raw(await waitFor('the rejected card', async () => slack.calls.find((c) => c.method === 'chat.update' && raw(c.body).includes('Rejected by')), 10_000));

    // An edge's heartbeat error → the training thread, and the failed-deployment ops notice.
    const c = await made('evil-3');
    const approved = await assay.ctx.db.dataSource.transaction(async (tx) => {
      await transition(tx, 'training', c.training!.uid, 'training', systemActor);
      const mv = await createModelVersion(tx, { lineageId: c.lineageId, trainingUid: c.training!.uid, labels: ['red_light'] }, systemActor);
      await transition(tx, 'training', c.training!.uid, 'trained', systemActor, { modelId: mv.id } as never);
      for (const st of ['evaluating', 'pending_approval'] as const) await transition(tx, 'model', mv.id, st, systemActor);
      await transition(tx, 'model', mv.id, 'approved', systemActor, { approvedBy: 'UAPPROVER1', approvedAt: new Date() } as never);
      await tx.query(`INSERT INTO model_test_types (model_id, test_type_id, ai_option_uid) VALUES ($1, $2, $3)`, [mv.id, kitId, s.option('red_light').uid]);
      return mv;
    });
    const edge = await addEdge(m(), 'edge-evil', systemActor);
    const deployed = await deployModel(assay.ctx.db.dataSource, { modelId: approved.id, actor: 'UAPPROVER1', approvers: new Set(['UAPPROVER1']), targets: ['edge-evil'], interactionKey: 'escaping-deploy' }, assay.ctx.events);
    const deploymentId = deployed.deployments[0]!.id;
    const beat = (status: string, error?: string) =>
      fetch(`${assay.url}/api/v1/edge/heartbeat`, { method: 'POST', headers: { authorization: `Bearer ${edge.token}`, 'content-type': 'application/json' }, body: JSON.stringify({ deployments: [{ deploymentId, status, ...(error ? { error } : {}) }] }) });
    expect((await beat('downloading')).status).toBe(200);
    expect((await beat('failed', EVIL)).status).toBe(200);
    surfaces.edgeThread = raw(await waitFor('the thread notice', async () => slack.calls.find((c2) => c2.method === 'chat.postMessage' && c2.body.thread_ts === c.ts && raw(c2.body).includes('Deployment to')), 10_000));
    surfaces.edgeOps = raw(await waitFor('the ops notice', async () => slack.calls.find((c2) => c2.method === 'chat.postMessage' && c2.body.channel === 'C_OPS' && raw(c2.body).includes('failed on edge server')), 10_000));
  });

  it('every surface shows the text escaped, and no Slack call carries it raw', () => {
    expect(Object.keys(surfaces).sort()).toEqual(['approvalCard', 'datasetReport', 'edgeOps', 'edgeThread', 'history', 'kits', 'modelsError', 'opsNotice', 'rollbackError', 'statusReply', 'trainerError']);
    for (const [name, body] of Object.entries(surfaces)) {
      expect([name, body.includes('&lt;')]).toEqual([name, true]);
    }
    for (const name of ['opsNotice', 'kits', 'history', 'trainerError', 'approvalCard', 'edgeThread', 'edgeOps']) expect([name, surfaces[name]!.includes(ESCAPED)]).toEqual([name, true]);
    expect(leaks()).toEqual([]);
  });
});
