// The dataset report as a person reads it: a training is created through the Slack wizard with an
// uploaded COCO file full of problems, the real dataset.validate job checks it, and the training's
// thread gets Block Kit — a table of images/boxes per split and label, errors then warnings as
// bullets (the first few, "and N more"), a pointer to /assay status — within Slack's limits.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { ModelTraining } from '../../src/db/entities/index.js';
import { png, trainingIn } from '../jobs/pipeline-helpers.js';

let assay: TestAssay;
let server: http.Server;
let base: string;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;

/** 10 images (two 404), boxes outside their image, dangling and duplicate ids, an unknown category. */
function brokenCoco() {
  const splits = ['train', 'train', 'train', 'train', 'train', 'train', 'val', 'test', 'test', 'test'];
  const images = splits.map((split, i) => ({ id: i + 1, file_name: `${base}/${i + 1}.png`, width: i === 0 ? 64 : 32, height: i === 0 ? 64 : 32, split }));
  images.push({ ...images[1]!, file_name: `${base}/2.png` }); // duplicate image id 2
  const annotations = images.slice(0, 10).flatMap((im) => [
    { id: im.id * 10 + 1, image_id: im.id, category_id: 1, bbox: [2, 2, 10, 10] },
    { id: im.id * 10 + 2, image_id: im.id, category_id: im.id % 2 ? 2 : 3, bbox: [16, 2, 10, 10] },
  ]);
  for (let i = 0; i < 8; i++) annotations.push({ id: 500 + i, image_id: 3, category_id: 2, bbox: [30, 30, 20, 20] }); // outside
  for (let i = 0; i < 3; i++) annotations.push({ id: 600 + i, image_id: 999, category_id: 1, bbox: [1, 1, 2, 2] }); // dangling
  return { images, annotations, categories: [{ id: 1, name: 'red_light' }, { id: 2, name: 'green_light' }, { id: 3, name: 'stray <b>&category' }] };
}

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  const image = await png({ r: 200, g: 30, b: 30 });
  server = http.createServer((req, res) => {
    if (req.url === '/9.png' || req.url === '/10.png') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'image/png' }).end(image);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  assay = await startTestAssay({ ...SLACK_ENV, ASSAY_ALLOW_HTTP_FETCH: 'true', ASSAY_ALLOW_PRIVATE_FETCH: 'true' });
  s = await seeded(assay.ctx.db.dataSource.manager);
  // The upload lives on Slack's file host (the bot token goes nowhere else); its images on the local server.
  nock('https://files.slack.com').persist().get('/files-pri/T1-FBROKEN/download/lights.coco.json').reply(200, () => JSON.stringify(brokenCoco()), { 'content-type': 'application/json' });
  slack = mockSlackApi({ 'files.info': (b) => ({ file: { id: b.file, name: 'lights.coco.json', size: 4096, mimetype: 'application/json', url_private_download: 'https://files.slack.com/files-pri/T1-FBROKEN/download/lights.coco.json' } }) });
});
afterAll(async () => {
  await assay.stop();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  nock.cleanAll();
  nock.enableNetConnect();
});

const texts = (blocks: any[]) => blocks.flatMap((b) => [b.text?.text, ...(b.elements ?? []).map((e: any) => e.text)]).filter(Boolean) as string[];

describe('dataset report in the training thread', () => {
  let uid: string;

  it('is Block Kit: table per split and label, errors then warnings (first few, and N more), a pointer to the full report', async () => {
    await slashCommand(assay.url, 'train', 'UREQUESTER');
    const [upd] = await slack.waitFor('views.update');
    const sid = upd!.body.view.private_metadata;
    const submit = (callbackId: string, values: Record<string, Record<string, unknown>>, blocks?: any[]) =>
      interaction(assay.url, viewSubmission({ callbackId, privateMetadata: sid, values, ...(blocks ? { blocks } : {}) }));
    await submit('wizard_kits', { kits: { kits: { type: 'multi_static_select', selected_options: [{ value: s.kit('4567').id }] } } });
    const step = await submit('wizard_options', { options: { options: { type: 'checkboxes', selected_options: [{ value: s.option('red_light').uid }, { value: s.option('green_light').uid }] } } });
    const inputs = step.json.view.blocks.filter((b: any) => b.type === 'input');
    const done = await submit('wizard_dataset', { dataset_name: { value: { type: 'plain_text_input', value: 'broken-lights' } }, dataset_file: { file: { type: 'file_input', files: [{ id: 'FBROKEN' }] } } }, inputs);
    expect(done.json.response_action).toBe('update');
    uid = (await assay.ctx.db.dataSource.manager.findOneByOrFail(ModelTraining, { datasetName: 'broken-lights' })).uid;

    const thread = await waitFor('the report in the thread', () => slack.of('chat.postMessage').find((c) => c.body.thread_ts), 120_000);
    const blocks = thread.body.blocks as any[];
    expect(thread.body.text).toBe('Dataset failed validation; training will not start.');
    expect(blocks.length).toBeLessThanOrEqual(50);
    for (const t of texts(blocks)) expect(t.length).toBeLessThanOrEqual(3000);
    const all = texts(blocks).join('\n');
    expect(all).not.toMatch(/"code":|\{"/); // no raw JSON

    // The table: one row per label, images/boxes per split, and the images per split.
    const table = texts(blocks).find((t) => t.includes('```'))!;
    expect(table).toMatch(/label\s+train\s+val\s+test/);
    expect(table).toMatch(/green_light\s+3\/3\s+1\/1\s+1\/1/); // image 3 also holds 8 boxes outside it: not counted
    expect(table).toMatch(/red_light\s+6\/6\s+1\/1\s+3\/3/);
    expect(table).toMatch(/all images\s+7\s+1\s+3/);

    // Errors first, then warnings; the first three errors of four, then "and 1 more error".
    const errorsAt = all.indexOf('*Errors (4)*');
    const warningsAt = all.indexOf('*Warnings (2)*');
    expect(errorsAt).toBeGreaterThan(-1);
    expect(warningsAt).toBeGreaterThan(errorsAt);
    const errorLines = all.slice(errorsAt, warningsAt).split('\n').filter((l) => l.startsWith('• '));
    expect(errorLines).toHaveLength(3);
    expect(all).toContain('…and 1 more error.');
    expect(all).toMatch(/3 annotation\(s\) refer to a missing image or category — e\.g\. annotation 600: .*; annotation 601: .* and 1 more/);
    expect(all).not.toContain('outside their image'); // the fourth error: in the full report
    // Text from the dataset is escaped, not formatted.
    expect(all).toContain('stray &lt;b&gt;&amp;category');
    expect(all).not.toContain('stray <b>');
    expect(texts(blocks).at(-1)).toBe(`Every problem with its examples: \`/assay status ${uid}\``);
  }, 180_000);

  it('/assay status <training> shows the whole report', async () => {
    await trainingIn(assay.ctx.db.dataSource, uid, ['failed']);
    const r = await slashCommand(assay.url, `status ${uid}`, 'UREQUESTER');
    const all = texts(r.json.blocks).join('\n');
    expect(r.json.blocks.length).toBeLessThanOrEqual(50);
    expect(all.slice(all.indexOf('*Errors (4)*')).split('\n').filter((l) => l.startsWith('• ')).length).toBe(6); // 4 errors, 2 warnings
    expect(all).toMatch(/2 image\(s\) could not be fetched/);
    expect(all).toMatch(/8 box\(es\) are empty or outside their image — e\.g\. (annotation 50\d: [^;]*; ){4}annotation 50\d: .* and 3 more/); // 5 examples kept
    expect(all).not.toContain('/assay status');
  });
});
