// The training wizard's steps as plain service calls: each validates one step, saves the
// session and says what the next step shows. Errors name the wizard's fields in domain words
// (`WizardField`); the Slack adapter knows which block shows each. Nothing but label names is
// written before the end.
import type { EntityManager } from 'typeorm';
import type { WizardSession } from '../db/entities/index.js';
import {
  DEFAULT_DETECTOR_HYPERPARAMETERS,
  DEFAULT_HYPERPARAMETERS,
  isModelTask,
  FIELD_LIMITS,
  generateDatasetName,
  HYPERPARAMETER_KEYS,
  hyperparameterProblem,
  lineageKey,
  suggestLineageName,
  trainingIdFor,
  uniqueDatasetName,
  usableModel,
  ValidationError,
  type HyperparameterKey,
  type HyperparameterSet,
  type ModelTask,
  type VersionChoice,
} from '../domain/index.js';
import type { Actor } from './audit.js';
import { kitsWithSelectableOptions, selectableOptionsForKits, setLabelName, type KitSummary, type OptionChoice } from './catalog-service.js';
import { findLineageForOptions } from './lineage-service.js';
import { latestModel } from './model-service.js';
import { createTraining, type TrainingCreated } from './training-service.js';
import { advanceWizardSession, type WizardState } from './wizard-session-service.js';

/** Slack's own cap on one uploaded file; bigger datasets must come as a URL. */
export const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Above this many kits the wizard searches on the server (static selects hold 100). */
export const STATIC_KIT_LIMIT = 100;

/** The wizard's fields, named for what they hold; `labels.<option uid>` is one option's label name. */
export type WizardField =
  | 'kitIds'
  | 'optionUids'
  | `labels.${string}`
  | 'datasetName'
  | 'lineageName'
  | 'uploadedFile'
  | 'datasetUrl'
  | 'versionChoice'
  | 'task'
  | HyperparameterKey
  /** The hyperparameter set as a whole (shown with the first of them). */
  | 'hyperparameters';

export const labelField = (optionUid: string): WizardField => `labels.${optionUid}`;

/** Several problems at once, each under its own field. */
export class WizardFieldErrors extends ValidationError {
  constructor(readonly fields: Partial<Record<WizardField, string>>) {
    super(Object.values(fields).join('; '), Object.keys(fields)[0]);
  }
}

const stateOf = (s: WizardSession) => s.state as WizardState;

export async function kitStep(manager: EntityManager, selected: string[] = []): Promise<{ kits: KitSummary[]; total: number; external: boolean; selected: KitSummary[] }> {
  const { kits, total } = await kitsWithSelectableOptions(manager, undefined, STATIC_KIT_LIMIT);
  const external = total > STATIC_KIT_LIMIT;
  return { kits: external ? [] : kits, total, external, selected: kits.filter((k) => selected.includes(k.id)) };
}

/** External-select search: what the user typed, at most 100 answers, from the synced table. */
export async function searchKits(manager: EntityManager, query: string): Promise<KitSummary[]> {
  return (await kitsWithSelectableOptions(manager, query, STATIC_KIT_LIMIT)).kits;
}

export async function submitKits(manager: EntityManager, session: WizardSession, kitIds: string[], ttl: number): Promise<{ options: OptionChoice[]; kits: KitSummary[] }> {
  const ids = [...new Set(kitIds)];
  if (ids.length === 0) throw new ValidationError('Pick at least one kit', 'kitIds');
  const options = await selectableOptionsForKits(manager, ids);
  const withOptions = new Set(options.flatMap((o) => o.kits.map((k) => k.id)));
  const bad = ids.filter((id) => !withOptions.has(id));
  if (bad.length) throw new ValidationError('Some picked kits have no selectable AI options (or were archived): pick others', 'kitIds');
  await advanceWizardSession(manager, session, 'options', { kitIds: ids, optionUids: [] }, ttl);
  const kits = options.flatMap((o) => o.kits).filter((k, i, all) => all.findIndex((x) => x.id === k.id) === i);
  return { options, kits: kits.map((k) => ({ id: k.id, kitId: '', kitName: k.kitName, selectableOptions: 0 })) };
}

export async function optionStep(manager: EntityManager, session: WizardSession): Promise<OptionChoice[]> {
  return selectableOptionsForKits(manager, stateOf(session).kitIds ?? []);
}

export type NextStep = { step: 'labels'; unlabeled: OptionChoice[] } | { step: 'dataset'; dataset: DatasetStepData };

