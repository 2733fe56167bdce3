// Approve / Reject / Deploy buttons over signed HTTP: who may, self-approval, the double-click
// race, the audit trail, the updated message; and progress edits coalesced with 429 honoured.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { blockAction, interaction, mockSlackApi, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { Approval, AuditLogEntry, Model, ModelTraining } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
let n = 0;
/** The server's log, read to see that a replayed click was recognised (and so never reaches a listener). */
const logLines: string[] = [];

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay({ ...SLACK_ENV, LOG_LEVEL: 'info' }, { worker: false, logLines });
  s = await seeded(m());
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

/** A model waiting for approval, trained at `requestedBy`'s request, with a home message. */
async function pendingModel(requestedBy: string, metrics: Record<string, unknown> = { accuracy: 0.91, previous: { accuracy: 0.88 } }) {
  n++;
  const created = await createTraining(
    m(),
    { kitIds: [s.kit('4567').id], optionUids: [s.option('red_light').uid], datasetName: `ds-appr-${n}`, dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 2, batchSize: 8, learningRate: 0.01, imageSize: 32 }, versionChoice: n === 1 ? undefined : 'retrain', requestedBy, slackChannel: 'C_TRAIN' },
    systemActor,
  );
  const t = created.training!;
  const model = await m().transaction(async (tx) => {
    await transition(tx, 'training', t.uid, 'training', systemActor);
    const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['red'] }, systemActor);
    await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
    await transition(tx, 'model', made.id, 'evaluating', systemActor);
    await transition(tx, 'model', made.id, 'pending_approval', systemActor, { metrics } as never);
    return made;
  });
  await m().update(ModelTraining, { uid: t.uid }, { slackChannel: 'C_TRAIN', slackTs: `1700000100.00000${n}` });
  return { training: t, model, ts: `1700000100.00000${n}` };
}

