// Issue #8, race: 50 approvers click Approve on one pending model at once, then 50 approvers
// confirm the Deploy modal at once. Signed Slack requests over real HTTP; slack.com is nock.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { blockAction, interaction, mockSlackApi, SIGNING_SECRET, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { Approval, AuditLogEntry, Deployment, Model, ModelTestType } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';
import { addEdge } from '../../src/services/edge-service.js';

const N = 50;
const approvers = Array.from({ length: N }, (_, i) => `UAPPR${String(i).padStart(3, '0')}`);

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
const TS = '1700000200.000001';

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay({ SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: SIGNING_SECRET, ASSAY_APPROVERS: approvers.join(',') }, { worker: false });
  s = await seeded(m());
  slack = mockSlackApi();
});
afterAll(async () => {
  await assay?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

/** A model waiting for approval, requested by someone who is not an approver. */
async function pendingModel() {
  const created = await createTraining(
    m(),
    { kitIds: [s.kit('4567').id, s.kit('589').id], optionUids: [s.option('red_light').uid], datasetName: 'ds-race', dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 2, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy: 'UREQUESTER', slackChannel: 'C_TRAIN' },
    systemActor,
  );
  const t = created.training!;
  return m().transaction(async (tx) => {
    await transition(tx, 'training', t.uid, 'training', systemActor);
    const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['red'] }, systemActor);
    await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
    await transition(tx, 'model', made.id, 'evaluating', systemActor);
    await transition(tx, 'model', made.id, 'pending_approval', systemActor, { metrics: { accuracy: 0.9 } } as never);
    return made;
  });
}

const ephemeralsTo = (users: Set<string>) => slack.of('chat.postEphemeral').filter((c) => users.has(c.body.user));

describe('50 approvers at once', () => {
  let model: Model;

  it('Approve: one decision, the model approved once, every loser told and audited', async () => {
    model = await pendingModel();
    const started = Date.now();
    const answers = await Promise.all(approvers.map((user, i) => interaction(assay.url, blockAction({ actionId: 'model_approve', value: model.id, user, messageTs: TS, actionTs: `1700000300.${i}` }))));
    expect(answers.map((a) => a.status)).toEqual(approvers.map(() => 200));

    const decisions = await m().findBy(Approval, { modelId: model.id, kind: 'decision' });
    expect(decisions).toHaveLength(1);
    const winner = decisions[0]!.actor;
    expect(approvers).toContain(winner);
    expect(await m().findOneBy(Model, { id: model.id })).toMatchObject({ status: 'approved', approvedBy: winner });
    expect(await m().countBy(AuditLogEntry, { entityId: model.id, action: 'model.approved' })).toBe(1);

    const losers = new Set(approvers.filter((u) => u !== winner));
    // Acks come first; the losers' answers follow asynchronously.
    await slack.waitFor('chat.postEphemeral', N - 1, 20_000);
    const told = ephemeralsTo(losers);
    expect(new Set(told.map((c) => c.body.user))).toEqual(losers);
    for (const c of told) expect(c.body.text).toContain(`Already approved by <@${winner}>`);
    const refused = await m().findBy(AuditLogEntry, { entityId: model.id, action: 'model.decision_refused' });
    expect(new Set(refused.map((a) => a.actorId))).toEqual(losers);
    expect(refused).toHaveLength(N - 1);
    expect(refused[0]!.details).toMatchObject({ attempted: 'approve', decidedBy: winner, decision: 'approved' });
    console.log(`approve race: ${N} clicks settled in ${Date.now() - started} ms`);
  });

  it('Deploy: one deployment per edge and one active model per kit option', async () => {
    const edge = (await addEdge(m(), 'edge-race-1', systemActor)).edge;
    const scope = [s.kit('4567'), s.kit('589')].map((k) => ({ value: `${k.id}:${s.option('red_light').uid}` }));
    slack.reset();
    const started = Date.now();
    const answers = await Promise.all(
      approvers.map((user, i) =>
        interaction(
          assay.url,
          viewSubmission({
            callbackId: 'model_deploy_confirm',
            viewId: `VDEPLOY${i}`,
            user,
            privateMetadata: JSON.stringify({ modelId: model.id, channel: 'C_TRAIN', ts: TS }),
            values: { scope: { value: { type: 'checkboxes', selected_options: scope } }, targets: { value: { type: 'checkboxes', selected_options: [{ value: edge.name }] } } },
          }),
        ),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(approvers.map(() => 200));
    await slack.waitFor('chat.postEphemeral', N, 30_000);
    const texts = slack.of('chat.postEphemeral').map((c) => String(c.body.text));
    expect(texts.filter((t) => t.startsWith(':no_entry:'))).toEqual([]);

    const deployments = await m().findBy(Deployment, { modelId: model.id });
    expect(deployments).toHaveLength(1);
    expect(deployments[0]).toMatchObject({ edgeServerId: edge.id, target: 'edge-race-1', status: 'pending' });
    expect(await m().findOneBy(Model, { id: model.id })).toMatchObject({ status: 'deployed' });
    expect(await m().countBy(AuditLogEntry, { entityId: model.id, action: 'model.deployed' })).toBe(1);
    // Every confirmation is recorded (idempotent per modal), the first switched the kits.
    expect(await m().countBy(Approval, { modelId: model.id, kind: 'deploy' })).toBe(N);
    expect(texts.filter((t) => /1 edge deployment\(s\) queued/.test(t))).toHaveLength(1);

    const active = await m().findBy(ModelTestType, { isActive: true });
    const perKitOption = new Map<string, string[]>();
    for (const a of active) perKitOption.set(`${a.testTypeId}:${a.aiOptionUid}`, [...(perKitOption.get(`${a.testTypeId}:${a.aiOptionUid}`) ?? []), a.modelId]);
    for (const [, models] of perKitOption) expect(models).toHaveLength(1);
    expect(active.filter((a) => a.modelId === model.id).map((a) => `${a.testTypeId}:${a.aiOptionUid}`).sort()).toEqual(scope.map((x) => x.value).sort());
    console.log(`deploy race: ${N} confirmations settled in ${Date.now() - started} ms`);
  });
});
