// The training wizard's submitted modal state (`view.state.values`), parsed with zod into each
// step's fields in the service's words, and the block each field's error shows under. The block
// ids are Slack's contract, built by views/wizard.ts; nothing past this file knows them.
import { z } from 'zod';
import type { HyperparameterKey, VersionChoice } from '../domain/index.js';
import { WizardFieldErrors, type WizardField } from '../services/wizard-flow-service.js';
import { WIZARD_BLOCK as B } from '../../views/wizard.js';

/** One input element's submitted value (each wizard block holds one element). */
const elementState = z.object({
  value: z.string().nullish(),
  selected_option: z.object({ value: z.string() }).nullish(),
  selected_options: z.array(z.object({ value: z.string() })).nullish(),
  files: z.array(z.object({ id: z.string() })).nullish(),
});
const viewState = z.record(z.string(), z.record(z.string(), elementState));
type ViewState = z.infer<typeof viewState>;

const element = (state: ViewState, block: string) => (state[block] ? Object.values(state[block])[0] : undefined);
const text = (state: ViewState, block: string) => element(state, block)?.value ?? undefined;
const picked = (state: ViewState, block: string) => (element(state, block)?.selected_options ?? []).map((o) => o.value);
const chosen = (state: ViewState, block: string) => element(state, block)?.selected_option?.value;

/** Where each field's error shows; `labels.<uid>` shows under that option's label block. */
const FIELD_BLOCKS = {
  kitIds: B.kits,
  optionUids: B.options,
  datasetName: B.datasetName,
  lineageName: B.lineageName,
  uploadedFile: B.datasetFile,
  datasetUrl: B.datasetUrl,
  versionChoice: B.versionChoice,
  task: B.task,
  epochs: B.epochs,
  batchSize: B.batchSize,
  learningRate: B.learningRate,
  imageSize: B.imageSize,
  hyperparameters: B.epochs,
} as const satisfies Record<Exclude<WizardField, `labels.${string}`>, string>;

export function blockFor(field: string): string | undefined {
  if (field.startsWith('labels.')) return `${B.labelPrefix}${field.slice('labels.'.length)}`;
  return (FIELD_BLOCKS as Record<string, string>)[field];
}

export const parseKitsState = (values: unknown): { kitIds: string[] } => ({ kitIds: picked(viewState.parse(values), B.kits) });

export const parseOptionsState = (values: unknown): { optionUids: string[] } => ({ optionUids: picked(viewState.parse(values), B.options) });

/** Label names by option uid (one block per option without a label). */
export function parseLabelsState(values: unknown): { labels: Record<string, string> } {
  const state = viewState.parse(values);
  const labels: Record<string, string> = {};
  for (const block of Object.keys(state)) if (block.startsWith(B.labelPrefix)) labels[block.slice(B.labelPrefix.length)] = text(state, block) ?? '';
  return { labels };
}

export interface DatasetState {
  datasetName: string;
  lineageName: string | null;
  datasetUrl: string | null;
  /** The uploaded file's id (files.info describes it); null when none. */
  uploadedFileId: string | null;
  versionChoice: VersionChoice | undefined;
  /** The task radio as sent (the service says when it is neither task). */
  task: string | null;
  /** As typed; blank or absent means the task's default. */
  hyperparameters: Partial<Record<HyperparameterKey, string>>;
}

const versionChoice = z.enum(['skip', 'new_version', 'retrain']);

/** The dataset step; more than one uploaded file is a field error (the input takes one). */
export function parseDatasetState(values: unknown): DatasetState {
  const state = viewState.parse(values);
  const files = element(state, B.datasetFile)?.files ?? [];
  if (files.length > 1) throw new WizardFieldErrors({ uploadedFile: 'Upload one JSON file' });
  // Any other choice is no choice: the domain then asks for one where a model exists.
  const choice = versionChoice.safeParse(chosen(state, B.versionChoice));
  const hyperparameters: Partial<Record<HyperparameterKey, string>> = {};
  for (const [key, block] of [['epochs', B.epochs], ['batchSize', B.batchSize], ['learningRate', B.learningRate], ['imageSize', B.imageSize]] as const) {
    const typed = text(state, block);
    if (typed !== undefined) hyperparameters[key] = typed;
  }
  return {
    datasetName: text(state, B.datasetName) ?? '',
    lineageName: text(state, B.lineageName) ?? null,
    datasetUrl: text(state, B.datasetUrl) ?? null,
    uploadedFileId: files[0]?.id ?? null,
    versionChoice: choice.success ? choice.data : undefined,
    task: state[B.task] ? (chosen(state, B.task) ?? null) : null,
    hyperparameters,
  };
}
