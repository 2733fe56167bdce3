// /assay train end to end over signed HTTP: every step's response_action, every field error,
// the uploaded-file checks (files.info), and what the database holds at the end.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';
import { interaction, mockSlackApi, slashCommand, SLACK_ENV, viewSubmission } from '../helpers/slack.js';
import { seeded } from '../helpers/factories.js';
import { AiOption, Dataset, ModelTraining, TestType, TestTypeAiOption, WizardSession } from '../../src/db/entities/index.js';

let assay: TestAssay;
let slack: ReturnType<typeof mockSlackApi>;
let s: Awaited<ReturnType<typeof seeded>>;
const m = () => assay.ctx.db.dataSource.manager;

beforeAll(async () => {
  nock.disableNetConnect();
  nock.enableNetConnect('127.0.0.1');
  assay = await startTestAssay(SLACK_ENV, { worker: false });
  s = await seeded(m());
});
afterAll(async () => {
  await assay.stop();
  nock.cleanAll();
  nock.enableNetConnect();
});
beforeEach(() => {
  nock.cleanAll();
  slack = mockSlackApi({
    'files.info': (b) =>
      b.file === 'FBIG'
        ? { file: { id: 'FBIG', name: 'coco.json', size: 12 * 1024 * 1024, mimetype: 'application/json', url_private_download: 'https://files.slack.com/big.json' } }
        : b.file === 'FPNG'
          ? { file: { id: 'FPNG', name: 'photo.png', size: 1000, mimetype: 'image/png', url_private_download: 'https://files.slack.com/photo.png' } }
          : { file: { id: b.file, name: 'coco.json', size: 2048, mimetype: 'application/json', url_private_download: `https://files.slack.com/${b.file}.json` } },
  });
});

const submit = (callbackId: string, sessionId: string, values: Record<string, Record<string, unknown>>, user = 'UREQUESTER') =>
  interaction(assay.url, viewSubmission({ callbackId, privateMetadata: sessionId, values, user }));
const multi = (action: string, values: string[]) => ({ [action]: { type: 'multi_static_select', selected_options: values.map((value) => ({ value })) } });
const checks = (values: string[]) => ({ options: { options: { type: 'checkboxes', selected_options: values.map((value) => ({ value })) } } });
const txt = (value: string | null) => ({ value: { type: 'plain_text_input', value } });

async function openWizard(user = 'UREQUESTER'): Promise<string> {
  const r = await slashCommand(assay.url, 'train', user);
  expect(r.status).toBe(200);
  const [update] = await slack.waitFor('views.update');
  const open = slack.of('views.open')[0]!;
  expect(open.body.view.private_metadata).toBe(update!.body.view.private_metadata);
  expect(update!.body.hash).toBeDefined();
  return update!.body.view.private_metadata as string;
}

function datasetValues(over: Record<string, Record<string, unknown>> = {}) {
  return {
    dataset_name: txt('pr-lights-ds1'),
    dataset_file: { file: { type: 'file_input', files: [] } },
    dataset_url: { value: { type: 'url_text_input', value: 'https://data.example.com/coco.json' } },
    hp_epochs: { value: { type: 'number_input', value: '3' } },
    hp_batch_size: { value: { type: 'number_input', value: '16' } },
    hp_learning_rate: { value: { type: 'number_input', value: '0.01' } },
    hp_image_size: { value: { type: 'number_input', value: '32' } },
    ...over,
  };
}

