// Submits of the Reject-reason, Deploy- and Rollback-confirmation modals.
import type { App } from '@slack/bolt';
import { z } from 'zod';
import { DomainError, ForbiddenError } from '../../../domain/index.js';
import { DEPLOY_CALLBACK } from '../../../../views/deploy.js';
import { REJECT_CALLBACK } from '../../../../views/replies.js';
import { ROLLBACK_CALLBACK, rollbackDoneText } from '../../../../views/rollback.js';
import { explain, tellUser, type SlackDeps } from '../deps.js';
import { escapeMrkdwn } from '../../../../views/mrkdwn.js';

const meta = z.object({ modelId: z.string(), channel: z.string().nullable(), ts: z.string().nullable() });
const rollbackMeta = z.object({ kit: z.string().max(100), from: z.array(z.string().max(100)).min(1).max(50), channel: z.string().nullable() });

function parseJson<T>(schema: z.ZodType<T>, raw: string | undefined): T | null {
  try {
    return schema.parse(JSON.parse(raw ?? ''));
  } catch {
    return null;
  }
}
const parseMeta = (raw: string | undefined) => parseJson(meta, raw);

export function registerDecisionViews(app: App, deps: SlackDeps): void {
  app.view(REJECT_CALLBACK, async ({ ack, body, view }) => {
    const m = parseMeta(view.private_metadata);
    const reason = view.state.values.reason?.value?.value?.trim() ?? '';
    if (!m) return void (await ack({ response_action: 'errors', errors: { reason: 'This form is out of date: close it and click Reject again' } }));
    if (reason.length < 3) return void (await ack({ response_action: 'errors', errors: { reason: 'Say why, in a few words' } }));
    try {
      await deps.ctx.services.approvals.decide({ modelId: m.modelId, decision: 'rejected', actor: body.user.id, approvers: await deps.approvers.approvers(), reason, interactionKey: `reject:${view.id}`, slackChannel: m.channel, slackTs: m.ts });
      await ack();
    } catch (err) {
      const text = err instanceof DomainError ? err.message : explain(deps, err, 'rejecting the model');
      await ack({ response_action: 'errors', errors: { reason: text } });
    }
  });

  // The confirmation carries the models it rolls back from: a stale or repeated one is refused.
  app.view(ROLLBACK_CALLBACK, async ({ ack, body, view }) => {
    const m = parseJson(rollbackMeta, view.private_metadata);
    await ack();
    if (!m) return tellUser(deps, undefined, body.user.id, ':no_entry: This rollback form is out of date: run /assay rollback <kit> again.');
    try {
      const r = await deps.ctx.services.rollbacks.rollbackKit({ kit: m.kit, from: m.from, actor: body.user.id, approvers: await deps.approvers.approvers(), interactionKey: `rollback:${view.id}` });
      await tellUser(deps, m.channel ?? undefined, body.user.id, rollbackDoneText(r));
    } catch (err) {
      await tellUser(deps, m.channel ?? undefined, body.user.id, `:no_entry: ${escapeMrkdwn(explain(deps, err, 'rolling back'))}`);
    }
  });

  app.view(DEPLOY_CALLBACK, async ({ ack, body, view }) => {
    const m = parseMeta(view.private_metadata);
    if (!m) return void (await ack());
    const values = view.state.values;
    const scope = (values.scope?.value?.selected_options ?? []).map((o) => {
      const [testTypeId, aiOptionUid] = o.value.split(':');
      return { testTypeId: testTypeId!, aiOptionUid: aiOptionUid! };
    });
    if (values.scope && scope.length === 0) return void (await ack({ response_action: 'errors', errors: { scope: 'Pick at least one kit option' } }));
    const targets = values.targets ? (values.targets.value?.selected_options ?? []).map((o) => o.value) : [];
    // Deploying is a transaction plus enqueued edge jobs: quick, but answer Slack first.
    await ack();
    try {
      const r = await deps.ctx.services.deployments.deploy({ modelId: m.modelId, actor: body.user.id, approvers: await deps.approvers.approvers(), scope, targets, interactionKey: `deploy:${view.id}`, ...(m.channel && m.ts ? { slack: { channel: m.channel, ts: m.ts } } : {}) });
      await tellUser(deps, m.channel ?? undefined, body.user.id, `:rocket: Deploying: ${r.activated.length} kit option(s) switched, ${r.deployments.length} edge deployment(s) queued.`);
    } catch (err) {
      const text = err instanceof ForbiddenError || err instanceof DomainError ? err.message : explain(deps, err, 'deploying');
      await tellUser(deps, m.channel ?? undefined, body.user.id, `:no_entry: ${escapeMrkdwn(text)}`);
    }
  });
}
