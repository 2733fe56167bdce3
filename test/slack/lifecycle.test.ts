// After approval: Deploy confirmation, /assay rollback, status/models/history; domain events
// turned into Slack messages; the approver user group; App Home; the wizard's version choice.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { blockAction, eventCallback, interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { AuditLogEntry, Model, ModelTestType, ModelTraining } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
let n = 0;

const GROUP_ANSWER = { users: ['UGROUPIE'] };

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay({ ...SLACK_ENV, SLACK_OPS_CHANNEL: 'C_OPS', SLACK_APPROVER_GROUP: 'SAPPROVERS' }, { worker: false });
  s = await seeded(m());
});
afterAll(async () => {
  await assay.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
beforeEach(() => {
  nock.cleanAll();
  slack = mockSlackApi({ 'usergroups.users.list': () => GROUP_ANSWER });
});

async function trainedModel(requestedBy: string, status: 'pending_approval' | 'approved' = 'pending_approval', kit = '4567') {
  n++;
  const created = await createTraining(
    m(),
    { kitIds: [s.kit(kit).id], optionUids: [s.option('green_light').uid], datasetName: `ds-life-${n}`, dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 4, batchSize: 8, learningRate: 0.01, imageSize: 32 }, versionChoice: n === 1 ? undefined : 'retrain', requestedBy, slackChannel: 'C_TRAIN' },
    systemActor,
  );
  const t = created.training!;
  const model = await m().transaction(async (tx) => {
    await transition(tx, 'training', t.uid, 'training', systemActor);
    const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['green'] }, systemActor);
    await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
    await transition(tx, 'model', made.id, 'evaluating', systemActor);
    await transition(tx, 'model', made.id, 'pending_approval', systemActor, { metrics: { accuracy: 0.8 + n / 100 } } as never);
    if (status === 'approved') await transition(tx, 'model', made.id, 'approved', systemActor, { approvedBy: 'UAPPROVER1', approvedAt: new Date() } as never);
    await tx.query(`INSERT INTO model_test_types (model_id, test_type_id, ai_option_uid) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [made.id, s.kit(kit).id, s.option('green_light').uid]);
    return made;
  });
  const ts = `1700000200.00000${n}`;
  await m().update(ModelTraining, { uid: t.uid }, { slackChannel: 'C_TRAIN', slackTs: ts });
  return { training: t, model, ts };
}

async function confirmDeploy(modelId: string, user: string) {
  await interaction(assay.url, blockAction({ actionId: 'model_deploy', value: modelId, user }));
  const opened = await slack.waitFor('views.open');
  const view = opened[opened.length - 1]!.body.view;
  const scope = view.blocks.find((b: any) => b.block_id === 'scope').element.initial_options;
  return interaction(assay.url, viewSubmission({ callbackId: 'model_deploy_confirm', privateMetadata: view.private_metadata, values: { scope: { value: { type: 'checkboxes', selected_options: scope } } }, user, viewId: `VDEP${n}` }));
}

describe('deploy and rollback', () => {
  it('the deploy confirmation activates the model for the picked kit options; rollback restores the previous one', async () => {
    const first = await trainedModel('UREQUESTER', 'approved');
    const r1 = await confirmDeploy(first.model.id, 'UAPPROVER1');
    expect(r1.status).toBe(200);
    await slack.waitFor('chat.postEphemeral');
    expect(slack.of('chat.postEphemeral')[0]!.body.text).toMatch(/Deploying: 1 kit option/);
    expect(await m().findOneBy(Model, { id: first.model.id })).toMatchObject({ status: 'deployed' });
    expect(await m().findOneBy(ModelTestType, { modelId: first.model.id, testTypeId: s.kit('4567').id, isActive: true })).not.toBeNull();

    slack.reset();
    const second = await trainedModel('UREQUESTER', 'approved');
    await confirmDeploy(second.model.id, 'UGROUPIE'); // an approver through the user group
    await slack.waitFor('chat.postEphemeral');
    const active = await m().findOneBy(ModelTestType, { testTypeId: s.kit('4567').id, aiOptionUid: s.option('green_light').uid, isActive: true });
    expect(active).toMatchObject({ modelId: second.model.id, previousModelId: first.model.id });

    const refused = await slashCommand(assay.url, 'rollback 4567', 'URANDOM');
    expect(refused.json.text).toMatch(/Only approvers can roll back kits/);
    expect(await m().countBy(AuditLogEntry, { action: 'permission.denied', actorId: 'URANDOM' })).toBeGreaterThanOrEqual(1);

    slack.reset();
    await slashCommand(assay.url, 'rollback 4567', 'UAPPROVER2');
    const [asked] = await slack.waitFor('views.open');
    await interaction(assay.url, viewSubmission({ callbackId: 'kit_rollback_confirm', privateMetadata: asked!.body.view.private_metadata, values: {}, blocks: [], user: 'UAPPROVER2', viewId: 'VRB-life' }));
    const [done] = await slack.waitFor('chat.postEphemeral');
    expect(done!.body.text).toContain(`Rolled back kit *PR urine* (4567): 1 kit option returns from \`${second.model.modelName}\` to \`${first.model.modelName}\`.`);
    expect(done!.body.text).toContain(`\`${second.model.modelName}\` runs nowhere now and is deprecated.`);
    expect(await m().findOneBy(Model, { id: second.model.id })).toMatchObject({ status: 'deprecated' });
    expect(await m().findOneBy(ModelTestType, { testTypeId: s.kit('4567').id, aiOptionUid: s.option('green_light').uid, isActive: true })).toMatchObject({ modelId: first.model.id });

    const history = await slashCommand(assay.url, 'history 4567');
    expect(history.json.text).toContain('Promotion history');
    expect(history.json.text).toContain(second.model.modelName);

    const models = await slashCommand(assay.url, 'models 4567');
    expect(JSON.stringify(models.json.blocks)).toContain(first.model.modelName);
    expect(JSON.stringify(models.json.blocks)).toContain(`v${first.model.modelVersion} classifier — `);
    expect(history.json.text).toMatch(/TASK[\s\S]*classifier/);
    const byName = await slashCommand(assay.url, `status ${second.model.modelName}`);
    expect(byName.json.text).toContain('deprecated');
    expect(byName.json.text).toContain(`v${second.model.modelVersion} (classifier)`);
    const byTraining = await slashCommand(assay.url, `status ${first.training.uid}`);
    expect(JSON.stringify(byTraining.json.blocks)).toContain(first.model.modelName);
    // The approver group was listed once and then served from the cache.
    expect(slack.calls.filter((c) => c.method === 'usergroups.users.list').length).toBeLessThanOrEqual(1);
  });

  it('a non-approver cannot deploy through a forged confirmation submit', async () => {
    const { model } = await trainedModel('UREQUESTER', 'approved', '589');
    const meta = JSON.stringify({ modelId: model.id, channel: 'C_TRAIN', ts: null });
    await interaction(assay.url, viewSubmission({ callbackId: 'model_deploy_confirm', privateMetadata: meta, values: {}, user: 'URANDOM' }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/Only approvers can deploy/);
    expect(await m().findOneBy(Model, { id: model.id })).toMatchObject({ status: 'approved' });
  });
});