describe('/assay train', () => {
  it('opens the modal at once, lists only kits with selectable options, never proper_lighting', async () => {
    const sessionId = await openWizard();
    const view = slack.of('views.update')[0]!.body.view;
    expect(view.callback_id).toBe('wizard_kits');
    const kitSelect = view.blocks.find((b: any) => b.block_id === 'kits').element;
    expect(kitSelect.type).toBe('multi_static_select');
    const names = kitSelect.options.map((o: any) => o.text.text);
    expect(names).toEqual(expect.arrayContaining(['PR urine (4567)', 'PR DNA urine (678)']));
    expect(await m().countBy(WizardSession, { id: sessionId, status: 'open' })).toBe(1);

    // Step 1 errors: nothing picked.
    const none = await submit('wizard_kits', sessionId, { kits: multi('kits', []) });
    expect(none.json).toEqual({ response_action: 'errors', errors: { kits: 'Pick at least one kit' } });

    // Step 1 → 2
    const step2 = await submit('wizard_kits', sessionId, { kits: multi('kits', [s.kit('4567').id, s.kit('678').id]) });
    expect(step2.json.response_action).toBe('update');
    expect(step2.json.view.callback_id).toBe('wizard_options');
    const optionsText = JSON.stringify(step2.json.view.blocks);
    expect(optionsText).toContain('red_light');
    // Salesforce names first, keys second.
    expect(optionsText).toContain('Yellow indicator light is lit (yellow_light)');
    expect(optionsText).toContain('needs a label name');
    expect(optionsText).not.toContain('proper_lighting');
    expect(optionsText).toContain('PR DNA urine');

    const noOpt = await submit('wizard_options', sessionId, checks([]));
    expect(noOpt.json).toEqual({ response_action: 'errors', errors: { options: 'Pick at least one AI option' } });
    const notSelectable = await submit('wizard_options', sessionId, checks([s.option('proper_lighting').uid]));
    expect(notSelectable.json.errors.options).toMatch(/not selectable/);

    // Step 2 → 3: yellow_light has no label name.
    const step3 = await submit('wizard_options', sessionId, checks([s.option('red_light').uid, s.option('yellow_light').uid]));
    expect(step3.json.view.callback_id).toBe('wizard_labels');
    const labelBlock = `label:${s.option('yellow_light').uid}`;
    expect(step3.json.view.blocks.map((b: any) => b.block_id)).toContain(labelBlock);

    // A label already used by another option is a field error on that exact block.
    const clash = await submit('wizard_labels', sessionId, { [labelBlock]: { label: { type: 'plain_text_input', value: s.option('red_light').labelName } } });
    expect(clash.json.response_action).toBe('errors');
    expect(Object.keys(clash.json.errors)).toEqual([labelBlock]);
    expect(clash.json.errors[labelBlock]).toContain('already the label name of red_light');
    const empty = await submit('wizard_labels', sessionId, { [labelBlock]: { label: { type: 'plain_text_input', value: '  ' } } });
    expect(empty.json.errors[labelBlock]).toBe('Give this option a label name');
    expect((await m().findOneBy(AiOption, { uid: s.option('yellow_light').uid }))!.labelName).toBeNull();

    // Step 3 → 4: saved for everyone.
    const step4 = await submit('wizard_labels', sessionId, { [labelBlock]: { label: { type: 'plain_text_input', value: 'amber light' } } });
    expect(step4.json.view.callback_id).toBe('wizard_dataset');
    expect((await m().findOneBy(AiOption, { uid: s.option('yellow_light').uid }))!.labelName).toBe('amber light');
    const ds = step4.json.view.blocks;
    const generated = ds.find((b: any) => b.block_id === 'dataset_name').element.initial_value;
    expect(generated).toMatch(/^[a-z0-9][a-z0-9_.-]*$/);
    // A new lineage is offered a detector first, with the detector's defaults.
    expect(ds.find((b: any) => b.block_id === 'task').element.initial_option.value).toBe('detect');
    expect(ds.find((b: any) => b.block_id === 'hp_epochs').element.initial_value).toBe('40');
    expect(ds.find((b: any) => b.block_id === 'hp_image_size').element.initial_value).toBe('160');
    expect(ds.find((b: any) => b.block_id === 'dataset_file').element).toMatchObject({ type: 'file_input', max_files: 1 });
    expect(ds.some((b: any) => b.block_id === 'version_choice')).toBe(false);

    // Step 4 field errors, each under its block; nothing created.
    const errs = async (values: Record<string, Record<string, unknown>>) => (await submit('wizard_dataset', sessionId, datasetValues(values))).json;
    expect((await errs({ dataset_name: txt('Bad Name!') })).errors.dataset_name).toMatch(/lowercase/);
    expect((await errs({ dataset_url: { value: { type: 'url_text_input', value: 'http://insecure.example.com/x.json' } } })).errors.dataset_url).toBe('Enter a URL starting with https://');
    expect((await errs({ dataset_url: { value: { type: 'url_text_input', value: null } } })).errors.dataset_url).toMatch(/Upload the dataset JSON/);
    expect((await errs({ hp_epochs: { value: { type: 'number_input', value: '0' } } })).errors).toEqual({ hp_epochs: 'Enter a whole number from 1 to 500' });
    expect((await errs({ hp_batch_size: { value: { type: 'number_input', value: '2.5' } } })).errors).toEqual({ hp_batch_size: 'Enter a whole number from 1 to 1024' });
    expect((await errs({ hp_learning_rate: { value: { type: 'number_input', value: '2' } } })).errors).toEqual({ hp_learning_rate: 'Enter a number above 0 and at most 1' });
    expect((await errs({ hp_image_size: { value: { type: 'number_input', value: '4' } } })).errors).toEqual({ hp_image_size: 'Enter a whole number from 8 to 512' });
    const both = await errs({ dataset_file: { file: { type: 'file_input', files: [{ id: 'FOK1' }] } } });
    expect(both.errors.dataset_url).toBe('Give either an uploaded file or a URL, not both');
    const big = await errs({ dataset_file: { file: { type: 'file_input', files: [{ id: 'FBIG', size: 10 }] } }, dataset_url: { value: { type: 'url_text_input', value: null } } });
    expect(big.errors.dataset_file).toMatch(/12\.0 MB; Slack uploads stop at 10 MB/);
    expect(big.errors.dataset_url).toMatch(/over 10 MB come as a link/);
    const png = await errs({ dataset_file: { file: { type: 'file_input', files: [{ id: 'FPNG' }] } }, dataset_url: { value: { type: 'url_text_input', value: null } } });
    expect(png.errors.dataset_file).toMatch(/not a JSON file/);
    // Two files (a client that ignores max_files): refused before Slack is asked about either.
    expect((await errs({ dataset_file: { file: { type: 'file_input', files: [{ id: 'FOK1' }, { id: 'FOK3' }] } }, hp_epochs: { value: { type: 'number_input', value: '0' } } })).errors).toEqual({ dataset_file: 'Upload one JSON file' });
    expect(slack.of('files.info').map((c) => c.body.file)).toEqual(['FOK1', 'FBIG', 'FPNG']);
    expect(await m().count(ModelTraining)).toBe(0);
    expect(await m().count(Dataset)).toBe(0);

    // The uploaded JSON passes: training + dataset created, home message posted, job queued.
    const done = await submit('wizard_dataset', sessionId, datasetValues({ dataset_file: { file: { type: 'file_input', files: [{ id: 'FOK2' }] } }, dataset_url: { value: { type: 'url_text_input', value: null } } }));
    expect(done.json.response_action).toBe('update');
    expect(JSON.stringify(done.json.view.blocks)).toContain('Training queued');
    const training = (await m().find(ModelTraining))[0]!;
    expect(training).toMatchObject({ status: 'queued', requestedBy: 'UREQUESTER', slackChannel: 'C_TRAIN', totalEpochs: 3, datasetName: 'pr-lights-ds1' });
    const dataset = (await m().findOneBy(Dataset, { id: training.datasetId! }))!;
    expect(dataset).toMatchObject({ source: 'upload', sourceUri: 'https://files.slack.com/FOK2.json', status: 'pending' });
    const [post] = await slack.waitFor('chat.postMessage');
    expect(post!.body.channel).toBe('C_TRAIN');
    expect(JSON.stringify(post!.body.blocks)).toContain('epoch 0/3');
    const home = await waitFor('the home message ts stored', async () => {
      const t = (await m().findOneBy(ModelTraining, { uid: training.uid }))!;
      return t.slackTs ? t : null;
    }, 3000);
    expect(home.slackTs).toMatch(/^1700000000\./);
    const jobs = await assay.ctx.db.pool.query(`SELECT data FROM agenda_jobs WHERE name = 'dataset.validate'`);
    const data = jobs.rows.map((x: any) => (typeof x.data === 'string' ? JSON.parse(x.data) : x.data));
    expect(data).toContainEqual({ datasetId: dataset.id, trainingUid: training.uid, upload: { url: 'https://files.slack.com/FOK2.json' } });
    expect((await m().findOneBy(WizardSession, { id: sessionId }))!.status).toBe('submitted');

    // A replay of the same view submission (same view id + hash) does not create another.
    const again = viewSubmission({ callbackId: 'wizard_dataset', privateMetadata: sessionId, values: datasetValues(), hash: 'same' });
    await interaction(assay.url, again);
    await interaction(assay.url, again);
    expect(await m().count(ModelTraining)).toBe(1);
  });

  it('labels: two options given the same new name is a field error; a taken dataset name too', async () => {
    const sessionId = await openWizard();
    await submit('wizard_kits', sessionId, { kits: multi('kits', [s.kit('2001').id]) });
    const opts = [s.option('speed_limit').uid, s.option('no_entry').uid];
    const step = await submit('wizard_options', sessionId, checks(opts));
    expect(step.json.view.callback_id).toBe('wizard_labels');
    const label = (v: string) => ({ label: { type: 'plain_text_input', value: v } });
    const dup = await submit('wizard_labels', sessionId, { [`label:${opts[0]}`]: label('sign'), [`label:${opts[1]}`]: label('Sign') });
    expect(dup.json.errors).toEqual({ [`label:${opts[1]}`]: '"Sign" is already used for another option in this form' });
    const next = await submit('wizard_labels', sessionId, { [`label:${opts[0]}`]: label('speed limit'), [`label:${opts[1]}`]: label('no entry') });
    expect(next.json.view.callback_id).toBe('wizard_dataset');
    const taken = await submit('wizard_dataset', sessionId, datasetValues());
    expect(taken.json.response_action).toBe('errors');
    expect(taken.json.errors.dataset_name).toBe('A dataset named "pr-lights-ds1" already exists: pick another name');
  });

  it('refuses a stranger or an expired session with a field error', async () => {
    const sessionId = await openWizard('UOWNER');
    const other = await submit('wizard_kits', sessionId, { kits: multi('kits', [s.kit('4567').id]) }, 'USTRANGER');
    expect(other.json.errors.kits).toMatch(/not yours/);
    await m().update(WizardSession, { id: sessionId }, { expiresAt: new Date(Date.now() - 1000) });
    const expired = await submit('wizard_kits', sessionId, { kits: multi('kits', [s.kit('4567').id]) }, 'UOWNER');
    expect(expired.json.errors.kits).toMatch(/expired/);
  });

  it('over 100 trainable kits: an external select searched on the server (≤100 answers)', async () => {
    const green = s.option('green_light');
    for (let i = 0; i < 105; i++) {
      const kit = await m().save(TestType, m().create(TestType, { kitId: `9${String(i).padStart(3, '0')}`, kitName: `Bulk kit ${i} ${'x'.repeat(90)}` }));
      await m().save(TestTypeAiOption, m().create(TestTypeAiOption, { testTypeId: kit.id, aiOptionUid: green.uid }));
    }
    await openWizard();
    const el = slack.of('views.update')[0]!.body.view.blocks.find((b: any) => b.block_id === 'kits').element;
    expect(el.type).toBe('multi_external_select');
    expect(el.action_id).toBe('wizard_kit_search');
    const r = await interaction(assay.url, { type: 'block_suggestion', action_id: 'wizard_kit_search', block_id: 'kits', value: 'bulk', user: { id: 'UREQUESTER' }, team: { id: 'T1' }, api_app_id: 'A1', token: 'legacy', view: { id: 'V1' } });
    expect(r.status).toBe(200);
    expect(r.json.options).toHaveLength(100);
    for (const o of r.json.options) expect([...o.text.text].length).toBeLessThanOrEqual(75);
    const one = await interaction(assay.url, { type: 'block_suggestion', action_id: 'wizard_kit_search', block_id: 'kits', value: '9104', user: { id: 'UREQUESTER' }, team: { id: 'T1' }, api_app_id: 'A1', token: 'legacy', view: { id: 'V1' } });
    expect(one.json.options).toHaveLength(1);
    expect(one.json.options[0].text.text).toMatch(/^Bulk kit 104 x+… \(9104\)$/); // the name is cut, the kit id kept
  });
});
