// Deploy offers and activates only the kit options the wizard would offer: a kit whose Salesforce
// link to an option is not selectable never gets that option activated, whether the deploy modal
// is submitted as shown or forged to include it; the edge gets no assignment for it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { blockAction, interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { Model, ModelTestType, ModelTraining } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { addEdge } from '../../src/services/edge-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
let edgeToken: string;
let model: Model;
const m = () => assay.ctx.db.dataSource.manager;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(SLACK_ENV, { worker: false });
  s = await seeded(m());
  edgeToken = (await addEdge(m(), 'edge-1', systemActor)).token;
  // Kit 589's link to green_light is not selectable in Salesforce: the wizard hides it there.
  await m().query(`UPDATE test_type_ai_options SET selectable = false WHERE test_type_id = $1 AND ai_option_uid = $2`, [s.kit('589').id, s.option('green_light').uid]);
  const created = await createTraining(
    m(),
    { kitIds: [s.kit('4567').id, s.kit('589').id], optionUids: [s.option('red_light').uid, s.option('green_light').uid], datasetName: 'ds-scope', dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy: 'UREQUESTER', slackChannel: 'C_TRAIN' },
    systemActor,
  );
  const t = created.training!;
  model = await m().transaction(async (tx) => {
    await transition(tx, 'training', t.uid, 'training', systemActor);
    const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['red_light', 'green_light'] }, systemActor);
    await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
    await transition(tx, 'model', made.id, 'evaluating', systemActor);
    await transition(tx, 'model', made.id, 'pending_approval', systemActor);
    return transition(tx, 'model', made.id, 'approved', systemActor, { approvedBy: 'UAPPROVER1', approvedAt: new Date() } as never);
  });
  await m().update(ModelTraining, { uid: t.uid }, { slackTs: '1700000400.000001' });
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

const pair = (kit: string, option: string) => `${s.kit(kit).id}:${s.option(option).uid}`;

async function openDeploy() {
  await interaction(assay.url, blockAction({ actionId: 'model_deploy', value: model.id, user: 'UAPPROVER1' }));
  const [opened] = await slack.waitFor('views.open');
  return opened!.body.view;
}

describe('deploy scope', () => {
  it('the wizard hides the non-selectable link (the rule deploy must follow)', async () => {
    await slashCommand(assay.url, 'train', 'UREQUESTER');
    const [upd] = await slack.waitFor('views.update');
    const sid = upd!.body.view.private_metadata;
    const step = await interaction(assay.url, viewSubmission({ callbackId: 'wizard_kits', privateMetadata: sid, values: { kits: { kits: { type: 'multi_static_select', selected_options: [{ value: s.kit('589').id }] } } } }));
    const offered = step.json.view.blocks.find((b: any) => b.block_id === 'options').element.options.map((o: any) => o.value);
    expect(offered).toContain(s.option('red_light').uid);
    expect(offered).not.toContain(s.option('green_light').uid);
  });

  it('the deploy modal offers only selectable kit options the model was trained for', async () => {
    const view = await openDeploy();
    const offered = view.blocks.find((b: any) => b.block_id === 'scope').element.options.map((o: any) => o.value).sort();
    expect(offered).toEqual([pair('4567', 'green_light'), pair('4567', 'red_light'), pair('589', 'red_light')].sort());
  });

  it('a forged submit naming the hidden option is refused and changes nothing', async () => {
    const view = await openDeploy();
    slack.reset();
    const forged = [pair('4567', 'red_light'), pair('589', 'green_light')].map((value) => ({ value }));
    await interaction(assay.url, viewSubmission({ callbackId: 'model_deploy_confirm', privateMetadata: view.private_metadata, values: { scope: { value: { type: 'checkboxes', selected_options: forged } } }, user: 'UAPPROVER1', viewId: 'VDEP-forged' }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/cannot serve .*not a selectable option/);
    expect(await m().countBy(ModelTestType, { modelId: model.id, isActive: true })).toBe(0);
    expect((await m().findOneByOrFail(Model, { id: model.id })).status).toBe('approved');
  });

  it('deploying as offered activates the selectable options only; the edge gets no assignment for the hidden one', async () => {
    const view = await openDeploy();
    const scope = view.blocks.find((b: any) => b.block_id === 'scope').element.initial_options;
    slack.reset();
    await interaction(assay.url, viewSubmission({ callbackId: 'model_deploy_confirm', privateMetadata: view.private_metadata, values: { scope: { value: { type: 'checkboxes', selected_options: scope } } }, user: 'UAPPROVER1', viewId: 'VDEP-ok' }));
    const [eph] = await slack.waitFor('chat.postEphemeral');
    expect(eph!.body.text).toMatch(/Deploying: 3 kit option/);
    const active = (await m().findBy(ModelTestType, { modelId: model.id, isActive: true })).map((r) => `${r.testTypeId}:${r.aiOptionUid}`).sort();
    expect(active).toEqual([pair('4567', 'green_light'), pair('4567', 'red_light'), pair('589', 'red_light')].sort());
    const r = await fetch(`${assay.url}/api/v1/edge/assignments`, { headers: { authorization: `Bearer ${edgeToken}` } });
    const body = (await r.json()) as { assignments: { kitId: string; optionName: string; modelId: string }[] };
    expect(body.assignments.filter((a) => a.modelId === model.id).map((a) => `${a.kitId}:${a.optionName}`).sort()).toEqual(['4567:green_light', '4567:red_light', '589:red_light']);
  });
});
