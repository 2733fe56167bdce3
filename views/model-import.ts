// "/assay import": one modal to bring a detector trained elsewhere (Ultralytics ONNX) in as a new
// model version, and the messages that follow it in the channel. Plain values in, blocks out.
import type { KnownBlock, ModalView } from '@slack/types';
import { context, escapeMrkdwn, input, LIMITS, modal, nameWithId, option, plain, section } from './blocks.js';

export const IMPORT_CALLBACK = 'model_import';

export interface ImportFormInput {
  /** Where the import's messages go (the command's channel; null: the user's DM). */
  channel: string | null;
  kits: { id: string; kitId: string; kitName: string }[];
  options: { uid: string; name: string; labelName: string }[];
  limits: { url: number; lineageName: number; modelMb: number };
}

export function importView(v: ImportFormInput): ModalView {
  const blocks: KnownBlock[] = [
    section('*Import a detector trained elsewhere.* Export it with Ultralytics: `yolo export model=best.pt format=onnx` (static shape). It becomes a new model version, is evaluated on your dataset and waits for approval like any model.'),
    input('kits', 'Kits', { type: 'multi_static_select', action_id: 'kits', placeholder: plain('Pick one or more kits'), options: v.kits.slice(0, LIMITS.staticOptions).map((k) => option(k.kitId ? nameWithId(k.kitName, k.kitId) : k.kitName, k.id)) }),
    input(
      'options',
      'AI options the model serves',
      { type: 'multi_static_select', action_id: 'options', placeholder: plain('Default: every kit option named like a class'), options: v.options.slice(0, LIMITS.staticOptions).map((o) => option(o.name, o.uid, `label ${o.labelName}`)) },
      { optional: true, hint: "Each option's label must be one of the model's class names. Empty: the kits' options whose label is a class." },
    ),
    input('model_file', `Model file (.onnx, up to ${v.limits.modelMb} MB)`, { type: 'file_input', action_id: 'file', filetypes: ['onnx'], max_files: 1 }),
    input('dataset_file', 'Evaluation dataset (COCO JSON, up to 10 MB)', { type: 'file_input', action_id: 'file', filetypes: ['json'], max_files: 1 }, { optional: true }),
    input('dataset_url', '…or dataset URL', { type: 'url_text_input', action_id: 'value', placeholder: plain('https://…/annotations.json') }, { optional: true, hint: `https only, up to ${v.limits.url} characters. Every class of the model must be a category name; images with no "split" are all test images.` }),
    input('lineage_name', 'Model name (for a new lineage)', { type: 'plain_text_input', action_id: 'value', max_length: v.limits.lineageName }, { optional: true, hint: 'Ignored when these options already have a lineage: the import becomes its next version.' }),
  ];
  return modal({ callbackId: IMPORT_CALLBACK, title: 'Import a model', submit: 'Import', close: 'Cancel', blocks, privateMetadata: v.channel ?? '' });
}

export function importStartedView(v: { fileName: string; channel: string | null }): ModalView {
  return modal({
    callbackId: 'model_import_done',
    title: 'Import a model',
    close: 'Done',
    blocks: [section(`:hourglass_flowing_sand: Importing *${escapeMrkdwn(v.fileName)}*. The checks and the evaluation will appear ${v.channel ? `in <#${v.channel}>` : 'in your DMs with Assay'}.`)],
  });
}

/** The channel message while the file and dataset are checked (later replaced by the model's card). */
export function importCheckingMessage(v: { fileName: string; user: string }): { text: string; blocks: KnownBlock[] } {
  const text = `Importing ${v.fileName}: checking the model file and the dataset…`;
  return { text, blocks: [section(`:hourglass_flowing_sand: <@${v.user}> is importing *${escapeMrkdwn(v.fileName)}*: checking the model file and the dataset…`)] };
}

export function importRefusedMessage(v: { fileName: string; reason: string }): { text: string; blocks: KnownBlock[] } {
  const text = `Import of ${v.fileName} refused: ${v.reason}`;
  return { text, blocks: [section(`:x: Import of *${escapeMrkdwn(v.fileName)}* refused: ${escapeMrkdwn(v.reason)}`), context('Nothing was created. Fix the file or the dataset and run /assay import again.')] };
}

export function importAcceptedNote(v: { modelName: string; classes: string[]; testImages: number; warnings: string[] }): { text: string; blocks: KnownBlock[] } {
  const text = `Imported as ${v.modelName}: evaluation is running on ${v.testImages} test image(s).`;
  const blocks: KnownBlock[] = [
    section(`:white_check_mark: Imported as *${escapeMrkdwn(v.modelName)}* (classes ${v.classes.map(escapeMrkdwn).join(', ')}). Evaluation is running on ${v.testImages} test image(s); the approval card follows here.`),
  ];
  if (v.warnings.length) blocks.push(context(v.warnings.slice(0, 5).map((w) => `:warning: ${escapeMrkdwn(w)}`).join('\n')));
  return { text, blocks };
}