describe('more commands and buttons', () => {
  it('Details opens the metrics; /assay deploy opens the confirmation; /assay cancel stops a queued training', async () => {
    const { model, training } = await trainedModel('UREQUESTER', 'approved', '678');
    await interaction(assay.url, blockAction({ actionId: 'model_details', value: model.id, user: 'URANDOM' }));
    const [details] = await slack.waitFor('views.open');
    expect(details!.body.view.callback_id).toBe('model_details');
    expect(JSON.stringify(details!.body.view.blocks)).toContain('accuracy');

    const denied = await slashCommand(assay.url, `deploy ${model.modelName}`, 'URANDOM');
    expect(denied.json.text).toMatch(/Only approvers can deploy/);
    const ok = await slashCommand(assay.url, `deploy ${model.modelName}`, 'UAPPROVER2');
    expect(ok.status).toBe(200);
    const opened = await slack.waitFor('views.open', 2);
    expect(opened[1]!.body.view.callback_id).toBe('model_deploy_confirm');

    expect((await slashCommand(assay.url, `cancel ${training.uid}`)).json.text).toMatch(/has already finished/);
    const queued = await createTraining(
      m(),
      { kitIds: [s.kit('678').id], optionUids: [s.option('red_light').uid], datasetName: 'ds-cancel-me', dataset: { source: 'url', uri: 'https://d.example.com/c.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy: 'UREQUESTER' },
      systemActor,
    );
    const c = await slashCommand(assay.url, `cancel ${queued.training!.uid}`, 'UREQUESTER');
    expect(c.json.text).toBe(`Training ${queued.training!.uid} is cancelled.`);
    expect(await m().findOneBy(ModelTraining, { uid: queued.training!.uid })).toMatchObject({ status: 'cancelled' });
  });
});

describe('domain events in Slack', () => {
  it('validation report goes in the thread; evaluation results bring the buttons; notices go to the ops channel', async () => {
    const { training, model, ts } = await trainedModel('UREQUESTER');
    assay.ctx.events.emit('dataset.validated', { datasetId: training.datasetId!, trainingUid: training.uid, valid: true, report: { images: 120, labels: { green: 60 } } });
    const [thread] = await slack.waitFor('chat.postMessage');
    expect(thread!.body).toMatchObject({ channel: 'C_TRAIN', thread_ts: ts });
    expect(JSON.stringify(thread!.body.blocks)).toContain('passed validation');
    await slack.waitFor('chat.update');

    slack.reset();
    assay.ctx.events.emit('evaluation.completed', { modelId: model.id, evaluationUid: '00000000-0000-0000-0000-000000000001', status: 'completed', metrics: { accuracy: 0.9 } });
    const [upd] = await slack.waitFor('chat.update');
    const blocks = upd!.body.blocks;
    expect(blocks.length).toBeLessThanOrEqual(50);
    const buttons = blocks.find((b: any) => b.type === 'actions').elements.map((e: any) => e.action_id);
    expect(buttons).toEqual(['model_approve', 'model_reject', 'model_details']);

    await assay.ctx.notifier.notify({ kind: 'edge.stale', text: 'edge-1 stopped sending heartbeats <!channel>' });
    const posts = await slack.waitFor('chat.postMessage');
    const ops = posts.find((p) => p.body.channel === 'C_OPS')!;
    expect(ops.body.text).toContain('edge-1 stopped sending heartbeats &lt;!channel&gt;');
    expect(await m().countBy(AuditLogEntry, { action: 'notice.edge.stale' })).toBe(1);
  });

  it('App Home shows approvals waiting for an approver (not their own), trainings and active models', async () => {
    const mine = await trainedModel('UAPPROVER1');
    const theirs = await trainedModel('UREQUESTER');
    await eventCallback(assay.url, { type: 'app_home_opened', user: 'UAPPROVER1', tab: 'home', channel: 'D1', event_ts: '2.2' }, 'EvHome1');
    const [pub] = await slack.waitFor('views.publish');
    const text = JSON.stringify(pub!.body.view.blocks);
    expect(text).toContain(theirs.model.modelName);
    expect(text).not.toContain(`\`${mine.model.modelName}\` v${mine.model.modelVersion} · requested`);
    expect(text).toContain('Recent trainings');
    expect(text).toContain('Active model per kit');
    expect(pub!.body.view.blocks.length).toBeLessThanOrEqual(100);
  });
});

describe('wizard version choice', () => {
  it('a lineage with a model asks skip / new version / retrain, explained; a missing choice is a field error', async () => {
    await slashCommand(assay.url, 'train', 'UREQUESTER');
    const [upd] = await slack.waitFor('views.update');
    const sid = upd!.body.view.private_metadata;
    const sub = (cb: string, values: Record<string, Record<string, unknown>>) => interaction(assay.url, viewSubmission({ callbackId: cb, privateMetadata: sid, values }));
    await sub('wizard_kits', { kits: { kits: { type: 'multi_static_select', selected_options: [{ value: s.kit('4567').id }] } } });
    const step = await sub('wizard_options', { options: { options: { type: 'checkboxes', selected_options: [{ value: s.option('green_light').uid }] } } });
    expect(step.json.view.callback_id).toBe('wizard_dataset');
    const choice = step.json.view.blocks.find((b: any) => b.block_id === 'version_choice');
    expect(choice.element.options.map((o: any) => o.value)).toEqual(['skip', 'new_version', 'retrain']);
    expect(JSON.stringify(choice)).toContain('Fine-tune from');
    const values = (extra: Record<string, Record<string, unknown>>) => ({
      dataset_name: { value: { type: 'plain_text_input', value: 'life-choice-ds' } },
      dataset_url: { value: { type: 'url_text_input', value: 'https://d.example.com/c.json' } },
      ...extra,
    });
    const blocks = [...step.json.view.blocks.filter((b: any) => b.type === 'input')];
    const missing = await interaction(assay.url, viewSubmission({ callbackId: 'wizard_dataset', privateMetadata: sid, values: values({}), blocks }));
    expect(missing.json.response_action).toBe('errors');
    expect(Object.keys(missing.json.errors)).toEqual(['version_choice']);
    const before = await m().count(ModelTraining);
    const skip = await interaction(assay.url, viewSubmission({ callbackId: 'wizard_dataset', privateMetadata: sid, values: values({ version_choice: { value: { type: 'radio_buttons', selected_option: { value: 'skip' } } } }), blocks }));
    expect(skip.json.response_action).toBe('update');
    expect(JSON.stringify(skip.json.view.blocks)).toMatch(/Nothing to train: the kits now map to \*green_light_\w+_v\d+\*/);
    expect(await m().count(ModelTraining)).toBe(before);
  });
});
