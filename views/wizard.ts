// The training wizard: one modal whose submit moves it to the next step (response_action:
// update). private_metadata carries only the wizard session id; the rest lives in the database.
import type { KnownBlock, ModalView, MrkdwnOption, PlainTextOption } from '@slack/types';
import { context, divider, escapeMrkdwn, input, LIMITS, modal, nameWithId, option, optionTitle, plain, section, truncate } from './blocks.js';

export const WIZARD_CALLBACK = { kits: 'wizard_kits', options: 'wizard_options', labels: 'wizard_labels', dataset: 'wizard_dataset' } as const;
export const KIT_SEARCH_ACTION = 'wizard_kit_search';
/** The input blocks' ids: Slack returns each value (and shows each field error) under these. */
export const WIZARD_BLOCK = {
  kits: 'kits',
  options: 'options',
  /** One label block per option: `label:<option uid>`. */
  labelPrefix: 'label:',
  lineageName: 'lineage_name',
  datasetName: 'dataset_name',
  datasetFile: 'dataset_file',
  datasetUrl: 'dataset_url',
  versionChoice: 'version_choice',
  task: 'task',
  epochs: 'hp_epochs',
  batchSize: 'hp_batch_size',
  learningRate: 'hp_learning_rate',
  imageSize: 'hp_image_size',
} as const;
const B = WIZARD_BLOCK;

export interface KitItem {
  id: string;
  kitId: string;
  kitName: string;
}

export const kitOption = (k: KitItem) => option(k.kitId ? nameWithId(k.kitName, k.kitId) : k.kitName, k.id);

export function loadingView(sessionId: string): ModalView {
  return modal({ callbackId: WIZARD_CALLBACK.kits, title: 'Train a model', blocks: [section(':hourglass_flowing_sand: Loading the kits…')], privateMetadata: sessionId });
}

export function kitsView(input_: { sessionId: string; kits: KitItem[]; total: number; external: boolean; selected?: KitItem[] }): ModalView {
  const initial = (input_.selected ?? []).map(kitOption);
  const element = input_.external
    ? { type: 'multi_external_select' as const, action_id: KIT_SEARCH_ACTION, min_query_length: 2, placeholder: plain('Type 2+ letters of a kit name or id'), ...(initial.length ? { initial_options: initial } : {}) }
    : {
        type: 'multi_static_select' as const,
        action_id: 'kits',
        placeholder: plain('Pick one or more kits'),
        options: input_.kits.slice(0, LIMITS.staticOptions).map(kitOption),
        ...(initial.length ? { initial_options: initial } : {}),
      };
  const blocks: KnownBlock[] = [
    section('*Step 1 of 4 — Kits.* Only kits with selectable AI options are listed. Kits that share the same options share one model lineage.'),
    input(B.kits, 'Kits', element, { hint: input_.external ? `${input_.total} kits: search by name or kit id.` : undefined }),
  ];
  return modal({ callbackId: WIZARD_CALLBACK.kits, title: 'Train a model', submit: 'Next', close: 'Cancel', blocks, privateMetadata: input_.sessionId });
}

export interface OptionItem {
  uid: string;
  name: string;
  description?: string | null;
  labelName: string | null;
  exampleImageUrl: string | null;
  /** Assay fetched the guide image itself (https, an image): only then is it an image block. */
  guideImageOk?: boolean;
  kits: { id: string; kitId?: string; kitName: string }[];
}

/** The option's Salesforce name, its key second (kept whole when the name is cut). */
export const optionLabel = (o: { name: string; description?: string | null }) => (optionTitle(o) === o.name ? o.name : nameWithId(optionTitle(o), o.name));

