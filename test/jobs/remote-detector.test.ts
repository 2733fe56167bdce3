// A detect training through the remote trainer, on the real server, database, Agenda and ONNX
// Runtime; the dataset host, Slack and the trainer are nock. The job request says the task and
// what a detector must be; the completed callback's ONNX is checked as an import is: a conforming
// file becomes a detect version evaluated with mAP, a non-conforming one fails the training with
// the reason (answered 422, shown on the Slack card) and creates no model.
import { afterAll, beforeAll, afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { Evaluation, Model, ModelTraining } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { setTrainingHomeMessage } from '../../src/services/slack-delivery-service.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { mockSlackApi, SLACK_ENV } from '../helpers/slack.js';
import { candidates, tinyDetectorOnnx, type TinyDetectorSpec } from '../helpers/detector-onnx.js';
import { coco, png, seedAndTrain, signed, trainingIn } from './pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';

const DATA = 'https://boxes.example.com';
const TRAINER = 'https://trainer.example.com';
const SECRET = 'trainer-secret-0123456789';
const HP = { epochs: 2, batchSize: 4, learningRate: 0.01, imageSize: 64 };
let app: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
const ds = () => app.ctx.db.dataSource;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  app = await startTestAssay({ ...SLACK_ENV, ASSAY_ALLOW_HTTP_FETCH: 'true', ASSAY_ALLOW_PRIVATE_FETCH: 'true', TRAINER_URL: TRAINER, TRAINER_SECRET: SECRET });
  slack = mockSlackApi({});
});
afterAll(async () => {
  await app?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
afterEach(() => nock.abortPendingRequests());

/**
 * 64×64 photos with a red_light box at (4,4,24,24) and a green_light box at (32,4,24,24) in every
 * image: a detector whose fixed output is exactly those boxes is perfect on the test split.
 */
async function detectTrainingSentToTrainer(name: string, jobId: string) {
  const files = ['1.png', '2.png', '3.png', '4.png', '5.png', '6.png'];
  const doc = coco(files);
  for (const im of doc.images) Object.assign(im, { width: 64, height: 64 });
  for (const a of doc.annotations) a.bbox = a.bbox.map((v) => v * 2) as [number, number, number, number];
  const image = await png({ r: 200, g: 60, b: 60 }, 64);
  nock(DATA).get(`/${name}/coco.json`).reply(200, JSON.stringify(doc), { 'content-type': 'application/json' });
  for (const f of files) nock(DATA).get(`/${name}/${f}`).reply(200, image, { 'content-type': 'image/png' });
  let request: Record<string, any> | undefined;
  nock(TRAINER)
    .post('/jobs')
    .reply((_uri, body) => {
      request = body as Record<string, any>;
      return [202, { jobId }];
    });
  const ids = await seedAndTrain(ds(), name, { source: 'url', uri: `${DATA}/${name}/coco.json` }, 'remote', HP, 'detect');
  // As if the wizard had posted the training's home message: its thread is where failures show.
  await setTrainingHomeMessage(ds().manager, ids.trainingUid, 'CTRAIN', `1700000001.${jobId.replace(/\D/g, '').padStart(6, '0')}`);
  await app.ctx.queue.now(JOBS.datasetValidate, ids);
  const t = await trainingIn(ds(), ids.trainingUid, ['training', 'failed']);
  expect(t.status).toBe('training');
  return { ...ids, request: request! };
}

function complete(jobId: string, trainingUid: string, onnx?: Uint8Array) {
  if (onnx) nock(TRAINER).get(`/artifacts/${jobId}.onnx`).reply(200, Buffer.from(onnx), { 'content-type': 'application/octet-stream' });
  const text = JSON.stringify({ type: 'completed', jobId, trainingUid, artifactUrl: `${TRAINER}/artifacts/${jobId}.onnx`, labels: ['ignored'], inputShape: [1, 9, 9, 3] });
  return fetch(`${app.url}/webhooks/trainer`, { method: 'POST', headers: signed(SECRET, text), body: text });
}

/** The two boxes of every image, with red_light first (the file's class order need not be the labels' order). */
const perfect = (overrides: TinyDetectorSpec = {}): Uint8Array =>
  tinyDetectorOnnx({
    names: ['red_light', 'green_light'],
    inputSize: [64, 64],
    n: 2,
    output: candidates(2, [
      { box: [16, 16, 24, 24], scores: [0.9, 0] },
      { box: [44, 16, 24, 24], scores: [0, 0.8] },
    ]),
    ...overrides,
  });

describe('detect training on the remote trainer', () => {
  it('the request says the task and the detector to build; a conforming ONNX becomes a detect version evaluated with mAP', async () => {
    const { trainingUid, request } = await detectTrainingSentToTrainer('remote-det-ok', 'rd-1');
    expect(request).toMatchObject({
      trainingUid,
      task: 'detect',
      labels: ['green_light', 'red_light'],
      hyperparameters: HP,
      detector: { imageSize: 64, classNames: ['green_light', 'red_light'], format: 'ultralytics-onnx' },
    });

    const res = await complete('rd-1', trainingUid, perfect());
    expect(res.status).toBe(200);
    const { modelId } = (await res.json()) as { modelId: string };
    const model = await ds().manager.findOneByOrFail(Model, { id: modelId });
    // The file is the truth: its classes in its order, its input size; the callback's labels/inputShape are not used.
    expect(model.task).toBe('detect');
    expect(model.labels).toEqual(['red_light', 'green_light']);
    expect(model.inputShape).toEqual([1, 3, 64, 64]);
    expect(model.runtime).toMatchObject({
      task: 'detect',
      inputSize: { height: 64, width: 64 },
      classNames: ['red_light', 'green_light'],
      postprocess: { output: { name: 'output0', shape: [1, 6, 2] } },
    });

    const evaluation = await waitFor('completed evaluation', () => ds().manager.findOne(Evaluation, { where: { modelId, status: 'completed' } }), 30_000);
    const metrics = evaluation.metrics as Record<string, any>;
    expect(metrics).toMatchObject({ task: 'detect', images: 2, detections: 4 });
    expect(metrics.AP).toBeCloseTo(1, 6);
    expect(metrics.AP50).toBeCloseTo(1, 6);
    expect(Object.keys(metrics.per_class).sort()).toEqual(['green_light', 'red_light']);
    // What the approval card reads: the version's own metrics.
    const evaluated = await waitFor('model metrics', async () => {
      const m = await ds().manager.findOneByOrFail(Model, { id: modelId });
      return m.metrics ? m : null;
    }, 10_000);
    expect(evaluated.metrics).toMatchObject({ task: 'detect', split: 'test', 'mAP50-95': metrics.AP, mAP50: metrics.AP50 });
    expect(evaluated.status).toBe('pending_approval');
    expect((await ds().manager.findOneByOrFail(ModelTraining, { uid: trainingUid })).status).toBe('trained');
  });

  const refusals: Array<[string, string, () => Uint8Array, RegExp]> = [
    ['a wrong output shape', 'rd-2', () => perfect({ outputDims: [1, 7, 2] }), /not an Ultralytics-layout detector.*output/i],
    ['class names absent from the file', 'rd-3', () => perfect({ props: { names: undefined } }), /not an Ultralytics-layout detector.*names/i],
    ['a class the dataset does not have', 'rd-4', () => perfect({ names: ['red_light', 'blue_thing'] }), /missing from the dataset's categories: blue_thing/],
    ['a label the training asked for missing', 'rd-5', () => tinyDetectorOnnx({ names: ['red_light'], inputSize: [64, 64], n: 1 }), /no class for green_light/],
  ];
  it.each(refusals)('%s: 422 with the reason, the training fails with it (shown in Slack), no model', async (_what, jobId, build, reason) => {
    const { trainingUid } = await detectTrainingSentToTrainer(`remote-det-${jobId}`, jobId);
    slack.reset();

    const res = await complete(jobId, trainingUid, build());
    expect(res.status).toBe(422);
    const body = JSON.stringify(await res.json());
    expect(body).toMatch(reason);

    const t = await ds().manager.findOneByOrFail(ModelTraining, { uid: trainingUid });
    expect(t.status).toBe('failed');
    expect(t.trainingError).toMatch(/^the trained model was refused: /);
    expect(t.trainingError).toMatch(reason);
    expect(t.modelId).toBeNull();
    expect(await ds().manager.countBy(Model, { trainingUid })).toBe(0);

    // The existing failure path: the training's home message (the thread's root) shows the error.
    const updates = await waitFor('the card showing the refusal', async () => {
      const u = slack.of('chat.update').filter((c) => c.body.channel === 'CTRAIN' && JSON.stringify(c.body.blocks).includes('refused'));
      return u.length ? u : null;
    }, 10_000);
    expect(JSON.stringify(updates.at(-1)!.body.blocks)).toMatch(/Error:.*the trained model was refused/);

    // A repeat of the callback changes nothing.
    const again = await complete(jobId, trainingUid);
    expect(await again.json()).toEqual({ status: 'duplicate' });
    expect(await ds().manager.countBy(Model, { trainingUid })).toBe(0);
  });
});