export async function submitOptions(manager: EntityManager, session: WizardSession, optionUids: string[], ttl: number, now = new Date()): Promise<NextStep> {
  const uids = [...new Set(optionUids)];
  if (uids.length === 0) throw new ValidationError('Pick at least one AI option', 'optionUids');
  const choices = await optionStep(manager, session);
  if (uids.some((u) => !choices.some((c) => c.uid === u))) throw new ValidationError('Some picked options are not selectable for these kits any more: pick again', 'optionUids');
  await advanceWizardSession(manager, session, 'labels', { optionUids: uids }, ttl);
  return nextAfterOptions(manager, session, now);
}

async function nextAfterOptions(manager: EntityManager, session: WizardSession, now: Date): Promise<NextStep> {
  const picked = (await optionStep(manager, session)).filter((c) => stateOf(session).optionUids?.includes(c.uid));
  const unlabeled = picked.filter((c) => !c.labelName);
  if (unlabeled.length) return { step: 'labels', unlabeled };
  return { step: 'dataset', dataset: await datasetStep(manager, session, now) };
}

/** Saves the label names (for everyone) in one transaction; any clash fails them all. */
export async function submitLabels(manager: EntityManager, session: WizardSession, labels: Record<string, string>, actor: Actor, ttl: number, now = new Date()): Promise<NextStep> {
  const picked = stateOf(session).optionUids ?? [];
  const errors: Partial<Record<WizardField, string>> = {};
  const seen = new Map<string, string>();
  for (const [uid, raw] of Object.entries(labels)) {
    if (!picked.includes(uid)) continue;
    const label = raw.trim();
    if (!label) errors[labelField(uid)] = 'Give this option a label name';
    else if (seen.has(label.toLowerCase())) errors[labelField(uid)] = `"${label}" is already used for another option in this form`;
    else seen.set(label.toLowerCase(), uid);
  }
  if (Object.keys(errors).length) throw new WizardFieldErrors(errors);
  await manager.transaction(async (tx) => {
    for (const [uid, label] of Object.entries(labels)) {
      if (!picked.includes(uid)) continue;
      try {
        await setLabelName(tx, uid, label, actor);
      } catch (e) {
        if (e instanceof ValidationError) errors[labelField(uid)] = e.message;
        else throw e;
      }
    }
    if (Object.keys(errors).length) throw new WizardFieldErrors(errors);
  });
  await advanceWizardSession(manager, session, 'dataset', {}, ttl);
  return nextAfterOptions(manager, session, now);
}

export interface DatasetStepData {
  datasetName: string;
  /** The lineage the training goes into: its name is editable while it is new. */
  lineage: { name: string; trainingId: string; isNew: boolean };
  latest: { id: string; modelName: string; modelVersion: number; status: string } | null;
  /** The task offered first: the lineage's latest model's, else a detector (COCO datasets carry boxes). */
  task: ModelTask;
  defaults: HyperparameterSet;
}

export async function datasetStep(manager: EntityManager, session: WizardSession, now = new Date()): Promise<DatasetStepData> {
  const state = stateOf(session);
  const options = (await optionStep(manager, session)).filter((o) => state.optionUids?.includes(o.uid));
  const lineage = await findLineageForOptions(manager, state.optionUids ?? []);
  const latest = lineage ? await latestModel(manager, lineage.id) : null;
  const kitNames = [...new Set(options.flatMap((o) => o.kits.filter((k) => state.kitIds?.includes(k.id)).map((k) => k.kitName)))];
  const base = generateDatasetName({ kitNames, optionNames: options.map((o) => o.name), trainingId: lineage?.trainingId ?? trainingIdFor(lineageKey(state.optionUids ?? [])), on: now });
  const taken: { name: string }[] = await manager.query(`SELECT name FROM datasets WHERE name LIKE $1`, [`${base.slice(0, 90).replace(/[%_\\]/g, (c) => '\\' + c)}%`]);
  const trainingId = lineage?.trainingId ?? trainingIdFor(lineageKey(state.optionUids ?? []));
  const defaultTask: ModelTask = latest?.task ?? 'detect';
  return {
    datasetName: uniqueDatasetName(base, new Set(taken.map((t) => t.name))),
    lineage: { name: lineage?.name ?? suggestLineageName(options.map((o) => o.name)), trainingId, isNew: !lineage },
    latest: latest && usableModel(latest) ? { id: latest.id, modelName: latest.modelName, modelVersion: latest.modelVersion, status: latest.status } : null,
    task: defaultTask,
    defaults: defaultTask === 'detect' ? DEFAULT_DETECTOR_HYPERPARAMETERS : DEFAULT_HYPERPARAMETERS,
  };
}

/** A Slack file as files.info describes it (authoritative, unlike the submitted payload). */
export interface UploadedDatasetFile {
  id: string;
  name: string;
  size: number;
  mimetype: string | null;
  urlPrivateDownload: string;
}

