// The training wizard's submits. Each validates its step and answers with response_action
// `update` (next step) or `errors` (under the exact input block). The last one creates the
// training; posting its home message and queueing validation happen after the ack.
import type { App, ViewOutput } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../../../app/context.js';
import type { WizardSession } from '../../../services/wizard-session-service.js';
import { DETECTOR_IMAGE_SIZE, FIELD_LIMITS, HYPERPARAMETER_LIMITS, ValidationError } from '../../../domain/index.js';
import { JOBS } from '../../../services/ports/job-queue.js';
import { slackUser } from '../../../services/audit.js';
import { findModelSummary } from '../../../services/approval-service.js';
import {
  submitDataset,
  submitKits,
  submitLabels,
  submitOptions,
  WizardFieldErrors,
  type NextStep,
  type UploadedDatasetFile,
} from '../../../services/wizard-flow-service.js';
import { getOpenWizardSession } from '../../../services/wizard-session-service.js';
import { checkGuideImages, guideImageChecker, type GuideImageChecker } from '../../../services/guide-image-service.js';
import { datasetView, doneView, labelsView, optionsView, WIZARD_BLOCK, WIZARD_CALLBACK } from '../../../../views/wizard.js';
import { blockFor, parseDatasetState, parseKitsState, parseLabelsState, parseOptionsState } from '../../wizard-state.js';
import { explain, type SlackDeps } from '../deps.js';

const FILES_INFO_BUDGET_MS = 2000;
type Ack = (response?: Record<string, unknown>) => Promise<void>;

/** Field errors under their blocks, when the block is one of this view's inputs (else under `fallback`). */
function errorsFor(view: ViewOutput, err: unknown, fallback: string): Record<string, string> | null {
  const inputs = new Set(view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id as string));
  const pick = (field: string | undefined) => {
    const block = field === undefined ? undefined : blockFor(field);
    return block && inputs.has(block) ? block : inputs.has(fallback) ? fallback : [...inputs][0]!;
  };
  if (err instanceof WizardFieldErrors) {
    const out: Record<string, string> = {};
    for (const [f, m] of Object.entries(err.fields)) out[pick(f)] = out[pick(f)] ? `${out[pick(f)]}; ${m}` : m!;
    return out;
  }
  if (err instanceof ValidationError) return { [pick(err.field)]: err.message };
  return null;
}

/** What the dataset step says about its fields' caps and ranges (all from domain/). */
const DATASET_LIMITS = {
  datasetName: FIELD_LIMITS.datasetName,
  lineageName: FIELD_LIMITS.lineageName,
  url: FIELD_LIMITS.url,
  hyperparameters: { ...HYPERPARAMETER_LIMITS, detectorImageMultiple: DETECTOR_IMAGE_SIZE.multipleOf },
};

/** The next step's view; a guide image becomes an image block only once Assay could fetch it. */
async function nextView(sessionId: string, next: NextStep, guideImages: GuideImageChecker) {
  return next.step === 'labels'
    ? labelsView({ sessionId, unlabeled: await checkGuideImages(next.unlabeled, guideImages), maxLength: FIELD_LIMITS.labelName })
    : datasetView({ sessionId, ...next.dataset, limits: DATASET_LIMITS });
}

/** files.info is the authority on the file (the submitted payload is the client's word). */
async function describeFile(client: WebClient, fileId: string | null): Promise<UploadedDatasetFile | null> {
  if (!fileId) return null;
  // The submit must be acked within 3 s: a slow files.info becomes a "try again" field error.
  let timer: NodeJS.Timeout | undefined;
  const slow = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WizardFieldErrors({ uploadedFile: 'Slack took too long to describe this file: press Train again' })), FILES_INFO_BUDGET_MS);
  });
  const r = await Promise.race([client.files.info({ file: fileId }), slow]).finally(() => clearTimeout(timer));
  const f = r.file;
  if (!f?.id || !f.url_private_download) throw new WizardFieldErrors({ uploadedFile: 'Slack could not give us that file: upload it again' });
  return { id: f.id, name: f.name ?? '', size: Number(f.size ?? 0), mimetype: f.mimetype ?? null, urlPrivateDownload: f.url_private_download };
}

