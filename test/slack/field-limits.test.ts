// Finding 9 of the adversarial review: a 200,000-character reject reason was stored. Every
// user-typed field is capped where it enters (a field error saying the cap) and the modal says it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { blockAction, interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { Approval, AiOption, Model, ModelTraining } from '../../src/db/entities/index.js';
import { DETECTOR_IMAGE_SIZE, FIELD_LIMITS, HYPERPARAMETER_LIMITS, validateDatasetName, ValidationError } from '../../src/domain/index.js';
import { setLabelName, kitsWithSelectableOptions } from '../../src/services/catalog-service.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { transition } from '../../src/services/transitions.js';
import { slackUser, systemActor } from '../../src/services/audit.js';
import { rejectModal } from '../../views/replies.js';
import { datasetView, labelsView } from '../../views/wizard.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(SLACK_ENV, { worker: false });
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

const request = (over: Record<string, unknown> = {}) => ({
  kitIds: [s.kit('4567').id],
  optionUids: [s.option('red_light').uid],
  datasetName: 'ds-limits',
  dataset: { source: 'url' as const, uri: 'https://d.example.com/x.json' },
  hyperparameters: { epochs: 2, batchSize: 8, learningRate: 0.01, imageSize: 32 },
  requestedBy: 'UREQUESTER',
  slackChannel: 'C_TRAIN',
  ...over,
});
const fieldError = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(ValidationError);
  return { field: (e as ValidationError).field, message: (e as Error).message };
};

describe('length caps', () => {
  it('a 200,000-character reject reason is a field error in the modal; nothing is stored', async () => {
    const created = await createTraining(m(), request(), systemActor);
    const t = created.training!;
    const model = await m().transaction(async (tx) => {
      await transition(tx, 'training', t.uid, 'training', systemActor);
      const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['red'] }, systemActor);
      await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
      await transition(tx, 'model', made.id, 'evaluating', systemActor);
      await transition(tx, 'model', made.id, 'pending_approval', systemActor);
      return made;
    });
    await m().update(ModelTraining, { uid: t.uid }, { slackChannel: 'C_TRAIN', slackTs: '1700000300.000001' });
    await interaction(assay.url, blockAction({ actionId: 'model_reject', value: model.id, user: 'UAPPROVER2', messageTs: '1700000300.000001' }));
    const [open] = await slack.waitFor('views.open');
    const reasonInput = open!.body.view.blocks.find((b: { block_id: string }) => b.block_id === 'reason');
    expect(reasonInput.element.max_length).toBe(FIELD_LIMITS.reason);
    expect(reasonInput.hint.text).toMatch(/3 to 1000 characters/);
    const long = await interaction(assay.url, viewSubmission({ callbackId: 'model_reject_reason', privateMetadata: open!.body.view.private_metadata, values: { reason: { value: { type: 'plain_text_input', value: 'x'.repeat(200_000) } } }, user: 'UAPPROVER2' }));
    expect(long.json).toEqual({ response_action: 'errors', errors: { reason: 'A reason can be at most 1000 characters (this one has 200000)' } });
    expect(await m().countBy(Approval, { modelId: model.id })).toBe(0);
    expect((await m().findOneByOrFail(Model, { id: model.id })).status).toBe('pending_approval');
    // At the cap exactly (counted in characters, not UTF-16 units) it goes through.
    const atCap = '🧪'.repeat(FIELD_LIMITS.reason);
    const ok = await interaction(assay.url, viewSubmission({ callbackId: 'model_reject_reason', privateMetadata: open!.body.view.private_metadata, values: { reason: { value: { type: 'plain_text_input', value: atCap } } }, user: 'UAPPROVER2' }));
    expect(ok.json).toBeNull();
    expect((await m().findOneByOrFail(Model, { id: model.id })).rejectionReason).toBe(atCap);
  });

  it('dataset name, dataset URL, label name and kit search are capped by the services with a field error', async () => {
    expect(await fieldError(Promise.resolve().then(() => validateDatasetName('a'.repeat(5000))))).toEqual({ field: 'dataset_name', message: 'A dataset name can be at most 100 characters (this one has 5000)' });
    expect(await fieldError(createTraining(m(), request({ datasetName: 'ds-long-url', dataset: { source: 'url', uri: `https://d.example.com/${'p'.repeat(3000)}` }, versionChoice: 'retrain' }), systemActor))).toEqual({ field: 'dataset_url', message: 'A dataset URL can be at most 2000 characters (this one has 3022)' });
    const option = s.option('yellow_light');
    expect(await fieldError(setLabelName(m(), option.uid, 'y'.repeat(200_000), slackUser('U1')))).toEqual({ field: 'label_name', message: 'A label name can be at most 100 characters (this one has 200000)' });
    expect((await m().findOneByOrFail(AiOption, { uid: option.uid })).labelName).toBe(option.labelName);
    expect(await fieldError(kitsWithSelectableOptions(m(), 'k'.repeat(101)))).toMatchObject({ field: 'search' });
  });

  it('/assay with an over-long text answers briefly; /assay kits with a long search says the cap', async () => {
    const long = await slashCommand(assay.url, `kits ${'z'.repeat(5000)}`);
    expect(long.status).toBe(200);
    expect(long.json.text).toMatch(/more than 1000 characters/);
    const search = await slashCommand(assay.url, `kits ${'z'.repeat(150)}`);
    expect(JSON.stringify(search.json)).toMatch(/A kit search can be at most 100 characters/);
  });

  it('the modals say the caps', () => {
    const labels = labelsView({ sessionId: 's', unlabeled: [{ uid: 'u1', name: 'amber', labelName: null, exampleImageUrl: null, kits: [] }], maxLength: FIELD_LIMITS.labelName });
    const labelInput = labels.blocks.find((b) => (b as { block_id?: string }).block_id === 'label:u1') as { element: { max_length: number }; hint: { text: string } };
    expect(labelInput.element.max_length).toBe(100);
    expect(labelInput.hint.text).toMatch(/Up to 100/);
    const ds = datasetView({ sessionId: 's', datasetName: 'x', lineage: { name: 'amber', trainingId: 'abc123', isNew: true }, latest: null, task: 'detect', defaults: { epochs: 1, batchSize: 1, learningRate: 0.1, imageSize: 32 }, limits: { datasetName: FIELD_LIMITS.datasetName, lineageName: FIELD_LIMITS.lineageName, url: FIELD_LIMITS.url, hyperparameters: { ...HYPERPARAMETER_LIMITS, detectorImageMultiple: DETECTOR_IMAGE_SIZE.multipleOf } } });
    const byId = (id: string) => ds.blocks.find((b) => (b as { block_id?: string }).block_id === id) as { element: { max_length?: number }; hint: { text: string } };
    expect(byId('dataset_name').element.max_length).toBe(100);
    expect(byId('lineage_name').element.max_length).toBe(40);
    expect(byId('dataset_url').hint.text).toMatch(/up to 2000 characters/);
    // The hyperparameter ranges the wizard enforces, said in its hints (src/domain/hyperparameters.ts).
    expect(['hp_epochs', 'hp_batch_size', 'hp_learning_rate', 'hp_image_size'].map((id) => byId(id).hint.text)).toEqual(['1–500', '1–1024', 'Above 0, at most 1', '8–512']);
    expect(byId('task').hint.text).toMatch(/a detector needs an image size that is a multiple of 16\.$/);
    expect((rejectModal({ modelId: 'm', modelName: 'n', maxLength: FIELD_LIMITS.reason }).blocks[1] as { element: { max_length: number } }).element.max_length).toBe(1000);
  });
});