export function optionsView(input_: { sessionId: string; options: OptionItem[] }): ModalView {
  const opts: PlainTextOption[] = input_.options
    .slice(0, LIMITS.staticOptions)
    .map((o) => option(optionLabel(o), o.uid, `${o.labelName ? `label ${o.labelName}` : 'needs a label name'} · in ${o.kits.map((k) => k.kitName).join(', ')}`));
  const blocks: KnownBlock[] = [
    section('*Step 2 of 4 — AI options.* The selectable options of the picked kits; each shows which kits have it.'),
    input(B.options, 'AI options to train on', { type: 'checkboxes', action_id: 'options', options: opts.slice(0, 10) }),
  ];
  // Checkboxes hold 10 options; bigger option sets switch to a multi-select.
  if (opts.length > 10) blocks[1] = input(B.options, 'AI options to train on', { type: 'multi_static_select', action_id: 'options', placeholder: plain('Pick options'), options: opts });
  const byKit = new Map<string, string[]>();
  for (const o of input_.options) for (const k of o.kits) byKit.set(k.kitName, [...(byKit.get(k.kitName) ?? []), optionTitle(o)]);
  blocks.push(divider(), ...[...byKit].slice(0, 20).map(([kit, names]) => context(`*${escapeMrkdwn(kit)}*: ${names.map(escapeMrkdwn).join(', ')}`)));
  return modal({ callbackId: WIZARD_CALLBACK.options, title: 'Train a model', submit: 'Next', close: 'Cancel', blocks, privateMetadata: input_.sessionId });
}

/** `maxLength`: the label-name cap (src/domain/limits.ts), said in the input. */
export function labelsView(input_: { sessionId: string; unlabeled: OptionItem[]; maxLength: number }): ModalView {
  const blocks: KnownBlock[] = [section('*Step 3 of 4 — Label names.* These options have no annotation label yet. The name you give is saved for everyone and must match the category name in your COCO file.')];
  for (const o of input_.unlabeled.slice(0, 30)) {
    if (o.exampleImageUrl && o.guideImageOk && o.exampleImageUrl.length <= 3000) {
      blocks.push({ type: 'image', image_url: o.exampleImageUrl, alt_text: truncate(`Guide image for ${o.name}`, 2000), title: plain(`Guide: ${optionTitle(o)}`, 2000) });
    } else if (o.exampleImageUrl && /^https?:\/\/[^\s|<>]+$/i.test(o.exampleImageUrl)) {
      // Slack could not show it (or we could not check it): a link still lets people look.
      blocks.push(context(`Guide image for ${escapeMrkdwn(optionTitle(o))}: <${escapeMrkdwn(o.exampleImageUrl)}|open it>`));
    }
    blocks.push(input(`${B.labelPrefix}${o.uid}`, `Label name for ${optionTitle(o)} (${o.name})`, { type: 'plain_text_input', action_id: 'label', max_length: input_.maxLength, placeholder: plain('e.g. red light') }, { hint: `Up to ${input_.maxLength} letters, digits, spaces, "_", "." or "-".` }));
  }
  return modal({ callbackId: WIZARD_CALLBACK.labels, title: 'Train a model', submit: 'Next', close: 'Cancel', blocks, privateMetadata: input_.sessionId });
}

export interface HyperparameterRanges {
  epochs: { min: number; max: number };
  batchSize: { min: number; max: number };
  learningRate: { max: number };
  imageSize: { min: number; max: number };
  /** A detector's image size is a multiple of this. */
  detectorImageMultiple: number;
}

export interface DatasetViewInput {
  sessionId: string;
  datasetName: string;
  lineage: { name: string; trainingId: string; isNew: boolean };
  latest: { modelName: string; modelVersion: number; status: string } | null;
  /** The task selected at first. */
  task: 'detect' | 'classify';
  defaults: { epochs: number; batchSize: number; learningRate: number; imageSize: number };
  /** Caps of the typed fields (src/domain/limits.ts) and hyperparameter ranges (src/domain/hyperparameters.ts), said in the modal. */
  limits: { datasetName: number; lineageName: number; url: number; hyperparameters: HyperparameterRanges };
}

const numberInput = (blockId: string, label: string, value: number, decimal: boolean, hint: string) =>
  input(blockId, label, { type: 'number_input', action_id: 'value', is_decimal_allowed: decimal, initial_value: String(value) }, { hint });

