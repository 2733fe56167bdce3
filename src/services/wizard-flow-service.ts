// The training wizard's steps as plain service calls: each validates one modal step, saves
// the session and says what the next step shows. Errors are ValidationErrors whose `field`
// is the modal block to show them under. Nothing but label names is written before the end.
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

/** Several problems at once, each under its own block. */
export class WizardFieldErrors extends ValidationError {
  constructor(readonly fields: Record<string, string>) {
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
  if (ids.length === 0) throw new ValidationError('Pick at least one kit', 'kits');
  const options = await selectableOptionsForKits(manager, ids);
  const withOptions = new Set(options.flatMap((o) => o.kits.map((k) => k.id)));
  const bad = ids.filter((id) => !withOptions.has(id));
  if (bad.length) throw new ValidationError('Some picked kits have no selectable AI options (or were archived): pick others', 'kits');
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
  if (uids.length === 0) throw new ValidationError('Pick at least one AI option', 'options');
  const choices = await optionStep(manager, session);
  if (uids.some((u) => !choices.some((c) => c.uid === u))) throw new ValidationError('Some picked options are not selectable for these kits any more: pick again', 'options');
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
  const errors: Record<string, string> = {};
  const seen = new Map<string, string>();
  for (const [uid, raw] of Object.entries(labels)) {
    if (!picked.includes(uid)) continue;
    const label = raw.trim();
    if (!label) errors[`label:${uid}`] = 'Give this option a label name';
    else if (seen.has(label.toLowerCase())) errors[`label:${uid}`] = `"${label}" is already used for another option in this form`;
    else seen.set(label.toLowerCase(), uid);
  }
  if (Object.keys(errors).length) throw new WizardFieldErrors(errors);
  await manager.transaction(async (tx) => {
    for (const [uid, label] of Object.entries(labels)) {
      if (!picked.includes(uid)) continue;
      try {
        await setLabelName(tx, uid, label, actor);
      } catch (e) {
        if (e instanceof ValidationError) errors[`label:${uid}`] = e.message;
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
  file?: UploadedDatasetFile | null;
  url?: string | null;
  hyperparameters: Record<'epochs' | 'batchSize' | 'learningRate' | 'imageSize', string | undefined>;
  versionChoice?: VersionChoice;
  /** The wizard's task radio; absent (older clients): a classifier, as before tasks existed. */
  task?: string | null;
  requestedBy: string;
  slackChannel: string | null;
}

const HP_BLOCKS: Record<HyperparameterKey, string> = { epochs: 'hp_epochs', batchSize: 'hp_batch_size', learningRate: 'hp_learning_rate', imageSize: 'hp_image_size' };

function checkDatasetFields(input: DatasetSubmission): { hp: HyperparameterSet; task: ModelTask; source: { source: 'upload' | 'url'; uri: string } | null; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const task: ModelTask = input.task == null || input.task === '' ? 'classify' : isModelTask(input.task) ? input.task : 'classify';
  if (input.task && !isModelTask(input.task)) errors.task = 'Pick Detector or Classifier';
  const hp: HyperparameterSet = { ...(task === 'detect' ? DEFAULT_DETECTOR_HYPERPARAMETERS : DEFAULT_HYPERPARAMETERS) };
  for (const key of HYPERPARAMETER_KEYS) {
    const raw = input.hyperparameters[key];
    if (raw === undefined || raw.trim() === '') continue;
    const n = Number(raw);
    const problem = hyperparameterProblem(key, n);
    if (problem) errors[HP_BLOCKS[key]] = problem;
    else hp[key] = n;
  }
  const url = input.url?.trim();
  let source: { source: 'upload' | 'url'; uri: string } | null = null;
  if (input.file && url) {
    errors.dataset_url = 'Give either an uploaded file or a URL, not both';
  } else if (input.file) {
    const f = input.file;
    const isJson = /\.json$/i.test(f.name) || /json/i.test(f.mimetype ?? '');
    if (f.size > MAX_UPLOAD_BYTES) {
      const mb = (f.size / 1024 / 1024).toFixed(1);
      errors.dataset_file = `${f.name} is ${mb} MB; Slack uploads stop at 10 MB. Remove it and give the dataset's https URL below.`;
      errors.dataset_url = 'Datasets over 10 MB come as a link: paste its https URL here';
    } else if (!isJson) errors.dataset_file = `${f.name} is not a JSON file: upload the COCO annotations (.json)`;
    else source = { source: 'upload', uri: f.urlPrivateDownload };
  } else if (url && url.length > FIELD_LIMITS.url) {
    errors.dataset_url = `A dataset URL can be at most ${FIELD_LIMITS.url} characters`;
  } else if (url) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = u.protocol === 'https:' && !!u.hostname;
    } catch {
      ok = false;
    }
    if (!ok) errors.dataset_url = 'Enter a URL starting with https://';
    else source = { source: 'url', uri: url };
  } else {
    errors.dataset_url = 'Upload the dataset JSON above or paste its https URL here';
  }
  return { hp, task, source, errors };
}

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
    // Map the service's field names onto this step's blocks; earlier steps' problems say so.
    if (e instanceof ValidationError && !(e instanceof WizardFieldErrors)) {
      const block = ({ dataset_name: 'dataset_name', lineage_name: 'lineage_name', dataset_url: 'dataset_url', version_choice: 'version_choice', hyperparameters: 'hp_epochs', task: 'task', imageSize: 'hp_image_size' } as Record<string, string>)[e.field ?? ''] ?? 'dataset_name';
      throw new WizardFieldErrors({ [block]: e.message });
    }
    throw e;
  }
  await advanceWizardSession(manager, session, 'done', {}, ttl, { status: 'submitted' });
  return created;
}
