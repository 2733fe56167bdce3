// dataset.validate → model.train (remote trainer) → trainer callbacks → model.evaluate, on the
// real server, real database and real Agenda; the dataset host, Slack files and the trainer are nock.
import { afterAll, beforeAll, afterEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { AuditLogEntry, Dataset, Evaluation, Model, ModelTraining } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { pollRemoteTrainings } from '../../src/services/remote-trainer-service.js';
import { requestCancel } from '../../src/services/training-service.js';
import { slackUser } from '../../src/services/audit.js';
import { readArtifact } from '../../src/storage/artifact-store.js';
import { readSnapshot } from '../../src/services/dataset-snapshot.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { coco, png, seedAndTrain, signed, trainingIn } from './pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';

const DATA = 'https://data.example.com';
const TRAINER = 'https://trainer.example.com';
const SECRET = 'trainer-secret-0123456789';
let app: TestAssay;
const ds = () => app.ctx.db.dataSource;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  app = await startTestAssay({
    ASSAY_ALLOW_HTTP_FETCH: 'true',
    ASSAY_ALLOW_PRIVATE_FETCH: 'true',
    DATASET_MAX_BYTES: '200000',
    TRAINER_URL: TRAINER,
    TRAINER_SECRET: SECRET,
  });
});
afterAll(async () => {
  await app?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
afterEach(() => nock.abortPendingRequests());

async function validate(name: string, body: string | Buffer | object, opts: { contentType?: string; images?: Record<string, Buffer | number> } = {}) {
  const path = `/sets/${name}/coco.json`;
  nock(DATA).get(path).reply(200, typeof body === 'object' && !Buffer.isBuffer(body) ? JSON.stringify(body) : body, { 'content-type': opts.contentType ?? 'application/json' });
  for (const [file, img] of Object.entries(opts.images ?? {})) {
    const scope = nock(DATA).get(`/sets/${name}/${file}`);
    if (typeof img === 'number') scope.reply(img);
    else scope.reply(200, img, { 'content-type': 'image/png' });
  }
  const ids = await seedAndTrain(ds(), name, { source: 'url', uri: `${DATA}${path}` }, 'remote');
  await app.ctx.queue.now(JOBS.datasetValidate, ids);
  return ids;
}

async function postCallback(body: object, headers?: Record<string, string>) {
  const text = JSON.stringify(body);
  return fetch(`${app.url}/webhooks/trainer`, { method: 'POST', headers: headers ?? signed(SECRET, text), body: text });
}

describe('dataset.validate', () => {
  it('an invalid dataset gets a report and a failed training, and training never starts', async () => {
    const red = await png({ r: 255, g: 0, b: 0 });
    const doc = coco(['img/1.png', 'img/2.png', 'img/3.png', 'img/4.png', 'img/5.png', 'img/6.png'], { categories: ['red_light', 'blue_thing'] });
    doc.annotations[0]!.bbox = [20, 20, 30, 30]; // out of a 32×32 image
    const ids = await validate('bad-one', doc, { images: { 'img/1.png': red, 'img/2.png': Buffer.from('not a png at all'), 'img/3.png': 404, 'img/4.png': red, 'img/5.png': red, 'img/6.png': red } });
    const t = await trainingIn(ds(), ids.trainingUid, ['failed']);
    const dataset = await ds().manager.findOneByOrFail(Dataset, { id: ids.datasetId });
    expect(dataset.status).toBe('invalid');
    const report = dataset.validationReport as { valid: boolean; errors: { code: string }[]; labels: { missing: string[]; unknownCategories: string[] } };
    expect(report.valid).toBe(false);
    expect(report.errors.map((e) => e.code)).toEqual(expect.arrayContaining(['missing_labels', 'box_out_of_bounds', 'undecodable_images', 'unreachable_images']));
    expect(report.labels).toMatchObject({ missing: ['green_light'], unknownCategories: ['blue_thing'] });
    expect(t.trainingError).toMatch(/^Dataset invalid: .*green_light/);
    expect(dataset.storagePath).toBeNull();
    const { jobs } = await app.ctx.agenda.queryJobs({ name: JOBS.modelTrain, data: { trainingUid: ids.trainingUid } });
    expect(jobs).toHaveLength(0);
  });

  it('bad JSON and a file over the size cap are clear reports, not crashes', async () => {
    const a = await validate('bad-json', '{"images": [', {});
    expect((await trainingIn(ds(), a.trainingUid, ['failed'])).trainingError).toMatch(/not valid JSON/);
    const b = await validate('huge', Buffer.alloc(300_000, 32), {});
    expect((await trainingIn(ds(), b.trainingUid, ['failed'])).trainingError).toMatch(/200000 byte limit/);
    const c = await validate('not-coco', { images: [{ id: 1 }], annotations: [], categories: [] });
    expect((await trainingIn(ds(), c.trainingUid, ['failed'])).trainingError).toMatch(/not COCO JSON: images\.0\.file_name/);
  });

  it('a cancelled training is not validated', async () => {
    const ids = await seedAndTrain(ds(), 'cancelled-early', { source: 'url', uri: `${DATA}/never.json` }, 'remote');
    await requestCancel(ds().manager, ids.trainingUid, slackUser('U1'), { approvers: new Set(['U1']) });
    await app.ctx.queue.now(JOBS.datasetValidate, ids);
    await waitFor('the dataset.validate job of the cancelled training', async () => (await app.ctx.agenda.queryJobs({ name: JOBS.datasetValidate, data: { trainingUid: ids.trainingUid } })).jobs.find((j) => j.state === 'completed'), 20_000);
    expect((await ds().manager.findOneByOrFail(Dataset, { id: ids.datasetId })).status).toBe('pending');
    expect((await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid })).status).toBe('cancelled');
  });
});

