// Buttons on a training's message and in App Home: Approve, Reject (asks a reason), Details,
// Deploy (asks which kits and edges). Permission is checked on the server for every click.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { AlreadyDecidedError } from '../../../services/approval-service.js';
import { FIELD_LIMITS, ForbiddenError } from '../../../domain/index.js';
import { deployModal } from '../../../../views/deploy.js';
import { rollbackModal } from '../../../../views/rollback.js';
import { detailsModal, rejectModal } from '../../../../views/replies.js';
import { ACTIONS } from '../../../../views/training-message.js';
import { explain, explainMrkdwn, tellUser, type SlackDeps } from '../deps.js';
import { escapeMrkdwn, userMention } from '../../../../views/blocks.js';
import { publishHome } from '../events/app-home.js';

/** Who decided first, as mrkdwn: the mention is built here, from the stored Slack user id. */
function alreadyDecided(err: AlreadyDecidedError): string {
  const a = err.approval;
  return `Already ${a.decision} by ${userMention(a.actor)} at ${a.createdAt.toISOString().replace('T', ' ').slice(0, 16)} UTC`;
}

/** Where the click happened: the message to update, or App Home. */
function origin(body: BlockAction) {
  return { channel: body.channel?.id ?? body.container?.channel_id, ts: body.message?.ts ?? body.container?.message_ts, inHome: body.view?.type === 'home' };
}

/** Opens the deploy confirmation, or returns why this user may not. */
export async function openDeployModal(deps: SlackDeps, input: { modelId: string; user: string; triggerId: string; channel?: string; ts?: string }): Promise<string | null> {
  try {
    const { approvals, deployments } = deps.ctx.services;
    await approvals.authorize({ actor: input.user, action: 'deploy', approvers: await deps.approvers.approvers(), modelId: input.modelId });
    const p = await deployments.preview(input.modelId);
    await deps.client.views.open({ trigger_id: input.triggerId, view: deployModal({ modelId: p.model.id, modelName: p.model.modelName, scope: p.scope, targets: p.targets, channel: input.channel, ts: input.ts }) });
    return null;
  } catch (err) {
    return explain(deps, err, 'opening the deploy confirmation');
  }
}

/** Opens the rollback confirmation (each kit option: active model → the one it returns to), or says why not. */
export async function openRollbackModal(deps: SlackDeps, input: { kit: string; user: string; triggerId: string; channel?: string }): Promise<string | null> {
  try {
    await deps.ctx.services.deployments.requireApprover(input.user, 'rollback', await deps.approvers.approvers(), { type: 'kit', id: input.kit });
    const p = await deps.ctx.services.rollbacks.preview(input.kit);
    await deps.client.views.open({ trigger_id: input.triggerId, view: rollbackModal({ ...p, channel: input.channel }) });
    return null;
  } catch (err) {
    return explain(deps, err, 'opening the rollback confirmation');
  }
}

export function registerModelActions(app: App, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTIONS.approve, async ({ ack, body, action }) => {
    await ack();
    const where = origin(body);
    try {
      await deps.ctx.services.approvals.decide({ modelId: action.value ?? '', decision: 'approved', actor: body.user.id, approvers: await deps.approvers.approvers(), interactionKey: `approve:${where.ts ?? body.view?.id}:${action.action_ts}`, slackChannel: where.channel, slackTs: where.ts });
      // The model.decided listener re-renders the training message; App Home is per viewer.
      if (where.inHome) await publishHome(deps, body.user.id);
    } catch (err) {
      const text = err instanceof AlreadyDecidedError ? alreadyDecided(err) : err instanceof ForbiddenError ? escapeMrkdwn(err.message) : explainMrkdwn(deps, err, 'approving the model');
      await tellUser(deps, where.channel, body.user.id, `:no_entry: ${text}`);
    }
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.reject, async ({ ack, body, action }) => {
    await ack();
    const where = origin(body);
    // trigger_id first: the modal opens before any slow work; permission is checked here and on submit.
    const model = await deps.ctx.services.approvals.findModelSummary(action.value ?? '');
    if (!model) return tellUser(deps, where.channel, body.user.id, 'That model no longer exists.');
    const allowed = (await deps.approvers.approvers()).has(body.user.id);
    if (!allowed) {
      try {
        await deps.ctx.services.approvals.authorize({ actor: body.user.id, action: 'reject', approvers: await deps.approvers.approvers(), modelId: model.id });
      } catch (err) {
        return tellUser(deps, where.channel, body.user.id, `:no_entry: ${explainMrkdwn(deps, err, 'rejecting the model')}`);
      }
    }
    await deps.client.views.open({ trigger_id: body.trigger_id, view: rejectModal({ modelId: model.id, modelName: model.modelName, channel: where.channel, ts: where.ts, maxLength: FIELD_LIMITS.reason }) });
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.details, async ({ ack, body, action }) => {
    await ack();
    const model = await deps.ctx.services.approvals.findModelSummary(action.value ?? '');
    if (!model) return tellUser(deps, origin(body).channel, body.user.id, 'That model no longer exists.');
    await deps.client.views.open({ trigger_id: body.trigger_id, view: detailsModal(model) });
  });

  app.action<BlockAction<ButtonAction>>(ACTIONS.deploy, async ({ ack, body, action }) => {
    await ack();
    const where = origin(body);
    const refused = await openDeployModal(deps, { modelId: action.value ?? '', user: body.user.id, triggerId: body.trigger_id, channel: where.channel, ts: where.ts });
    if (refused) await tellUser(deps, where.channel, body.user.id, `:no_entry: ${escapeMrkdwn(refused)}`);
  });
}