/** After the ack: home message (channel, else the requester's DM) and the validation job. */
async function afterCreate(ctx: AppContext, deps: SlackDeps, session: WizardSession, trainingUid: string, datasetId: string, upload: UploadedDatasetFile | null): Promise<void> {
  try {
    await ctx.queue.now(JOBS.datasetValidate, { datasetId, trainingUid, ...(upload ? { upload: { url: upload.urlPrivateDownload } } : {}) });
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message, trainingUid }, 'could not queue dataset validation');
  }
  try {
    await deps.messages.postHome(trainingUid, session.channelId ?? session.userId);
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message, trainingUid }, 'could not post the training message');
  }
}

export function registerWizardViews(app: App, deps: SlackDeps): void {
  const { ctx } = deps;
  const ttl = ctx.config.wizardTtlMinutes;
  const guideImages = guideImageChecker({ allowPrivate: ctx.config.fetch.allowPrivate });
  const m = () => ctx.db.dataSource.manager;

  async function withSession(view: ViewOutput, user: string, ack: Ack, step: (s: WizardSession) => Promise<void>, fallback: string): Promise<void> {
    try {
      const session = await getOpenWizardSession(m(), view.private_metadata, user);
      await step(session);
    } catch (err) {
      const errors = errorsFor(view, err, fallback);
      if (errors) return void (await ack({ response_action: 'errors', errors }));
      const inputs = view.blocks.filter((b) => b.type === 'input').map((b) => b.block_id as string);
      await ack({ response_action: 'errors', errors: { [inputs[0] ?? fallback]: explain(deps, err, 'saving this step') } });
    }
  }

  app.view(WIZARD_CALLBACK.kits, async ({ ack, body, view }) => {
    await withSession(view, body.user.id, ack as Ack, async (s) => {
      const { options } = await submitKits(m(), s, parseKitsState(view.state.values).kitIds, ttl);
      await ack({ response_action: 'update', view: optionsView({ sessionId: s.id, options }) });
    }, WIZARD_BLOCK.kits);
  });

  app.view(WIZARD_CALLBACK.options, async ({ ack, body, view }) => {
    await withSession(view, body.user.id, ack as Ack, async (s) => {
      const next = await submitOptions(m(), s, parseOptionsState(view.state.values).optionUids, ttl);
      await ack({ response_action: 'update', view: await nextView(s.id, next, guideImages) });
    }, WIZARD_BLOCK.options);
  });

  app.view(WIZARD_CALLBACK.labels, async ({ ack, body, view }) => {
    await withSession(view, body.user.id, ack as Ack, async (s) => {
      const { labels } = parseLabelsState(view.state.values);
      const next = await submitLabels(m(), s, labels, slackUser(body.user.id), ttl);
      await ack({ response_action: 'update', view: await nextView(s.id, next, guideImages) });
    }, 'labels');
  });

  app.view(WIZARD_CALLBACK.dataset, async ({ ack, body, view }) => {
    await withSession(view, body.user.id, ack as Ack, async (s) => {
      const { uploadedFileId, ...fields } = parseDatasetState(view.state.values);
      const file = await describeFile(deps.client, uploadedFileId);
      const created = await submitDataset(m(), s, { ...fields, uploadedFile: file, requestedBy: body.user.id, slackChannel: s.channelId }, slackUser(body.user.id), ttl);
      if (created.decision.action === 'skip' || !created.training || !created.dataset) {
        const existing = created.decision.existingModelId ? await findModelSummary(m(), created.decision.existingModelId) : null;
        await ack({ response_action: 'update', view: doneView({ trainingId: null, channel: s.channelId, skipped: existing?.modelName ?? 'the existing model' }) });
        return;
      }
      await ack({ response_action: 'update', view: doneView({ trainingId: created.training.uid, channel: s.channelId }) });
      await afterCreate(ctx, deps, s, created.training.uid, created.dataset.id, file);
    }, WIZARD_BLOCK.datasetName);
  });
}
