// Finding 1 of the adversarial review: a 16383×16383 PNG of ~260 KB decodes to ~270 MB (a
// gigabyte in RGBA). Its size is read from the header and it is refused without decoding; the
// dataset becomes invalid with the reason and the worker keeps serving; a dataset whose
// validation keeps killing the worker is given up on (and marked invalid), not resumed forever.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { decodeImage, ImageSourceError } from '../../src/datasets/image-source.js';
import { Dataset, ModelTraining } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { beginValidation, MAX_RESUMES } from '../../src/services/training-run-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { pngBomb } from '../helpers/png-bomb.js';
import { coco, png, seedAndTrain, trainingIn } from '../jobs/pipeline-helpers.js';

const DATA = 'https://bombs.example.com';
let app: TestAssay;
let bomb: Buffer;
const ds = () => app.ctx.db.dataSource;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect(/127\.0\.0\.1|localhost/);
  bomb = await pngBomb();
  app = await startTestAssay({ ASSAY_ALLOW_HTTP_FETCH: 'true', ASSAY_ALLOW_PRIVATE_FETCH: 'true', TRAINER_URL: 'https://trainer.example.com', TRAINER_SECRET: 'trainer-secret-0123456789' });
});
afterAll(async () => {
  await app?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
afterEach(() => nock.abortPendingRequests());

describe('image pixel limit', () => {
  it('a 16383×16383 PNG is refused from its header, without decoding', async () => {
    expect(bomb.length).toBeLessThan(1_000_000);
    const before = process.memoryUsage().rss;
    const started = Date.now();
    const err = await decodeImage(bomb, { maxPixels: 40_000_000, concurrency: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageSourceError);
    expect(err).toMatchObject({ reason: 'too_large', message: expect.stringMatching(/16383×16383 is 268\.4 megapixels, more than the 40\.0 megapixels limit/) });
    // Decoding it would have taken hundreds of megabytes and seconds.
    expect(Date.now() - started).toBeLessThan(1000);
    expect(process.memoryUsage().rss - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('an image within the limit still decodes with its size; a truncated one does not', async () => {
    const ok = await png({ r: 1, g: 2, b: 3 }, 40);
    await expect(decodeImage(ok, { maxPixels: 1600, concurrency: 1 })).resolves.toEqual({ width: 40, height: 40, format: 'png' });
    await expect(decodeImage(ok, { maxPixels: 1599, concurrency: 1 })).rejects.toMatchObject({ reason: 'too_large' });
    const big = await pngBomb(600, 600);
    await expect(decodeImage(big.subarray(0, big.length - 40), { maxPixels: 1e6, concurrency: 1 })).rejects.toMatchObject({ reason: 'undecodable' });
  });

  it('a dataset holding the bomb (as a URL and as a data URI) is invalid with the reason, and the worker keeps serving', async () => {
    const red = await png({ r: 255, g: 0, b: 0 });
    const files = ['img/1.png', 'img/2.png', `data:image/png;base64,${bomb.toString('base64')}`, 'img/4.png', 'img/5.png', 'img/6.png'];
    nock(DATA).get('/bomb/coco.json').reply(200, JSON.stringify(coco(files)), { 'content-type': 'application/json' });
    nock(DATA).get('/bomb/img/1.png').reply(200, bomb, { 'content-type': 'image/png' });
    for (const f of ['2', '4', '5', '6']) nock(DATA).get(`/bomb/img/${f}.png`).reply(200, red, { 'content-type': 'image/png' });
    const ids = await seedAndTrain(ds(), 'bomb-set', { source: 'url', uri: `${DATA}/bomb/coco.json` }, 'remote');
    await app.ctx.queue.now(JOBS.datasetValidate, ids);
    const t = await trainingIn(ds(), ids.trainingUid, ['failed', 'training'], 30_000);
    expect(t.status).toBe('failed');
    expect(t.trainingError).toMatch(/2 image\(s\) have more pixels than allowed: 16383×16383 is 268\.4 megapixels/);
    const dataset = await ds().manager.findOneByOrFail(Dataset, { id: ids.datasetId });
    expect(dataset.status).toBe('invalid');
    const report = dataset.validationReport as { errors: { code: string; examples: string[] }[] };
    expect(report.errors.find((e) => e.code === 'oversized_images')?.examples).toEqual([expect.stringMatching(/^image 1: /), expect.stringMatching(/^image 3: /)]);

    // Same worker, next dataset: validated normally.
    nock(DATA).get('/fine/coco.json').reply(200, JSON.stringify(coco(['1.png', '2.png', '3.png', '4.png', '5.png', '6.png'])), { 'content-type': 'application/json' });
    nock(DATA).get(/\/fine\/\d\.png/).times(6).reply(200, red, { 'content-type': 'image/png' });
    nock('https://trainer.example.com').post('/jobs').reply(202, { jobId: 'after-bomb' });
    const next = await seedAndTrain(ds(), 'after-bomb', { source: 'url', uri: `${DATA}/fine/coco.json` }, 'remote');
    await app.ctx.queue.now(JOBS.datasetValidate, next);
    expect((await trainingIn(ds(), next.trainingUid, ['training', 'failed'], 30_000)).status).toBe('training');
    expect((await ds().manager.findOneByOrFail(Dataset, { id: next.datasetId })).status).toBe('valid');
  });

  it('a validation that keeps stopping the worker is given up on and its dataset marked invalid', async () => {
    const ids = await seedAndTrain(ds(), 'crashy-set', { source: 'url', uri: `${DATA}/never.json` }, 'remote');
    await ds().transaction((tx) => transition(tx, 'training', ids.trainingUid, 'validating', systemActor));
    // Each call is what the next worker does when it finds the training still 'validating'.
    for (let i = 0; i < MAX_RESUMES; i++) expect(await beginValidation(ds(), ids.trainingUid, ids.datasetId)).toBe('resumed');
    expect(await beginValidation(ds(), ids.trainingUid, ids.datasetId)).toBe('skip');
    const t = await ds().manager.findOneByOrFail(ModelTraining, { uid: ids.trainingUid });
    expect(t).toMatchObject({ status: 'failed', trainingError: `worker stopped during validating ${MAX_RESUMES + 1} times; giving up` });
    const dataset = await ds().manager.findOneByOrFail(Dataset, { id: ids.datasetId });
    expect(dataset.status).toBe('invalid');
    expect((dataset.validationReport as { summary: string }).summary).toMatch(/stopped the worker 3 times/);
  });
});
