// /assay import over signed HTTP: the modal, field errors before the ack (missing pieces, a file
// over the limit, a non-conforming ONNX served by files.slack.com), a refusal after the ack
// (classes absent from the dataset: thread reply, nothing created), and a good import whose
// message becomes the model's card with "evaluation is running" in the thread and the job queued.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import nock from 'nock';
import { readLocalCocoDocument } from '../../src/datasets/local-dataset.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { seeded } from '../helpers/factories.js';
import { tinyDetectorOnnx } from '../helpers/detector-onnx.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';

const CASE = path.resolve('test/fixtures/detect-eval/case_public');

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
let goodModel: Buffer;
let datasetJson: Buffer;

const FILES: Record<string, { name: string; size?: number }> = {
  FGOOD: { name: 'best.onnx' },
  FWRONG: { name: 'wrong.onnx' },
  FODD: { name: 'odd.onnx' },
  FHUGE: { name: 'huge.onnx', size: 900 * 1024 * 1024 },
  FPT: { name: 'best.pt' },
  FDATA: { name: 'coco.json' },
};

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  // Private fetch allowed only so that no real DNS is asked; nock answers files.slack.com.
  assay = await startTestAssay({ ...SLACK_ENV, ASSAY_ALLOW_PRIVATE_FETCH: 'true' }, { worker: false });
  s = await seeded(assay.ctx.db.dataSource.manager);
  goodModel = await readFile(path.join(CASE, 'model.onnx'));
  datasetJson = (await readLocalCocoDocument(path.join(CASE, 'dataset/coco.json'))).bytes;
}, 60_000);
afterAll(async () => {
  await assay?.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
beforeEach(() => {
  nock.cleanAll();
  slack = mockSlackApi({
    'files.info': (b) => {
      const f = FILES[b.file as string]!;
      return { file: { id: b.file, name: f.name, size: f.size ?? 1000, url_private_download: `https://files.slack.com/files-pri/T1-${b.file}/download/${f.name}` } };
    },
  });
});

/** files.slack.com serves the upload, only to the bot token. */
function slackFile(id: string, body: Buffer, type = 'application/octet-stream') {
  return nock('https://files.slack.com', { reqheaders: { authorization: `Bearer ${SLACK_ENV.SLACK_BOT_TOKEN}` } })
    .get(`/files-pri/T1-${id}/download/${FILES[id]!.name}`)
    .reply(200, body, { 'content-type': type });
}

const multi = (values: string[]) => ({ v: { type: 'multi_static_select', selected_options: values.map((value) => ({ value })) } });
const files = (ids: string[]) => ({ file: { type: 'file_input', files: ids.map((id) => ({ id })) } });

function values(over: Record<string, Record<string, unknown>> = {}) {
  return {
    kits: multi([s.kit('4567').id]),
    options: multi([]),
    model_file: files(['FGOOD']),
    dataset_file: files(['FDATA']),
    dataset_url: { value: { type: 'url_text_input', value: null } },
    lineage_name: { value: { type: 'plain_text_input', value: 'lights_yolo' } },
    ...over,
  };
}

const submit = (v: Record<string, Record<string, unknown>>) => interaction(assay.url, viewSubmission({ callbackId: 'model_import', privateMetadata: 'C_TRAIN', values: v }));

async function counts() {
  const q = async (t: string) => Number((await assay.ctx.db.dataSource.query(`SELECT count(*)::int AS n FROM ${t}`))[0].n);
  const { jobs } = await assay.ctx.agenda.queryJobs({ names: [JOBS.modelEvaluate] });
  return { models: await q('models'), trainings: await q('model_trainings'), datasets: await q('datasets'), lineages: await q('training_lineages'), jobs: jobs.length };
}

describe('/assay import', () => {
  it('opens the import modal with kits, options, model file, dataset and name', async () => {
    const r = await slashCommand(assay.url, 'import');
    expect(r.status).toBe(200);
    const [open] = await slack.waitFor('views.open');
    const view = open!.body.view;
    expect(view.callback_id).toBe('model_import');
    expect(view.private_metadata).toBe('C_TRAIN');
    const blocks = Object.fromEntries(view.blocks.filter((b: any) => b.type === 'input').map((b: any) => [b.block_id, b.element]));
    expect(Object.keys(blocks)).toEqual(['kits', 'options', 'model_file', 'dataset_file', 'dataset_url', 'lineage_name']);
    expect(blocks.model_file).toMatchObject({ type: 'file_input', filetypes: ['onnx'], max_files: 1 });
    expect(blocks.kits.options.map((o: any) => o.value)).toContain(s.kit('4567').id);
    expect(blocks.options.options.map((o: any) => o.value)).toEqual(expect.arrayContaining([s.option('red_light').uid, s.option('green_light').uid]));
  });

  it('answers field errors before the ack, creating nothing', async () => {
    const before = await counts();
    const missing = await submit(values({ kits: multi([]), model_file: files([]), dataset_file: files([]) }));
    expect(missing.json.response_action).toBe('errors');
    expect(missing.json.errors).toEqual({ kits: 'Pick at least one kit', model_file: 'Upload one .onnx file', dataset_file: expect.stringMatching(/one uploaded COCO JSON file or as a URL/) });

    const pt = await submit(values({ model_file: files(['FPT']) }));
    expect(pt.json.errors).toEqual({ model_file: 'best.pt is not an .onnx file' });

    const huge = await submit(values({ model_file: files(['FHUGE']) }));
    expect(huge.json.errors.model_file).toMatch(/^The model file is 900 MB; the limit is 200 MB$/);

    // Slack serves the file quickly: its layout is checked before the ack.
    const served = slackFile('FWRONG', Buffer.from(tinyDetectorOnnx({ names: ['red_light', 'green_light'], outputDims: [1, 9, 4] })));
    const wrong = await submit(values({ model_file: files(['FWRONG']) }));
    expect(served.isDone()).toBe(true);
    expect(wrong.json.response_action).toBe('errors');
    expect(wrong.json.errors.model_file).toMatch(/^The model is not an Ultralytics-layout detector \(yolo export format=onnx\): output/);

    const cut = slackFile('FGOOD', goodModel.subarray(0, 5000));
    const truncated = await submit(values());
    expect(cut.isDone()).toBe(true);
    expect(truncated.json.errors.model_file).toMatch(/truncated or not ONNX/);

    expect(slack.of('chat.postMessage')).toHaveLength(0);
    expect(await counts()).toEqual(before);
  });

  it('refuses classes absent from the dataset in the thread, creating nothing', async () => {
    const before = await counts();
    slackFile('FODD', Buffer.from(tinyDetectorOnnx({ names: ['red_light', 'green_light', 'blue_light'] })));
    slackFile('FDATA', datasetJson, 'application/json');
    const r = await submit(values({ model_file: files(['FODD']) }));
    expect(r.json.response_action).toBe('update');
    expect(r.json.view.blocks[0].text.text).toMatch(/Importing \*odd\.onnx\*.*<#C_TRAIN>/);
    const [, reply] = await slack.waitFor('chat.postMessage', 2, 30_000);
    expect(reply!.body).toMatchObject({ channel: 'C_TRAIN', thread_ts: expect.any(String) });
    expect(reply!.body.text).toBe("Import of odd.onnx refused: Model class missing from the dataset's categories: blue_light (the dataset has: yellow_light, red_light, green_light)");
    const [update] = await slack.waitFor('chat.update');
    expect(update!.body.text).toMatch(/^Import of odd\.onnx refused/);
    expect(await counts()).toEqual(before);
  });

  it('imports a conforming file: its message becomes the model card, the thread says evaluation is running', async () => {
    const before = await counts();
    const model = slackFile('FGOOD', goodModel);
    const data = slackFile('FDATA', datasetJson, 'application/json');
    const r = await submit(values());
    expect(r.json.response_action).toBe('update');
    const [home, note] = await slack.waitFor('chat.postMessage', 2, 60_000);
    expect(model.isDone() && data.isDone()).toBe(true);
    expect(home!.body.text).toMatch(/^Importing best\.onnx: checking/);
    expect(note!.body).toMatchObject({ channel: 'C_TRAIN', thread_ts: expect.any(String) });
    expect(note!.body.text).toMatch(/^Imported as lights_yolo_l[0-9a-f]{11}_v1: evaluation is running on 76 test image\(s\)\.$/);

    const [row] = await assay.ctx.db.dataSource.query(
      `SELECT m.id, m.status, t.trainer, t.slack_channel, t.slack_ts, t.requested_by FROM models m JOIN model_trainings t ON t.uid = m.training_uid`,
    );
    expect(row).toMatchObject({ status: 'draft', trainer: 'import', slack_channel: 'C_TRAIN', requested_by: 'UREQUESTER' });
    // The card lives on the import's message: evaluation and approval update it there.
    const homeTs = note!.body.thread_ts;
    expect(row.slack_ts).toBe(homeTs);
    const cards = slack.of('chat.update').filter((c) => c.body.ts === homeTs);
    expect(cards.length).toBeGreaterThan(0);
    expect(JSON.stringify(cards.at(-1)!.body.blocks)).toContain('lights_yolo');
    const { jobs } = await assay.ctx.agenda.queryJobs({ names: [JOBS.modelEvaluate], data: { modelId: row.id } });
    expect(jobs).toHaveLength(1);
    expect(await counts()).toMatchObject({ models: before.models + 1, trainings: before.trainings + 1, datasets: before.datasets + 1, jobs: before.jobs + 1 });
  }, 90_000);
});
