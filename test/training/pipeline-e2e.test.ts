// End to end with the in-process trainer: a synthetic kit served by URL → dataset.validate →
// model.train (tfjs, tiny epochs) → model.evaluate on the stored ONNX; and a cancel mid-training.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import crypto from 'node:crypto';
import nock from 'nock';
import { Evaluation, Model, ModelTraining } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { slackUser } from '../../src/services/audit.js';
import { requestCancel } from '../../src/services/training-service.js';
import { readArtifact } from '../../src/storage/artifact-store.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { generateSyntheticKit } from '../helpers/synthetic-kit.js';
import { seedAndTrain, trainingIn } from '../jobs/pipeline-helpers.js';
import { waitFor } from '../helpers/wait.js';

const DATA = 'https://kits.example.com';
let app: TestAssay;
const ds = () => app.ctx.db.dataSource;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  app = await startTestAssay({ ASSAY_ALLOW_HTTP_FETCH: 'true', ASSAY_ALLOW_PRIVATE_FETCH: 'true' });
  const kit = await generateSyntheticKit({ seed: 7, images: 60, size: 64 });
  nock(DATA).persist().get('/kit/coco.json').reply(200, JSON.stringify(kit.coco), { 'content-type': 'application/json' });
  for (const [file, bytes] of kit.png) nock(DATA).persist().get(`/kit/${file}`).reply(200, bytes, { 'content-type': 'image/png' });
});
afterAll(async () => {
  await app?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('in-process training pipeline', () => {
  it('validates, trains, stores the ONNX, evaluates exactly that artifact, and waits for approval', async () => {
    const ids = await seedAndTrain(ds(), 'synthetic-kit', { source: 'url', uri: `${DATA}/kit/coco.json` }, 'tfjs', { epochs: 3, batchSize: 16, learningRate: 0.01, imageSize: 16, seed: 1 });
    const progress: number[] = [];
    app.ctx.events.on('training.progress', (p) => void (p.trainingUid === ids.trainingUid && progress.push(p.epoch)));
    await app.ctx.queue.now(JOBS.datasetValidate, ids);

    const t = await trainingIn(ds(), ids.trainingUid, ['trained', 'failed', 'cancelled'], 80_000);
    expect(t.trainingError).toBeNull();
    expect(t.status).toBe('trained');
    expect(t).toMatchObject({ currentEpoch: 3, progress: 1 });
    expect(t.metrics.map((m) => m.epoch)).toEqual([1, 2, 3]);
    expect(progress).toEqual([1, 2, 3]);
    expect(t.trainingLogs).toMatch(/Dataset valid: 60 images/);

    const model = await ds().manager.findOneByOrFail(Model, { id: t.modelId! });
    const bytes = await readArtifact(app.ctx.artifacts, model.s3ModelPath!);
    expect(crypto.createHash('sha256').update(bytes).digest('hex')).toBe(model.artifactSha256);
    expect(Number(model.artifactSize)).toBe(bytes.length);
    expect(model.labels).toEqual(['green_light', 'red_light']);
    expect(model.hyperparametersUid).toBe(t.hyperparametersUid);

    const approved = await waitFor('evaluation', async () => {
      const m = await ds().manager.findOneByOrFail(Model, { id: model.id });
      return m.status === 'pending_approval' || m.status === 'draft' && (await ds().manager.countBy(Evaluation, { modelId: model.id, status: 'failed' })) ? m : null;
    }, 30_000);
    expect(approved.status).toBe('pending_approval');
    const evaluation = await ds().manager.findOneByOrFail(Evaluation, { modelId: model.id });
    expect(evaluation.status).toBe('completed');
    expect(approved.metrics).toMatchObject({ accuracy: expect.any(Number), macroF1: expect.any(Number), artifactSha256: model.artifactSha256, previous: null, evaluationUid: evaluation.uid });
  }, 90_000);

  it('a cancel during training stops it between batches and records where it stopped', async () => {
    const ids = await seedAndTrain(ds(), 'synthetic-kit-cancel', { source: 'url', uri: `${DATA}/kit/coco.json` }, 'tfjs', { epochs: 200, batchSize: 16, learningRate: 0.01, imageSize: 16, seed: 2 });
    await app.ctx.queue.now(JOBS.datasetValidate, ids);
    await waitFor('first epoch', async () => (await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid })).currentEpoch >= 1, 60_000);
    await requestCancel(ds().manager, ids.trainingUid, slackUser('U1'), { approvers: new Set(['U1']) });
    const t = await trainingIn(ds(), ids.trainingUid, ['cancelled', 'trained', 'failed'], 20_000);
    expect(t.status).toBe('cancelled');
    expect(t.currentEpoch).toBeLessThan(200);
    expect(t.modelId).toBeNull();
    expect(t.trainingLogs).toMatch(/cancelled on request after epoch \d+ of 200/);
  }, 90_000);
});
