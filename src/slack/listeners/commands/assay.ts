// /assay <subcommand>: each answers within the ack (ephemeral), except `train`, which opens the
// wizard modal straight away (trigger_id lives 3 s) and fills it once the kits are read.
import { randomUUID } from 'node:crypto';
import type { App, SlashCommand } from '@slack/bolt';
import { FIELD_LIMITS } from '../../../domain/index.js';
import { formatPromotionHistory } from '../../../services/history-service.js';
import { slackUser } from '../../../services/audit.js';
import { SyncInProgressError } from '../../../services/sync-run-service.js';
import { salesforceApiConfigured } from '../../../salesforce/client.js';
import { kitsReply, modelsReply, modelStatusReply, salesforceStatusReply, syncBusyReply, syncQueuedReply, textReply, usageReply } from '../../../../views/replies.js';
import { trainingMessage } from '../../../../views/training-message.js';
import { trainingStatusReply } from '../../../../views/dataset-report.js';
import { kitsView, loadingView } from '../../../../views/wizard.js';
import { escapeMrkdwn } from '../../../../views/mrkdwn.js';
import { explainMrkdwn, type SlackDeps } from '../deps.js';
import { openDeployModal, openRollbackModal } from '../actions/model.js';
import { openImportModal } from '../views/model-import.js';

type Reply = { text: string; blocks?: unknown[] };
type Handler = (deps: SlackDeps, args: string[], command: SlashCommand) => Promise<Reply | null>;

const needsArg = (name: string, arg: string) => usageReply(`/assay ${name} needs ${arg}.`);

const handlers: Record<string, Handler> = {
  help: async () => usageReply(),
  kits: async (deps, args) => {
    const search = args.join(' ').trim() || undefined;
    const { kits, total } = await deps.ctx.services.catalog.kitsWithSelectableOptions(search, 40);
    return kitsReply(kits, total, search);
  },
  models: async (deps, args) => {
    const { catalog, approvals } = deps.ctx.services;
    const kit = args[0] ? await catalog.getKit(args[0]) : null;
    return modelsReply(await approvals.listModels(kit, 20), kit?.kitName);
  },
  status: async (deps, args) => {
    if (!args[0]) return needsArg('status', 'a training id, a model name, or "salesforce"');
    if (args[0].toLowerCase() === 'salesforce') {
      const sf = deps.ctx.config.salesforce;
      return salesforceStatusReply({ ...(await deps.ctx.services.kitSync.intakeStatus()), apiConfigured: salesforceApiConfigured(sf), outboundConfigured: !!sf.outbound });
    }
    const { trainings, approvals } = deps.ctx.services;
    const card = await trainings.card(args[0]);
    if (card) return trainingStatusReply(trainingMessage(card), await trainings.datasetReport(card.uid));
    const model = await approvals.findModelSummary(args[0]);
    if (model) return modelStatusReply(model);
    return usageReply(`No training or model "${args[0]}".`);
  },
  cancel: async (deps, args, command) => {
    if (!args[0]) return needsArg('cancel', 'a training id');
    const t = await deps.ctx.services.trainings.requestCancel(args[0], slackUser(command.user_id), { approvers: await deps.approvers.approvers() });
    return textReply(t.status === 'cancelled' ? `Training ${t.uid} is cancelled.` : `Cancel requested: training ${t.uid} stops after the current batch.`);
  },
  deploy: async (deps, args, command) => {
    if (!args[0]) return needsArg('deploy', 'a model id or name');
    const model = await deps.ctx.services.approvals.findModelSummary(args[0]);
    if (!model) return usageReply(`No model "${args[0]}".`);
    const refused = await openDeployModal(deps, { modelId: model.id, user: command.user_id, triggerId: command.trigger_id });
    return refused ? textReply(escapeMrkdwn(refused)) : null;
  },
  rollback: async (deps, args, command) => {
    if (!args[0]) return needsArg('rollback', 'a kit id');
    const refused = await openRollbackModal(deps, { kit: args[0], user: command.user_id, triggerId: command.trigger_id, channel: command.channel_id });
    return refused ? textReply(`:no_entry: ${escapeMrkdwn(refused)}`) : null;
  },
  history: async (deps, args) => {
    if (!args[0]) return needsArg('history', 'a kit id');
    const text = formatPromotionHistory(await deps.ctx.services.history.promotionHistory(args[0]));
    // Kit, option and model names come from Salesforce: escaped inside the code block too.
    return textReply('```' + escapeMrkdwn(text.slice(0, 2900)) + '```');
  },
  sync: async (deps, _args, command) => {
    try {
      const { last } = await deps.ctx.services.kitSync.requestCatalogSync({ actor: command.user_id, approvers: await deps.approvers.approvers() });
      return syncQueuedReply(last);
    } catch (err) {
      if (err instanceof SyncInProgressError) return syncBusyReply(err.run);
      throw err;
    }
  },
};

/** Opens the wizard before anything slow, then replaces the loading view with step 1. */
async function openWizard(deps: SlackDeps, command: SlashCommand): Promise<void> {
  const sessionId = randomUUID();
  const opened = await deps.client.views.open({ trigger_id: command.trigger_id, view: loadingView(sessionId) });
  const { wizard } = deps.ctx.services;
  const channel = command.channel_id?.startsWith('D') ? null : command.channel_id;
  await wizard.openSession({ id: sessionId, userId: command.user_id, teamId: command.team_id, channelId: channel, viewId: opened.view?.id ?? null, ttlMinutes: deps.ctx.config.wizardTtlMinutes });
  const step = await wizard.kitStep();
  await deps.client.views.update({ view_id: opened.view!.id!, hash: opened.view?.hash, view: kitsView({ sessionId, ...step }) });
}

export function registerAssayCommand(app: App, deps: SlackDeps): void {
  app.command('/assay', async ({ command, ack }) => {
    if (command.text.length > FIELD_LIMITS.command) {
      await ack({ response_type: 'ephemeral', ...usageReply(`That is more than ${FIELD_LIMITS.command} characters; /assay commands are short.`) } as never);
      return;
    }
    const [sub = 'help', ...args] = command.text.trim().split(/\s+/).filter(Boolean);
    if (sub === 'train') {
      await ack();
      try {
        await openWizard(deps, command);
      } catch (err) {
        await deps.client.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text: explainMrkdwn(deps, err, 'opening the training wizard') }).catch(() => undefined);
      }
      return;
    }
    if (sub.toLowerCase() === 'import') {
      // Opened before anything slow: the trigger_id lives 3 s.
      await ack();
      try {
        await openImportModal(deps, { triggerId: command.trigger_id, channel: command.channel_id?.startsWith('D') ? null : command.channel_id });
      } catch (err) {
        await deps.client.chat.postEphemeral({ channel: command.channel_id, user: command.user_id, text: explainMrkdwn(deps, err, 'opening the import form') }).catch(() => undefined);
      }
      return;
    }
    const handler = handlers[sub.toLowerCase()];
    if (!handler) {
      await ack({ response_type: 'ephemeral', ...usageReply(`Unknown subcommand "${sub}".`) } as never);
      return;
    }
    let reply: Reply | null;
    try {
      reply = await handler(deps, args, command);
    } catch (err) {
      reply = textReply(`:warning: ${explainMrkdwn(deps, err, `running /assay ${sub}`)}`);
    }
    await ack(reply ? ({ response_type: 'ephemeral', ...reply } as never) : undefined);
  });
}
