// Messages people can read, driven the way Slack does: option labels cut at 75 characters keep
// the kit id; options show their Salesforce names (keys second); a new lineage is named by what it
// serves and editable in the wizard; the card compares quality metrics only with the previous version.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { blockAction, interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { ModelTraining, TrainingLineage } from '../../src/db/entities/index.js';
import { createTraining } from '../../src/services/training-service.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { transition } from '../../src/services/transitions.js';
import { systemActor } from '../../src/services/audit.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;
const LONG = 'Very long kit name from Salesforce that goes on and on about the panel it reads';

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(SLACK_ENV, { worker: false });
  s = await seeded(m());
  for (const id of ['KIT-LONG-1', 'KIT-LONG-2']) {
    const [row] = await m().query(`INSERT INTO test_types (kit_id, kit_name) VALUES ($1, $2) RETURNING id`, [id, LONG]);
    await m().query(`INSERT INTO test_type_ai_options (test_type_id, ai_option_uid) SELECT $1, uid FROM ai_options WHERE name IN ('stop_sign')`, [row.id]);
  }
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

const submit = (callbackId: string, sessionId: string, values: Record<string, Record<string, unknown>>, blocks?: { type: string; block_id: string }[]) =>
  interaction(assay.url, viewSubmission({ callbackId, privateMetadata: sessionId, values, user: 'UREQUESTER', ...(blocks ? { blocks } : {}) }));

async function wizardToDataset(kits: string[], options: string[]) {
  slack.reset();
  await slashCommand(assay.url, 'train', 'UREQUESTER');
  const [upd] = await slack.waitFor('views.update');
  const sid = upd!.body.view.private_metadata as string;
  const step2 = await submit('wizard_kits', sid, { kits: { kits: { type: 'multi_static_select', selected_options: kits.map((k) => ({ value: s.kit(k).id })) } } });
  const step3 = await submit('wizard_options', sid, { options: { options: { type: 'checkboxes', selected_options: options.map((o) => ({ value: s.option(o).uid })) } } });
  expect(step3.json.view.callback_id).toBe('wizard_dataset');
  return { sid, kitsView: upd!.body.view, optionsView: step2.json.view, datasetView: step3.json.view };
}

const datasetValues = (name: string, extra: Record<string, Record<string, unknown>> = {}) => ({
  dataset_name: { value: { type: 'plain_text_input', value: name } },
  dataset_url: { value: { type: 'url_text_input', value: 'https://data.example.com/coco.json' } },
  ...extra,
});

describe('option labels and names', () => {
  it('kits with long names keep their ids at 75 characters; options show Salesforce names, keys second', async () => {
    const { kitsView, optionsView } = await wizardToDataset(['4567', '589'], ['red_light', 'green_light']);
    const kitTexts: string[] = kitsView.blocks.find((b: any) => b.block_id === 'kits').element.options.map((o: any) => o.text.text);
    const long = kitTexts.filter((t) => t.startsWith('Very long kit name'));
    expect(long).toHaveLength(2);
    for (const t of long) expect([...t].length).toBeLessThanOrEqual(75);
    expect(long.some((t) => t.endsWith('… (KIT-LONG-1)'))).toBe(true);
    expect(long.some((t) => t.endsWith('… (KIT-LONG-2)'))).toBe(true);

    const optionTexts: string[] = optionsView.blocks.find((b: any) => b.block_id === 'options').element.options.map((o: any) => o.text.text);
    expect(optionTexts).toEqual(expect.arrayContaining(['Red indicator light is lit (red_light)', 'Green indicator light is lit (green_light)']));
    expect(JSON.stringify(optionsView.blocks)).toContain('*PR urine*: ');
  });
});

describe('lineage names', () => {
  it('a new lineage is named by its options, editable in the wizard; a bad name is a field error; the next training shows the name', async () => {
    const { sid, datasetView } = await wizardToDataset(['4567', '589'], ['red_light', 'green_light']);
    const nameInput = datasetView.blocks.find((b: any) => b.block_id === 'lineage_name');
    expect(nameInput.element.initial_value).toBe('green_light_red_light');
    expect(nameInput.label.text).toBe('Model name');
    const blocks = datasetView.blocks.filter((b: any) => b.type === 'input');

    const bad = await submit('wizard_dataset', sid, datasetValues('ds-lineage-1', { lineage_name: { value: { type: 'plain_text_input', value: 'Traffic Lights!' } } }), blocks);
    expect(bad.json.response_action).toBe('errors');
    expect(bad.json.errors.lineage_name).toMatch(/lowercase letters, digits and "_"/);
    expect(await m().count(TrainingLineage)).toBe(0);

    const ok = await submit('wizard_dataset', sid, datasetValues('ds-lineage-1', { lineage_name: { value: { type: 'plain_text_input', value: 'traffic_lights' } } }), blocks);
    expect(ok.json.response_action).toBe('update');
    const training = await m().findOneByOrFail(ModelTraining, { datasetName: 'ds-lineage-1' });
    expect((await m().findOneByOrFail(TrainingLineage, { id: training.lineageId })).name).toBe('traffic_lights');

    // A kit with the same options trains into that lineage: its name is shown, not asked again.
    const again = await wizardToDataset(['678'], ['red_light', 'green_light']);
    expect(again.datasetView.blocks.find((b: any) => b.block_id === 'lineage_name')).toBeUndefined();
    expect(JSON.stringify(again.datasetView.blocks)).toContain('Model: *traffic_lights*');
  });
});

