// The wizard's view-state parser: Slack's `view.state.values` in, each step's fields in domain
// words out, and every field's error back under the block Slack shows it in.
import { describe, expect, it } from '@jest/globals';
import { checkDatasetFields, WizardFieldErrors } from '../../src/services/wizard-flow-service.js';
import { blockFor, parseDatasetState, parseKitsState, parseLabelsState, parseOptionsState } from '../../src/slack/wizard-state.js';

const txt = (value: string | null, type = 'plain_text_input') => ({ value: { type, value } });
const num = (value: string) => txt(value, 'number_input');
const radio = (value: string) => ({ value: { type: 'radio_buttons', selected_option: { value } } });
const files = (...ids: string[]) => ({ file: { type: 'file_input', files: ids.map((id) => ({ id, name: `${id}.json` })) } });

const datasetValues = (over: Record<string, unknown> = {}) => ({
  lineage_name: txt('amber_lights'),
  dataset_name: txt('pr-lights-ds1'),
  dataset_file: files(),
  dataset_url: txt('https://data.example.com/coco.json', 'url_text_input'),
  version_choice: radio('new_version'),
  task: radio('detect'),
  hp_epochs: num('3'),
  hp_batch_size: num('16'),
  hp_learning_rate: num('0.01'),
  hp_image_size: num('64'),
  ...over,
});

describe('wizard view state', () => {
  it('reads the picked kits, options and label names', () => {
    expect(parseKitsState({ kits: { kits: { type: 'multi_static_select', selected_options: [{ value: 'k1' }, { value: 'k2' }] } } })).toEqual({ kitIds: ['k1', 'k2'] });
    expect(parseOptionsState({ options: { options: { type: 'checkboxes', selected_options: [{ value: 'o1' }] } } })).toEqual({ optionUids: ['o1'] });
    expect(parseLabelsState({ 'label:o1': { label: { type: 'plain_text_input', value: 'red light' } }, 'label:o2': { label: { type: 'plain_text_input', value: null } } })).toEqual({ labels: { o1: 'red light', o2: '' } });
  });

  it('reads the dataset step into domain fields', () => {
    expect(parseDatasetState(datasetValues({ dataset_file: files('F1'), dataset_url: txt(null, 'url_text_input') }))).toEqual({
      datasetName: 'pr-lights-ds1',
      lineageName: 'amber_lights',
      datasetUrl: null,
      uploadedFileId: 'F1',
      versionChoice: 'new_version',
      task: 'detect',
      hyperparameters: { epochs: '3', batchSize: '16', learningRate: '0.01', imageSize: '64' },
    });
  });

  it('a missing field is an empty one: no kits picked, no lineage name, no version choice, default hyperparameters', () => {
    expect(parseKitsState({})).toEqual({ kitIds: [] });
    const { lineage_name: _l, version_choice: _v, hp_epochs: _e, dataset_name: _d, ...rest } = datasetValues();
    expect(parseDatasetState(rest)).toMatchObject({ datasetName: '', lineageName: null, versionChoice: undefined, hyperparameters: { batchSize: '16', learningRate: '0.01', imageSize: '64' } });
    // Any other version choice is no choice (the domain then asks for one where a model exists).
    expect(parseDatasetState(datasetValues({ version_choice: radio('bogus') })).versionChoice).toBeUndefined();
  });

  it('more than one uploaded file is an error under the file input', () => {
    let err: unknown;
    try {
      parseDatasetState(datasetValues({ dataset_file: files('F1', 'F2') }));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WizardFieldErrors);
    expect((err as WizardFieldErrors).fields).toEqual({ uploadedFile: 'Upload one JSON file' });
    expect(blockFor('uploadedFile')).toBe('dataset_file');
  });

  it('an out-of-range epoch count is an error under the epochs input', () => {
    const { uploadedFileId: _f, ...fields } = parseDatasetState(datasetValues({ hp_epochs: num('501') }));
    const { errors } = checkDatasetFields({ ...fields, uploadedFile: null, requestedBy: 'U1', slackChannel: null });
    expect(errors).toEqual({ epochs: 'Enter a whole number from 1 to 500' });
    expect(blockFor('epochs')).toBe('hp_epochs');
  });

  it('names a block for every field, and none for a field it does not know', () => {
    expect(['kitIds', 'optionUids', 'labels.o1', 'datasetName', 'lineageName', 'datasetUrl', 'versionChoice', 'task', 'batchSize', 'learningRate', 'imageSize', 'hyperparameters'].map(blockFor)).toEqual([
      'kits', 'options', 'label:o1', 'dataset_name', 'lineage_name', 'dataset_url', 'version_choice', 'task', 'hp_batch_size', 'hp_learning_rate', 'hp_image_size', 'hp_epochs',
    ]);
    expect(blockFor('wizard')).toBeUndefined();
  });

  it('a payload that is not Slack view state is refused', () => {
    expect(() => parseKitsState({ kits: { kits: { selected_options: 'k1' } } })).toThrow();
  });
});
