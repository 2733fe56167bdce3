// A detector's preview picture reaches its training's thread through Slack's external upload
// flow: files.getUploadURLExternal (name, length) → the PNG bytes POSTed to the upload URL
// (without the bot token) → files.completeUploadExternal (file id, channel_id, thread_ts); once
// per model; never to a host that is not Slack's file host.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import sharp from 'sharp';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { mockSlackApi, SLACK_ENV } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { Model } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { setTrainingHomeMessage } from '../../src/services/slack-delivery-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';
import { slackSurface } from '../../src/slack/app.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
let png: Buffer;
const m = () => assay.ctx.db.dataSource.manager;
const UPLOAD = 'https://files.slack.com/upload/v1/CwABAAAAXApP';

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(SLACK_ENV, { worker: false });
  s = await seeded(m());
  png = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#ff0000' } }).png().toBuffer();
});
afterAll(async () => {
  await assay.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

let fileId = 0;
beforeEach(() => {
  nock.cleanAll();
  slack = mockSlackApi({ 'files.getUploadURLExternal': () => ({ upload_url: UPLOAD, file_id: `F0PREVIEW${++fileId}` }) });
});

/** A detector version waiting for approval, its training's home message in C_TRAIN at `ts`. */
let made = 0;
async function detectorModel(ts: string | null, name: string) {
  const created = await createTraining(
    m(),
    { ...(made++ ? { versionChoice: 'retrain' as const } : {}), kitIds: [s.kit('1001').id], optionUids: [s.option('red_light').uid], datasetName: name, dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy: 'UREQUESTER' },
    systemActor,
  );
  const t = created.training!;
  const model = await m().transaction(async (tx) => {
    await transition(tx, 'training', t.uid, 'training', systemActor);
    const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['red_light'] }, systemActor);
    await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
    return made;
  });
  if (ts) await setTrainingHomeMessage(m(), t.uid, 'C_TRAIN', ts);
  return m().findOneByOrFail(Model, { id: model.id });
}

function uploadHost(status = 200) {
  const got: { body: Buffer; headers: Record<string, unknown> }[] = [];
  const scope = nock('https://files.slack.com')
    .post('/upload/v1/CwABAAAAXApP')
    .reply(function (_uri, body) {
      got.push({ body: Buffer.from(body as string, 'hex'), headers: this.req.headers });
      return [status, 'OK - 1234'];
    });
  return { got, scope };
}

describe('detection preview in the training thread', () => {
  it('the evaluation\'s preview goes up in three steps, into the training\'s thread, with the PNG bytes and no token', async () => {
    const model = await detectorModel('1700000000.000100', 'ds-preview-1');
    const stored = await assay.ctx.artifacts.put(png, { kind: 'image', extension: 'png' });
    const host = uploadHost();
    assay.ctx.events.emit('evaluation.completed', { modelId: model.id, evaluationUid: 'e1', status: 'completed', metrics: { task: 'detect', AP: 0.5, AP50: 0.9, per_class: {}, previewPath: stored.path } });

    const [complete] = await slack.waitFor('files.completeUploadExternal');
    const methods = slack.calls.map((c) => c.method).filter((x) => x.startsWith('files.'));
    expect(methods).toEqual(['files.getUploadURLExternal', 'files.completeUploadExternal']);
    const [urlCall] = slack.of('files.getUploadURLExternal');
    expect(urlCall!.body).toMatchObject({ filename: `${model.modelName}-v${model.modelVersion}-test-photos.png`, length: String(png.length) });
    expect(host.scope.isDone()).toBe(true);
    expect(host.got).toHaveLength(1);
    expect(host.got[0]!.body.equals(png)).toBe(true);
    expect(host.got[0]!.headers.authorization).toBeUndefined();
    expect(complete!.body.channel_id).toBe('C_TRAIN');
    expect(complete!.body.thread_ts).toBe('1700000000.000100');
    const files = typeof complete!.body.files === 'string' ? JSON.parse(complete!.body.files) : complete!.body.files;
    expect(files).toEqual([{ id: 'F0PREVIEW1', title: `${model.modelName} v${model.modelVersion}: test photos` }]);
    expect(complete!.body.initial_comment).toContain('true boxes in green, predicted boxes in red');
  });

  it('posts once per model; a model without a thread gets nothing', async () => {
    const model = await detectorModel('1700000000.000200', 'ds-preview-2');
    const messages = slackSurface(assay.ctx)!.messages;
    uploadHost();
    expect(await messages.postDetectionPreview(model.id, png)).toBe(true);
    expect(await messages.postDetectionPreview(model.id, png)).toBe(false);
    expect(slack.of('files.completeUploadExternal')).toHaveLength(1);

    const threadless = await detectorModel(null, 'ds-preview-3');
    expect(await messages.postDetectionPreview(threadless.id, png)).toBe(false);
    expect(slack.of('files.getUploadURLExternal')).toHaveLength(1);
  });

  it('sends nothing to an upload URL off Slack\'s file host, and a failed upload can be tried again', async () => {
    const model = await detectorModel('1700000000.000300', 'ds-preview-4');
    const messages = slackSurface(assay.ctx)!.messages;
    nock.cleanAll();
    slack = mockSlackApi({ 'files.getUploadURLExternal': () => ({ upload_url: 'https://evil.example/upload', file_id: 'F0EVIL' }) });
    const evil = nock('https://evil.example').post('/upload').reply(200, 'OK');
    await expect(messages.postDetectionPreview(model.id, png)).rejects.toThrow(/not on Slack's file host \(evil\.example\)/);
    expect(evil.isDone()).toBe(false);
    expect(slack.of('files.completeUploadExternal')).toHaveLength(0);

    nock.cleanAll();
    slack = mockSlackApi({ 'files.getUploadURLExternal': () => ({ upload_url: UPLOAD, file_id: 'F0AGAIN' }) });
    uploadHost(500);
    await expect(messages.postDetectionPreview(model.id, png)).rejects.toThrow(/HTTP 500/);
    expect(slack.of('files.completeUploadExternal')).toHaveLength(0);

    const host = uploadHost();
    expect(await messages.postDetectionPreview(model.id, png)).toBe(true);
    expect(host.got[0]!.body.equals(png)).toBe(true);
    expect(slack.of('files.completeUploadExternal')).toHaveLength(1);
  });
});