export interface DatasetSubmission {
  datasetName: string;
  /** The name of a new lineage (the wizard shows it only when the options have none yet). */
  lineageName?: string | null;
  uploadedFile?: UploadedDatasetFile | null;
  datasetUrl?: string | null;
  /** As typed (blank: the task's default). */
  hyperparameters: Partial<Record<HyperparameterKey, string>>;
  versionChoice?: VersionChoice;
  /** The wizard's task radio; absent (older clients): a classifier, as before tasks existed. */
  task?: string | null;
  requestedBy: string;
  slackChannel: string | null;
}

type DatasetChecked = { hp: HyperparameterSet; task: ModelTask; source: { source: 'upload' | 'url'; uri: string } | null; errors: Partial<Record<WizardField, string>> };

/** The dataset step's own checks (no database): hyperparameter ranges, task, file or URL. */
export function checkDatasetFields(input: DatasetSubmission): DatasetChecked {
  const errors: Partial<Record<WizardField, string>> = {};
  const task: ModelTask = input.task == null || input.task === '' ? 'classify' : isModelTask(input.task) ? input.task : 'classify';
  if (input.task && !isModelTask(input.task)) errors.task = 'Pick Detector or Classifier';
  const hp: HyperparameterSet = { ...(task === 'detect' ? DEFAULT_DETECTOR_HYPERPARAMETERS : DEFAULT_HYPERPARAMETERS) };
  for (const key of HYPERPARAMETER_KEYS) {
    const raw = input.hyperparameters[key];
    if (raw === undefined || raw.trim() === '') continue;
    const n = Number(raw);
    const problem = hyperparameterProblem(key, n);
    if (problem) errors[key] = problem;
    else hp[key] = n;
  }
  const url = input.datasetUrl?.trim();
  let source: { source: 'upload' | 'url'; uri: string } | null = null;
  if (input.uploadedFile && url) {
    errors.datasetUrl = 'Give either an uploaded file or a URL, not both';
  } else if (input.uploadedFile) {
    const f = input.uploadedFile;
    const isJson = /\.json$/i.test(f.name) || /json/i.test(f.mimetype ?? '');
    if (f.size > MAX_UPLOAD_BYTES) {
      const mb = (f.size / 1024 / 1024).toFixed(1);
      errors.uploadedFile = `${f.name} is ${mb} MB; Slack uploads stop at 10 MB. Remove it and give the dataset's https URL below.`;
      errors.datasetUrl = 'Datasets over 10 MB come as a link: paste its https URL here';
    } else if (!isJson) errors.uploadedFile = `${f.name} is not a JSON file: upload the COCO annotations (.json)`;
    else source = { source: 'upload', uri: f.urlPrivateDownload };
  } else if (url && url.length > FIELD_LIMITS.url) {
    errors.datasetUrl = `A dataset URL can be at most ${FIELD_LIMITS.url} characters`;
  } else if (url) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = u.protocol === 'https:' && !!u.hostname;
    } catch {
      ok = false;
    }
    if (!ok) errors.datasetUrl = 'Enter a URL starting with https://';
    else source = { source: 'url', uri: url };
  } else {
    errors.datasetUrl = 'Upload the dataset JSON above or paste its https URL here';
  }
  return { hp, task, source, errors };
}

const TRAINING_FIELDS: Record<string, WizardField> = {
  dataset_name: 'datasetName',
  lineage_name: 'lineageName',
  dataset_url: 'datasetUrl',
  version_choice: 'versionChoice',
  hyperparameters: 'hyperparameters',
  task: 'task',
  imageSize: 'imageSize',
};

/** The last step: everything is validated, then the training is created in one transaction. */
export async function submitDataset(manager: EntityManager, session: WizardSession, input: DatasetSubmission, actor: Actor, ttl: number): Promise<TrainingCreated> {
  const state = stateOf(session);
  const { hp, task, source, errors } = checkDatasetFields(input);
  if (Object.keys(errors).length || !source) throw new WizardFieldErrors(errors);
  let created: TrainingCreated;
  try {
    created = await createTraining(
      manager,
      {
        kitIds: state.kitIds ?? [],
        optionUids: state.optionUids ?? [],
        datasetName: input.datasetName,
        ...(input.lineageName ? { lineageName: input.lineageName } : {}),
        dataset: source,
        hyperparameters: hp,
        task,
        versionChoice: input.versionChoice,
        requestedBy: input.requestedBy,
        slackChannel: input.slackChannel,
      },
      actor,
    );
  } catch (e) {
    // The training service's field names as this step's fields; the rest shows under the dataset name.
    if (e instanceof ValidationError && !(e instanceof WizardFieldErrors)) {
      throw new WizardFieldErrors({ [TRAINING_FIELDS[e.field ?? ''] ?? 'datasetName']: e.message });
    }
    throw e;
  }
  await advanceWizardSession(manager, session, 'done', {}, ttl, { status: 'submitted' });
  return created;
}
