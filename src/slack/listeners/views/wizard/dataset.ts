// Step 4, Train pressed: the training is created (or the kits mapped to the existing model), the
// modal says so; posting the training's home message and queueing validation come after the ack.
import type { WebClient } from '@slack/web-api';
import type { WizardSession } from '../../../../services/wizard-session-service.js';
import { slackUser } from '../../../../services/audit.js';
import { WizardFieldErrors, type UploadedDatasetFile } from '../../../../services/wizard-flow-service.js';
import { doneView, WIZARD_BLOCK } from '../../../../../views/wizard.js';
import { parseDatasetState } from '../../../wizard-state.js';
import { withSession, type Ack, type StepArgs, type WizardDeps } from './step.js';

const FILES_INFO_BUDGET_MS = 2000;

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
async function afterCreate(deps: WizardDeps, session: WizardSession, trainingUid: string, datasetId: string, upload: UploadedDatasetFile | null): Promise<void> {
  const { ctx } = deps;
  try {
    await ctx.services.wizard.startDatasetValidation({ datasetId, trainingUid, uploadUrl: upload?.urlPrivateDownload ?? null });
  } catch (err) {
    ctx.logger.error({ err: (err as Error).message, trainingUid }, 'could not queue dataset validation');
  }
  try {
    await deps.messages.postHome(trainingUid, session.channelId ?? session.userId);
  } catch (err) {
    ctx.logger.warn({ err: (err as Error).message, trainingUid }, 'could not post the training message');
  }
}

export const datasetSubmitted = (deps: WizardDeps) => async ({ ack, body, view }: StepArgs) => {
  await withSession(deps, view, body.user.id, ack as Ack, WIZARD_BLOCK.datasetName, async (s) => {
    const { uploadedFileId, ...fields } = parseDatasetState(view.state.values);
    const file = await describeFile(deps.client, uploadedFileId);
    const created = await deps.ctx.services.wizard.submitDataset(s, { ...fields, uploadedFile: file, requestedBy: body.user.id, slackChannel: s.channelId }, slackUser(body.user.id));
    if (created.decision.action === 'skip' || !created.training || !created.dataset) {
      const existing = created.decision.existingModelId ? await deps.ctx.services.approvals.findModelSummary(created.decision.existingModelId) : null;
      await ack({ response_action: 'update', view: doneView({ trainingId: null, channel: s.channelId, skipped: existing?.modelName ?? 'the existing model' }) });
      return;
    }
    await ack({ response_action: 'update', view: doneView({ trainingId: created.training.uid, channel: s.channelId }) });
    await afterCreate(deps, s, created.training.uid, created.dataset.id, file);
  });
};