export function datasetView(v: DatasetViewInput): ModalView {
  const hp = v.limits.hyperparameters;
  const blocks: KnownBlock[] = [
    section('*Step 4 of 4 — Dataset and version.* Nothing is created until you press *Train*.'),
    v.lineage.isNew
      ? input(B.lineageName, 'Model name', { type: 'plain_text_input', action_id: 'value', initial_value: v.lineage.name, max_length: v.limits.lineageName }, { hint: `Say what the model detects (every kit with these options uses it). Models are named <name>_${v.lineage.trainingId}_v<version>. Lowercase letters, digits and "_"; up to ${v.limits.lineageName} characters.` })
      : context(`Model: *${escapeMrkdwn(v.lineage.name)}* (${v.lineage.trainingId}), shared by every kit with these options.`),
    input(B.datasetName, 'Dataset name', { type: 'plain_text_input', action_id: 'value', initial_value: v.datasetName, max_length: v.limits.datasetName }, { hint: `Lowercase letters, digits, "_", "." and "-"; up to ${v.limits.datasetName} characters.` }),
    input(B.datasetFile, 'Dataset file (COCO JSON, up to 10 MB)', { type: 'file_input', action_id: 'file', filetypes: ['json'], max_files: 1 }, { optional: true }),
    input(B.datasetUrl, '…or dataset URL', { type: 'url_text_input', action_id: 'value', placeholder: plain('https://…/annotations.json') }, { optional: true, hint: `https only, up to ${v.limits.url} characters. Use a link for datasets over 10 MB.` }),
  ];
  if (v.latest) {
    const name = `*${escapeMrkdwn(v.latest.modelName)}* (v${v.latest.modelVersion}, ${v.latest.status})`;
    blocks.push(
      section(`This set of options already has a model: ${name}.`),
      input(B.versionChoice, 'What should this training do?', {
        type: 'radio_buttons',
        action_id: 'value',
        options: [
          { text: mr('*Skip*'), description: plain('Train nothing: map the picked kits to the existing model (activating it is a deploy).', 75), value: 'skip' },
          { text: mr('*New version*'), description: plain(`Fine-tune from ${v.latest.modelName} v${v.latest.modelVersion}.`, 75), value: 'new_version' },
          { text: mr('*Retrain*'), description: plain('Train a new version from scratch (no base model).', 75), value: 'retrain' },
        ] as MrkdwnOption[],
      }),
    );
  } else {
    blocks.push(context('Base model: none, this is the first model of these options, trained from scratch.'));
  }
  const taskOptions: MrkdwnOption[] = [
    { text: mr('*Detector*'), description: plain('Finds the options in the whole photo (boxes). Judged by mAP.', 75), value: 'detect' },
    { text: mr('*Classifier*'), description: plain('Reads each annotated box crop. Judged by accuracy.', 75), value: 'classify' },
  ];
  blocks.push(
    input(B.task, 'What should the model do?', { type: 'radio_buttons', action_id: 'value', options: taskOptions, initial_option: taskOptions.find((o) => o.value === v.task) }, {
      hint: `The hyperparameters below are filled in for the task picked first; a detector needs an image size that is a multiple of ${hp.detectorImageMultiple}.`,
    }),
  );
  blocks.push(
    divider(),
    section('*Hyperparameters* (defaults filled in)'),
    numberInput(B.epochs, 'Epochs', v.defaults.epochs, false, `${hp.epochs.min}–${hp.epochs.max}`),
    numberInput(B.batchSize, 'Batch size', v.defaults.batchSize, false, `${hp.batchSize.min}–${hp.batchSize.max}`),
    numberInput(B.learningRate, 'Learning rate', v.defaults.learningRate, true, `Above 0, at most ${hp.learningRate.max}`),
    numberInput(B.imageSize, 'Image size (pixels)', v.defaults.imageSize, false, `${hp.imageSize.min}–${hp.imageSize.max}`),
  );
  return modal({ callbackId: WIZARD_CALLBACK.dataset, title: 'Train a model', submit: 'Train', close: 'Cancel', blocks, privateMetadata: v.sessionId });
}

const mr = (text: string) => ({ type: 'mrkdwn' as const, text });

export function doneView(v: { trainingId: string | null; channel: string | null; skipped?: string }): ModalView {
  const text = v.skipped
    ? `:white_check_mark: Nothing to train: the kits now map to *${escapeMrkdwn(v.skipped)}*. Deploy it to activate it for them.`
    : `:white_check_mark: Training queued. Progress, the dataset report and the results will appear ${v.channel ? `in <#${v.channel}>` : 'in your DMs with Assay'}.`;
  return modal({ callbackId: 'wizard_done', title: 'Train a model', close: 'Done', blocks: [section(text), ...(v.trainingId ? [context(`Training ${v.trainingId}`)] : [])] });
}
