// /assay rollback as Slack drives it: the command opens a confirmation listing each kit option's
// active model → the one it returns to; the submit names the models it rolls back from. Replies
// say exactly what changed; a rollback with nothing earlier, a stale one and a repeated one are
// refused and change nothing; ten simultaneous confirmations act once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { Approval, AuditLogEntry, Model, ModelTestType, ModelTraining } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { deployModel } from '../../src/services/deployment-service.js';
import { addEdge } from '../../src/services/edge-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
const approvers = new Set(['UAPPROVER1', 'UAPPROVER2']);
let n = 0;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(SLACK_ENV, { worker: false });
  s = await seeded(m());
  await addEdge(m(), 'edge-1', systemActor);
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

/** An approved model of green_light trained for `kits`, with its training's home message. */
async function approvedFor(kits: string[]) {
  n++;
  const created = await createTraining(
    m(),
    { kitIds: kits.map((k) => s.kit(k).id), optionUids: [s.option('green_light').uid], datasetName: `ds-rb-${n}`, dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, versionChoice: n === 1 ? undefined : 'retrain', requestedBy: 'UREQUESTER', slackChannel: 'C_TRAIN' },
    systemActor,
  );
  const t = created.training!;
  const model = await m().transaction(async (tx) => {
    await transition(tx, 'training', t.uid, 'training', systemActor);
    const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['green'] }, systemActor);
    await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
    await transition(tx, 'model', made.id, 'evaluating', systemActor);
    await transition(tx, 'model', made.id, 'pending_approval', systemActor);
    return transition(tx, 'model', made.id, 'approved', systemActor, { approvedBy: 'UAPPROVER1', approvedAt: new Date() } as never);
  });
  await m().update(ModelTraining, { uid: t.uid }, { slackChannel: 'C_TRAIN', slackTs: `1700000300.00000${n}` });
  return model;
}

const activeOn = async (kit: string) => (await m().findOneBy(ModelTestType, { testTypeId: s.kit(kit).id, aiOptionUid: s.option('green_light').uid, isActive: true }))?.modelId ?? null;

/** Types /assay rollback and returns the confirmation modal Slack was asked to open. */
async function askRollback(kit: string, user = 'UAPPROVER1') {
  slack.reset();
  const r = await slashCommand(assay.url, `rollback ${kit}`, user);
  expect(r.status).toBe(200);
  return { reply: r.json, view: slack.of('views.open')[0]?.body.view };
}

function confirm(view: { private_metadata: string }, viewId: string, user = 'UAPPROVER1') {
  return interaction(assay.url, viewSubmission({ callbackId: 'kit_rollback_confirm', privateMetadata: view.private_metadata, values: {}, blocks: [], user, viewId }));
}

describe('/assay rollback', () => {
  let a: Model;
  let b: Model;

  beforeAll(async () => {
    a = await approvedFor(['4567', '589']);
    b = await approvedFor(['4567', '589']);
    await deployModel(assay.ctx.db.dataSource, { modelId: a.id, actor: 'UAPPROVER1', approvers });
    await deployModel(assay.ctx.db.dataSource, { modelId: b.id, actor: 'UAPPROVER1', approvers });
  });

  it('a non-approver is refused (audited) and no confirmation opens', async () => {
    const { reply, view } = await askRollback('589', 'URANDOM');
    expect(reply.text).toMatch(/Only approvers can roll back kits/);
    expect(view).toBeUndefined();
    expect(await m().countBy(AuditLogEntry, { action: 'permission.denied', actorId: 'URANDOM', entityId: '589' })).toBe(1);
  });

  it('asks first: each kit option, active model → the one it returns to; nothing changes until confirmed', async () => {
    const { reply, view } = await askRollback('589');
    expect(reply).toBeNull();
    expect(view.callback_id).toBe('kit_rollback_confirm');
    expect(view.submit.text).toBe('Roll back');
    const text = JSON.stringify(view.blocks);
    expect(text).toContain(`\`${b.modelName}\` → \`${a.modelName}\``);
    expect(text).toContain('Green indicator light is lit* (green_light)');
    expect(JSON.parse(view.private_metadata)).toEqual({ kit: s.kit('589').id, from: [b.id], channel: 'C_TRAIN' });
    expect(await activeOn('589')).toBe(b.id);
  });

  it('the reply says the model still runs elsewhere (not "deprecated"); the thread says so too', async () => {
    const { view } = await askRollback('589');
    slack.reset();
    await confirm(view, 'VRB-589');
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toContain(`1 kit option returns from \`${b.modelName}\` to \`${a.modelName}\``);
    expect(eph!.body.text).toContain(`\`${b.modelName}\` still runs on 1 other kit option, so it stays deployed.`);
    expect(eph!.body.text).not.toMatch(/deprecated/);
    expect(eph!.body.text).toContain('1 edge deployment queued.');
    expect(await activeOn('589')).toBe(a.id);
    expect(await activeOn('4567')).toBe(b.id);
    expect((await m().findOneByOrFail(Model, { id: b.id })).status).toBe('deployed');
    const thread = (await slack.waitFor('chat.postMessage')).find((c) => c.body.thread_ts)!;
    expect(thread.body.text).toMatch(/1 kit option returned to the model they ran before; this model still runs on 1 other kit option and stays deployed/);
  });

  it('the same confirmation again (stale) is refused and changes nothing', async () => {
    const stale = JSON.stringify({ kit: s.kit('589').id, from: [b.id], channel: 'C_TRAIN' });
    slack.reset();
    await confirm({ private_metadata: stale }, 'VRB-589-again');
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/changed since this rollback was confirmed .* nothing was rolled back/);
    expect(await activeOn('589')).toBe(a.id);
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: a.id })).toBe(0);
  });

  it('a kit running its first model: refused with the reason, nothing changes', async () => {
    const before = await m().find(ModelTestType, { order: { modelId: 'ASC', testTypeId: 'ASC' } });
    const { reply, view } = await askRollback('589');
    expect(view).toBeUndefined();
    expect(reply.text).toMatch(new RegExp(`Kit 589 \\(PR urine kit\\) runs ${a.modelName}, with no earlier model to return to: nothing was rolled back`));
    expect(await m().find(ModelTestType, { order: { modelId: 'ASC', testTypeId: 'ASC' } })).toEqual(before);
    expect((await m().findOneByOrFail(Model, { id: a.id })).status).toBe('deployed');
  });

  it('ten simultaneous confirmations: exactly one rolls back, nine are told why not', async () => {
    const { view } = await askRollback('4567');
    expect(JSON.parse(view.private_metadata).from).toEqual([b.id]);
    slack.reset();
    const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => confirm(view, `VRB-storm-${i}`)));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    const told = (await slack.waitFor('chat.postEphemeral', 10, 20_000)).map((c) => String(c.body.text));
    expect(told.filter((t) => t.startsWith(':leftwards_arrow_with_hook: Rolled back kit'))).toHaveLength(1);
    expect(told.filter((t) => /changed since this rollback was confirmed/.test(t))).toHaveLength(9);
    const done = told.find((t) => t.startsWith(':leftwards_arrow_with_hook:'))!;
    expect(done).toContain(`\`${b.modelName}\` runs nowhere now and is deprecated.`);
    expect(await activeOn('4567')).toBe(a.id);
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: b.id })).toBe(2); // 589, then 4567 once
    expect(await m().countBy(Approval, { kind: 'rollback', modelId: a.id })).toBe(0);
    expect((await m().findOneByOrFail(Model, { id: b.id })).status).toBe('deprecated');
    expect((await m().findOneByOrFail(Model, { id: a.id })).status).toBe('deployed');
  });
});
