// A detector end to end over real HTTP: /assay train → the wizard (task Detector, a URL dataset of
// boxes) → dataset.validate → model.train (the in-process detector, 2 epochs) → model.evaluate
// (evaluateDetector on the stored ONNX) → the approval card with mAP50-95 and mAP50. Then a model
// whose ONNX does not fit the detector layout: evaluation failed, the reason in the thread.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { Evaluation, Model, ModelTraining } from '../../src/db/entities/index.js';
import { generateDetectionDataset } from '../../src/demo/detection-dataset.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { systemActor } from '../../src/services/audit.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { createTraining } from '../../src/services/training-service.js';
import { detectRuntime } from '../../src/domain/index.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { tinyDetectorOnnx } from '../helpers/detector-onnx.js';
import { waitFor } from '../helpers/wait.js';

const DATA = 'https://boxes.example.com';
let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
const m = () => assay.ctx.db.dataSource.manager;
const submit = (callbackId: string, sessionId: string, values: Record<string, Record<string, unknown>>) =>
  interaction(assay.url, viewSubmission({ callbackId, privateMetadata: sessionId, values, user: 'UREQUESTER' }));
const checks = (values: string[]) => ({ options: { options: { type: 'checkboxes', selected_options: values.map((value) => ({ value })) } } });
const num = (value: string) => ({ value: { type: 'number_input', value } });

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  assay = await startTestAssay({ ...SLACK_ENV, ASSAY_ALLOW_HTTP_FETCH: 'true', ASSAY_ALLOW_PRIVATE_FETCH: 'true' });
  slack = mockSlackApi({ 'files.getUploadURLExternal': () => ({ upload_url: 'https://files.slack.com/upload/v1/PREVIEW', file_id: 'F0PREVIEW' }) });
});
afterAll(async () => {
  await assay?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('detector pipeline from the wizard', () => {
  it('wizard (task detect) → training → evaluation → approval card with mAP', async () => {
    const s = await seeded(m());
    const label = (name: string) => s.option(name).labelName ?? name;
    // 20 photos of red/green panels, 80/10/10 by position; categories named by the options' labels.
    const data = await generateDetectionDataset({ seed: 3, images: 20, width: 160, height: 120, labels: ['red_light', 'green_light'] });
    data.coco.categories = data.coco.categories.map((c) => ({ ...c, name: label(c.name) }));
    nock(DATA).persist().get('/det/coco.json').reply(200, JSON.stringify({ ...data.coco, info: { image_base_url: `${DATA}/det/` } }), { 'content-type': 'application/json' });
    for (const [file, bytes] of data.images) nock(DATA).persist().get(`/det/${file}`).reply(200, bytes, { 'content-type': 'image/png' });

    const uploaded: Buffer[] = [];
    nock('https://files.slack.com').post('/upload/v1/PREVIEW').reply((_uri, body) => {
      uploaded.push(Buffer.from(body as string, 'hex'));
      return [200, 'OK'];
    });
    await slashCommand(assay.url, 'train', 'UREQUESTER');
    const [update] = await slack.waitFor('views.update');
    const sessionId = update!.body.view.private_metadata as string;
    await submit('wizard_kits', sessionId, { kits: { kits: { type: 'multi_static_select', selected_options: [{ value: s.kit('4567').id }] } } });
    let step = await submit('wizard_options', sessionId, checks([s.option('red_light').uid, s.option('green_light').uid]));
    if (step.json.view.callback_id === 'wizard_labels') {
      const values: Record<string, Record<string, unknown>> = {};
      for (const b of step.json.view.blocks) if (String(b.block_id ?? '').startsWith('label:')) values[b.block_id] = { label: { type: 'plain_text_input', value: 'x' } };
      step = await submit('wizard_labels', sessionId, values);
    }
    expect(step.json.view.callback_id).toBe('wizard_dataset');
    const task = step.json.view.blocks.find((b: any) => b.block_id === 'task');
    expect(task.element.initial_option.value).toBe('detect');

    const base = { dataset_name: { value: { type: 'plain_text_input', value: 'lights-boxes-1' } }, dataset_file: { file: { type: 'file_input', files: [] } }, dataset_url: { value: { type: 'url_text_input', value: `${DATA}/det/coco.json` } } };
    const detect = { task: { value: { type: 'radio_buttons', selected_option: { value: 'detect' } } } };
    // A detector's input is a multiple of 16: refused under the field, nothing created.
    const bad = await submit('wizard_dataset', sessionId, { ...base, ...detect, hp_epochs: num('2'), hp_batch_size: num('4'), hp_learning_rate: num('0.006'), hp_image_size: num('40') });
    expect(bad.json.errors).toEqual({ hp_image_size: expect.stringMatching(/multiple of 16/) });
    expect(await m().count(ModelTraining)).toBe(0);

    const ok = await submit('wizard_dataset', sessionId, { ...base, ...detect, hp_epochs: num('2'), hp_batch_size: num('4'), hp_learning_rate: num('0.006'), hp_image_size: num('64') });
    expect(ok.json.response_action).toBe('update');
    const training = await waitFor('training row', () => m().findOne(ModelTraining, { where: {} }), 10_000);
    expect(training.task).toBe('detect');

    const done = await waitFor('training', async () => {
      const t = await m().findOneByOrFail(ModelTraining, { uid: training.uid });
      return ['trained', 'failed', 'cancelled'].includes(t.status) ? t : null;
    }, 60_000);
    expect(done.trainingError).toBeNull();
    expect(done).toMatchObject({ status: 'trained', currentEpoch: 2, progress: 1 });
    expect(done.trainingLogs).toMatch(/epoch 2\/2 loss=/);

    const model = await waitFor('evaluation', async () => {
      const row = await m().findOneByOrFail(Model, { id: done.modelId! });
      return row.status === 'pending_approval' || (await m().countBy(Evaluation, { modelId: row.id, status: 'failed' })) ? row : null;
    }, 30_000);
    expect(await m().findOneBy(Evaluation, { modelId: model.id })).toMatchObject({ status: 'completed', error: null });
    expect(model.status).toBe('pending_approval');
    expect(model.task).toBe('detect');
    expect(model.runtime).toMatchObject({ task: 'detect', inputSize: { height: 64, width: 64 }, preprocess: { padValue: 114 } });
    expect([...model.runtime!.classNames].sort()).toEqual([label('red_light'), label('green_light')].sort());
    const metrics = model.metrics as Record<string, any>;
    for (const k of ['AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'AR1', 'AR10', 'AR100', 'ARs', 'ARm', 'ARl']) expect(typeof metrics[k]).toBe('number');
    expect(metrics).toMatchObject({ task: 'detect', 'mAP50-95': metrics.AP, mAP50: metrics.AP50, split: 'test', images: 2 });
    expect(Object.keys(metrics.per_class).sort()).toEqual([...model.runtime!.classNames].sort());

    // The approval card: the last edit of the home message shows the figures and the buttons.
    const card = await waitFor('approval card', async () => {
      const last = slack.of('chat.update').filter((c) => JSON.stringify(c.body.blocks ?? '').includes('model_approve')).pop();
      return last ? JSON.stringify(last.body.blocks) : null;
    }, 10_000);
    expect(card).toContain('mAP50-95');
    expect(card).toContain('mAP50');
    expect(card).toContain('detector');
    // AP per class, each option by its Salesforce name with its key second.
    for (const name of ['red_light', 'green_light']) expect(card).toContain(`(\`${label(name)}\`)\\nAP `);

    // The picture: test photos with true and predicted boxes, uploaded into the training's thread.
    const complete = await waitFor('preview upload', async () => slack.of('files.completeUploadExternal')[0] ?? null, 20_000);
    const home = await m().findOneByOrFail(ModelTraining, { uid: training.uid });
    expect(complete.body).toMatchObject({ channel_id: home.slackChannel, thread_ts: home.slackTs });
    expect(uploaded).toHaveLength(1);
    expect(uploaded[0]!.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(typeof metrics.previewPath).toBe('string');
  }, 100_000);

  it('a detector version whose ONNX does not fit the layout: evaluation failed, the reason in the thread', async () => {
    const first = await m().findOneOrFail(ModelTraining, { where: { status: 'trained' } });
    const s = await seeded(m());
    // A second training of the lineage on the same validated dataset (the file's version comes from elsewhere).
    const created = await createTraining(m(), { kitIds: [s.kit('4567').id], optionUids: [s.option('red_light').uid, s.option('green_light').uid], datasetName: 'lights-boxes-2', dataset: { source: 'url', uri: `${DATA}/det/coco.json` }, hyperparameters: { epochs: 1, batchSize: 4, learningRate: 0.006, imageSize: 64 }, task: 'detect', versionChoice: 'retrain', requestedBy: 'UREQUESTER' }, systemActor);
    const training = created.training!;
    await m().update(ModelTraining, { uid: training.uid }, { datasetId: first.datasetId, status: 'cancelled', slackChannel: 'C_TRAIN', slackTs: '1700000300.000001' });
    // Output rows for 3 classes, metadata naming 2: a layout the evaluator refuses.
    const bytes = tinyDetectorOnnx({ names: ['red_light', 'green_light'], outputDims: [1, 7, 8] });
    const put = await assay.ctx.artifacts.put(Buffer.from(bytes), { kind: 'model', extension: 'onnx' });
    const runtime = detectRuntime({ inputSize: { height: 64, width: 64 }, classNames: ['red_light', 'green_light'], candidates: 8 });
    const model = await createModelVersion(m(), { lineageId: training.lineageId, trainingUid: training.uid, labels: runtime.classNames, task: 'detect', runtime, s3ModelPath: put.path, artifactSha256: put.sha256, artifactSize: put.size }, systemActor);
    await assay.ctx.queue.now(JOBS.modelEvaluate, { modelId: model.id });
    const failed = await waitFor('failed evaluation', () => m().findOneBy(Evaluation, { modelId: model.id, status: 'failed' }), 20_000);
    expect(failed.error).toMatch(/^DetectorLayoutError: .*output/);
    expect((await m().findOneByOrFail(Model, { id: model.id })).status).toBe('draft');
    const reply = await waitFor('thread reply', async () => slack.of('chat.postMessage').find((c) => c.body.thread_ts === '1700000300.000001' && /Evaluation of .* failed/.test(c.body.text)), 10_000);
    expect(reply.body.text).toContain('DetectorLayoutError');
  }, 60_000);
});