describe('valid dataset → remote trainer → callbacks → evaluation', () => {
  it('snapshots the dataset, sends it to the trainer, applies signed callbacks once, and evaluates the stored artifact', async () => {
    const red = await png({ r: 255, g: 0, b: 0 });
    const green = await png({ r: 0, g: 255, b: 0 });
    const dataUri = `data:image/png;base64,${(await png({ r: 0, g: 0, b: 255 })).toString('base64')}`;
    const files = ['img/1.png', 'img/2.png', dataUri, 'img/4.png', 'img/5.png', 'https://cdn.example.com/6.png'];
    nock('https://cdn.example.com').get('/6.png').reply(200, green, { 'content-type': 'image/png' });
    let submitted: { body: Record<string, unknown>; headers: Record<string, string | string[] | undefined> } | undefined;
    nock(TRAINER)
      .post('/jobs')
      .reply(function (_uri, body) {
        submitted = { body: body as Record<string, unknown>, headers: this.req.headers };
        return [202, { jobId: 'rj-1' }];
      });
    const ids = await validate('good-one', coco(files), { images: { 'img/1.png': red, 'img/2.png': green, 'img/4.png': red, 'img/5.png': green } });

    const t = await trainingIn(ds(), ids.trainingUid, ['training', 'failed']);
    expect(t.status).toBe('training');
    expect(t.remoteJobId).toBe('rj-1');
    const dataset = await ds().manager.findOneByOrFail(Dataset, { id: ids.datasetId });
    expect(dataset.status).toBe('valid');
    expect(dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(dataset.splitCounts).toEqual({ train: 3, val: 1, test: 2 });
    expect(dataset.labelCounts).toMatchObject({ train: { red_light: 3, green_light: 3 }, test: { red_light: 2, green_light: 2 } });
    const snapshot = await readSnapshot(app.ctx.artifacts, dataset.storagePath!);
    expect(snapshot.images).toHaveLength(6);
    expect((await readArtifact(app.ctx.artifacts, snapshot.images[0]!.artifact)).equals(red)).toBe(true);
    expect(snapshot.images[2]!.file_name).toBe(snapshot.images[2]!.artifact); // data URI not repeated

    // The trainer request is signed, and its dataset link serves a COCO file of image links.
    expect(submitted!.body).toMatchObject({ trainingUid: ids.trainingUid, task: 'classify', labels: ['green_light', 'red_light'], datasetSha256: dataset.sha256, callbackUrl: expect.stringMatching(/\/webhooks\/trainer$/) });
    expect(submitted!.body.detector).toBeUndefined();
    expect(submitted!.headers['x-assay-signature']).toEqual(signed(SECRET, JSON.stringify(submitted!.body), Number(submitted!.headers['x-assay-timestamp']))['x-assay-signature']);
    const link = new URL(String(submitted!.body.datasetUrl));
    const served = await fetch(`${app.url}${link.pathname}${link.search}`);
    expect(served.status).toBe(200);
    const trainerCoco = (await served.json()) as { images: { file_name: string }[] };
    const imageLink = new URL(trainerCoco.images[0]!.file_name);
    expect(Buffer.from(await (await fetch(`${app.url}${imageLink.pathname}${imageLink.search}`)).arrayBuffer()).equals(red)).toBe(true);
    expect((await fetch(`${app.url}${link.pathname}?expires=${link.searchParams.get('expires')}&sig=${'0'.repeat(64)}`)).status).toBe(403);

    // Progress, then refusals: bad signature, stale timestamp, unknown job.
    const progress = { type: 'progress', jobId: 'rj-1', trainingUid: ids.trainingUid, epoch: 1, totalEpochs: 2, loss: 0.7, accuracy: 0.5 };
    expect((await postCallback(progress)).status).toBe(200);
    const afterProgress = await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid });
    expect(afterProgress).toMatchObject({ currentEpoch: 1, progress: 0.5 });
    const text = JSON.stringify({ ...progress, epoch: 2 });
    expect((await postCallback({ ...progress, epoch: 2 }, { ...signed(SECRET, text), 'x-assay-signature': `sha256=${'a'.repeat(64)}` })).status).toBe(401);
    expect((await postCallback({ ...progress, epoch: 2 }, signed(SECRET, text, Math.floor(Date.now() / 1000) - 600))).status).toBe(401);
    expect((await postCallback({ ...progress, epoch: 2 }, signed('another-secret-xxxxxxxx', text))).status).toBe(401);
    expect((await postCallback({ ...progress, jobId: 'rj-unknown' })).status).toBe(404);
    expect((await postCallback({ type: 'progress' })).status).toBe(400);
    expect((await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid })).currentEpoch).toBe(1);

    // Completion: the artifact is downloaded, hashed and stored; a duplicate changes nothing.
    const onnx = Buffer.from('these bytes are not an ONNX model');
    nock(TRAINER).get('/artifacts/rj-1.onnx').reply(200, onnx, { 'content-type': 'application/octet-stream' });
    const done = { type: 'completed', jobId: 'rj-1', trainingUid: ids.trainingUid, artifactUrl: `${TRAINER}/artifacts/rj-1.onnx`, beamModelPath: 'beam://models/rj-1' };
    const first = await postCallback(done);
    expect(first.status).toBe(200);
    const { modelId } = (await first.json()) as { modelId: string };
    const again = await postCallback(done);
    expect(await again.json()).toEqual({ status: 'duplicate', modelId });
    const model = await ds().manager.findOneByOrFail(Model, { id: modelId });
    expect(model.s3ModelPath).toMatch(/^models\/[0-9a-f]{64}\.onnx$/);
    expect(model.beamModelPath).toBe('beam://models/rj-1');
    expect((await readArtifact(app.ctx.artifacts, model.s3ModelPath!)).equals(onnx)).toBe(true);
    expect(await ds().manager.countBy(Model, { trainingUid: ids.trainingUid })).toBe(1);
    expect((await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid })).status).toBe('trained');

    // Evaluation runs exactly the stored bytes: they are corrupt, so it fails clearly and the model stays a draft.
    const evaluation = await waitFor('failed evaluation', () => ds().manager.findOneBy(Evaluation, { modelId, status: 'failed' }), 20_000);
    expect(evaluation.error).toMatch(/CorruptArtifactError/);
    expect((await ds().manager.findOneByOrFail(Model, { id: modelId })).status).toBe('draft');
    const audit = await ds().manager.findBy(AuditLogEntry, { entityId: modelId });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['model.created', 'model.evaluating', 'model.draft']));
  });

  it('a lost callback is covered by polling the trainer', async () => {
    nock(TRAINER).post('/jobs').reply(202, { jobId: 'rj-2' });
    const red = await png({ r: 250, g: 10, b: 10 });
    const files = ['a.png', 'b.png', 'c.png', 'd.png', 'e.png', 'f.png'];
    const ids = await validate('lost-callback', coco(files), { images: Object.fromEntries(files.map((f) => [f, red])) });
    await trainingIn(ds(), ids.trainingUid, ['training']);
    nock(TRAINER).get('/jobs/rj-2').reply(200, { jobId: 'rj-2', status: 'failed', error: 'GPU fell over' });
    expect(await pollRemoteTrainings(app.ctx, 0)).toBeGreaterThanOrEqual(1);
    const t = await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid });
    expect(t.status).toBe('failed');
    expect(t.trainingError).toBe('remote trainer failed: GPU fell over');
  });
});