describe('approval card metrics', () => {
  it('compares quality metrics with the previous version; speed and counts are shown without a delta', async () => {
    const created = await createTraining(
      m(),
      { kitIds: [s.kit('2001').id], optionUids: [s.option('stop_sign').uid], datasetName: 'ds-card', dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy: 'UREQUESTER' },
      systemActor,
    );
    const t = created.training!;
    const model = await m().transaction(async (tx) => {
      await transition(tx, 'training', t.uid, 'training', systemActor);
      const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['stop_sign'] }, systemActor);
      await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
      await transition(tx, 'model', made.id, 'evaluating', systemActor);
      const metrics = { accuracy: 0.9, macroF1: 0.85, imagesPerSecond: 512, support: 40, previous: { accuracy: 0.8, macroF1: 0.9, imagesPerSecond: 300, support: 20 } };
      return transition(tx, 'model', made.id, 'pending_approval', systemActor, { metrics } as never);
    });
    const status = await slashCommand(assay.url, `status ${t.uid}`, 'UAPPROVER1');
    const text = JSON.stringify(status.json.blocks);
    expect(text).toContain('*accuracy*: 0.900 (previous 0.800, +0.100)');
    expect(text).toContain('*macroF1*: 0.850 (previous 0.900, -0.050)');
    expect(text).toMatch(/\*imagesPerSecond\*: 512(\\n|")/);
    expect(text).toMatch(/\*support\*: 40(\\n|")/);
    expect(text).not.toMatch(/imagesPerSecond\*: 512 \(previous/);

    await interaction(assay.url, blockAction({ actionId: 'model_details', value: model.id, user: 'UAPPROVER1' }));
    const [details] = await slack.waitFor('views.open');
    expect(JSON.stringify(details!.body.view.blocks)).not.toMatch(/imagesPerSecond\*: 512 \(previous/);
  });

  it('a detector\'s card: mAP50-95, mAP50 and AP per class (Salesforce name, key second) against the previous version', async () => {
    const created = await createTraining(
      m(),
      { kitIds: [s.kit('1001').id], optionUids: [s.option('red_light').uid, s.option('green_light').uid], datasetName: 'ds-det-card', dataset: { source: 'url', uri: 'https://d.example.com/x.json' }, hyperparameters: { epochs: 1, batchSize: 8, learningRate: 0.01, imageSize: 32 }, requestedBy: 'UREQUESTER' },
      systemActor,
    );
    const t = created.training!;
    const per = (AP: number, AP50: number) => ({ category_id: 1, num_gt: 12, num_dets: 20, AP, AP50, AP75: AP, AR100: AP, precision: 0.9, recall: 0.8 });
    const model = await m().transaction(async (tx) => {
      await transition(tx, 'training', t.uid, 'training', systemActor);
      const made = await createModelVersion(tx, { lineageId: created.lineageId, trainingUid: t.uid, labels: ['red_light', 'green_light'] }, systemActor);
      await transition(tx, 'training', t.uid, 'trained', systemActor, { modelId: made.id } as never);
      await transition(tx, 'model', made.id, 'evaluating', systemActor);
      const metrics = {
        task: 'detect', AP: 0.61, AP50: 0.93, AP75: 0.7, images: 18, detections: 300, imagesPerSecond: 40,
        per_class: { red_light: per(0.7, 0.95), green_light: per(0.52, 0.91) },
        previous: { modelId: made.id, modelName: 'x-v1', modelVersion: 1, task: 'detect', AP: 0.55, AP50: 0.95, images: 18, imagesPerSecond: 10, per_class: { red_light: per(0.6, 0.9), green_light: per(0.6, 0.91) } },
      };
      return transition(tx, 'model', made.id, 'pending_approval', systemActor, { metrics } as never);
    });
    const status = await slashCommand(assay.url, `status ${t.uid}`, 'UAPPROVER1');
    const text = JSON.stringify(status.json.blocks);
    expect(text).toContain(JSON.stringify('*mAP50-95*\n0.610  (v1 0.550, +0.060)'));
    expect(text).toContain(JSON.stringify('*mAP50*\n0.930  (v1 0.950, −0.020)'));
    expect(text).toContain(JSON.stringify('*Red indicator light is lit* (`red_light`)\nAP 0.700 (+0.100) · AP50 0.950 (+0.050) · 12 boxes'));
    expect(text).toContain(JSON.stringify('*Green indicator light is lit* (`green_light`)\nAP 0.520 (−0.080) · AP50 0.910 (±0.000) · 12 boxes'));
    expect(text).not.toContain('imagesPerSecond');

    // The model's own status and its Details modal speak the same words, not the 12 COCO keys.
    const byModel = JSON.stringify((await slashCommand(assay.url, `status ${model.id}`, 'UAPPROVER1')).json.blocks);
    await interaction(assay.url, blockAction({ actionId: 'model_details', value: model.id, user: 'UAPPROVER1' }));
    const opened = await slack.waitFor('views.open');
    const details = JSON.stringify(opened.at(-1)!.body.view.blocks);
    for (const shown of [byModel, details]) {
      expect(shown).toContain('*mAP50-95*: 0.610 (previous 0.550, +0.060)');
      expect(shown).toContain('*mAP50*: 0.930 (previous 0.950, -0.020)');
      expect(shown).toContain('• `red_light`: AP 0.700 · AP50 0.950 · precision 0.900 · recall 0.800 · 12 boxes');
      expect(shown).toContain('*Images evaluated*: 18');
      expect(shown).not.toMatch(/\*(per_class|detections|imagesPerSecond)\*/);
    }
  });
});