describe('approval buttons', () => {
  it('a non-approver gets an ephemeral "not allowed" and the attempt lands in audit_log', async () => {
    const { model, ts } = await pendingModel('UREQUESTER');
    await interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user: 'URANDOM', messageTs: ts }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body).toMatchObject({ channel: 'C_TRAIN', user: 'URANDOM' });
    expect(eph!.body.text).toMatch(/Only approvers can approve/);
    expect((await m().findOneBy(Model, { id: model.id }))!.status).toBe('pending_approval');
    const denied = await m().findBy(AuditLogEntry, { action: 'permission.denied', entityId: model.id });
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({ actorType: 'slack_user', actorId: 'URANDOM' });

    await interaction(assay.url, blockAction({ actionId: 'model_reject', value: model.id, user: 'URANDOM', messageTs: ts }));
    await slack.waitFor('chat.postEphemeral', 2);
    expect(slack.of('views.open')).toHaveLength(0);
    expect(await m().countBy(AuditLogEntry, { action: 'permission.denied', entityId: model.id })).toBe(2);
  });

  // Finding 11 of the adversarial review: the refusal named who had already approved.
  it('a non-approver clicking an already decided model hears only that they may not approve', async () => {
    const { model, ts } = await pendingModel('UREQUESTER');
    await interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user: 'UAPPROVER2', messageTs: ts }));
    await slack.waitFor('chat.update');
    expect((await m().findOneBy(Model, { id: model.id }))!.status).toBe('approved');
    slack.reset();
    await interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user: 'URANDOM', messageTs: ts }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/Only approvers can approve/);
    expect(eph!.body.text).not.toMatch(/UAPPROVER2|Already|approved by/);
    expect(await m().countBy(AuditLogEntry, { action: 'model.decision_refused', entityId: model.id })).toBe(0);
  });

  it('the requester may not approve their own model, even as an approver', async () => {
    const { model, ts } = await pendingModel('UAPPROVER1');
    await interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user: 'UAPPROVER1', messageTs: ts }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/You requested this training/);
    expect(await m().countBy(Approval, { modelId: model.id })).toBe(0);
    expect(await m().countBy(AuditLogEntry, { action: 'permission.denied', entityId: model.id, actorId: 'UAPPROVER1' })).toBe(1);
  });

  it('two simultaneous clicks give exactly one decision; the loser hears who decided', async () => {
    const { model, ts } = await pendingModel('UREQUESTER');
    await Promise.all([
      interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user: 'UAPPROVER1', messageTs: ts, actionTs: '1.1' })),
      interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user: 'UAPPROVER2', messageTs: ts, actionTs: '1.2' })),
    ]);
    const [eph] = await slack.waitFor('chat.postEphemeral');
    const decisions = await m().findBy(Approval, { modelId: model.id, kind: 'decision' });
    expect(decisions).toHaveLength(1);
    const winner = decisions[0]!.actor;
    const loser = winner === 'UAPPROVER1' ? 'UAPPROVER2' : 'UAPPROVER1';
    expect(eph!.body.user).toBe(loser);
    expect(eph!.body.text).toMatch(new RegExp(`Already approved by <@${winner}> at \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`));
    const saved = (await m().findOneBy(Model, { id: model.id }))!;
    expect(saved).toMatchObject({ status: 'approved', approvedBy: winner });
    // The training message now says who decided, and offers Deploy instead of Approve/Reject.
    const [upd] = await slack.waitFor('chat.update');
    expect(upd!.body).toMatchObject({ channel: 'C_TRAIN', ts });
    const text = JSON.stringify(upd!.body.blocks);
    expect(text).toContain(`Approved by <@${winner}>`);
    expect(text).toContain('model_deploy');
    expect(text).not.toContain('model_approve');
    expect(text).toContain('previous 0.880');
  });

  it('a retried click (same action_ts) is not acted on twice', async () => {
    const { model, ts } = await pendingModel('UREQUESTER');
    const click = blockAction({ actionId: 'model_approve', value: model.id, user: 'UAPPROVER2', messageTs: ts, actionTs: '9.9' });
    await interaction(assay.url, click);
    await interaction(assay.url, click, { 'x-slack-retry-num': '1' });
    await slack.waitFor('chat.update');
    await waitFor('the replayed click to be dropped', () => logLines.map((l) => JSON.parse(l)).find((l) => l.msg === 'Slack redelivery ignored' && l.key === `block_actions:${ts}:model_approve:9.9`));
    expect(slack.of('chat.postEphemeral')).toHaveLength(0);
    expect(await m().countBy(Approval, { modelId: model.id })).toBe(1);
  });

  it('Reject opens a modal for the reason; submitting rejects with it', async () => {
    const { model, ts } = await pendingModel('UREQUESTER');
    await interaction(assay.url, blockAction({ actionId: 'model_reject', value: model.id, user: 'UAPPROVER2', messageTs: ts }));
    const [open] = await slack.waitFor('views.open');
    expect(open!.body.view.callback_id).toBe('model_reject_reason');
    const meta = open!.body.view.private_metadata;
    const short = await interaction(assay.url, viewSubmission({ callbackId: 'model_reject_reason', privateMetadata: meta, values: { reason: { value: { type: 'plain_text_input', value: 'no' } } }, user: 'UAPPROVER2' }));
    expect(short.json).toEqual({ response_action: 'errors', errors: { reason: 'Say why, in a few words' } });
    const ok = await interaction(assay.url, viewSubmission({ callbackId: 'model_reject_reason', privateMetadata: meta, values: { reason: { value: { type: 'plain_text_input', value: 'misses dim red lights' } } }, user: 'UAPPROVER2' }));
    expect(ok.status).toBe(200);
    expect(ok.json).toBeNull();
    expect(await m().findOneBy(Model, { id: model.id })).toMatchObject({ status: 'rejected', rejectionReason: 'misses dim red lights' });
    const [upd] = await slack.waitFor('chat.update');
    expect(JSON.stringify(upd!.body.blocks)).toContain('Rejected by <@UAPPROVER2>');
  });

  it('Deploy is for approvers only and opens a confirmation with kit options and edges', async () => {
    const { model, ts } = await pendingModel('UREQUESTER');
    await m().update(Model, { id: model.id }, { status: 'approved', approvedBy: 'UAPPROVER1', approvedAt: new Date() });
    await interaction(assay.url, blockAction({ actionId: 'model_deploy', value: model.id, user: 'URANDOM', messageTs: ts }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/Only approvers can deploy/);
    await interaction(assay.url, blockAction({ actionId: 'model_deploy', value: model.id, user: 'UAPPROVER1', messageTs: ts }));
    const [open] = await slack.waitFor('views.open');
    expect(open!.body.view.callback_id).toBe('model_deploy_confirm');
    const scope = open!.body.view.blocks.find((b: any) => b.block_id === 'scope');
    expect(JSON.stringify(scope)).toContain('Red indicator light is lit · PR urine (4567)');
  });
});

describe('training message progress', () => {
  it('coalesces progress edits and waits out a 429 Retry-After', async () => {
    const { training, ts } = await pendingModel('UREQUESTER');
    // Shown as still running (fixture shortcut; the status machine is not under test here).
    await assay.ctx.db.pool.query(`UPDATE model_trainings SET status = 'training', model_id = NULL WHERE uid = $1`, [training.uid]);
    nock.cleanAll();
    let first = true;
    slack = mockSlackApi({ 'chat.update': () => (first ? ((first = false), [429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' }]) : { channel: 'C_TRAIN', ts }) });
    const started = Date.now();
    for (let e = 1; e <= 20; e++) assay.ctx.events.emit('training.progress', { trainingUid: training.uid, epoch: e, totalEpochs: 20, loss: 1 / e });
    // First edit gets 429 (the client does not retry it itself); the next waits ≥1 s and carries the newest epoch.
    await slack.waitFor('chat.update', 2, 8000);
    const updates = slack.of('chat.update');
    expect(updates).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(JSON.stringify(updates[1]!.body.blocks)).toContain('epoch 20/20');
  });
});
