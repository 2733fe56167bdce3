// Global Bolt middleware: a redelivered event (X-Slack-Retry-Num, same event_id) or a replayed
// interaction (same view hash / action_ts) is acknowledged and not acted on again.
import type { Middleware, AnyMiddlewareArgs } from '@slack/bolt';
import type { AppContext } from '../app/context.js';

type Body = Record<string, any>;

/** The identity Slack gives a delivery; null for kinds Slack never retries (commands, options). */
export function deliveryKey(body: Body): { key: string; kind: string } | null {
  if (body.type === 'event_callback' && body.event_id) return { key: `event:${body.event_id}`, kind: 'event' };
  if (body.type === 'block_actions') {
    const where = body.container?.message_ts ?? body.view?.id ?? body.container?.view_id ?? 'none';
    const action = body.actions?.[0];
    if (!action?.action_ts) return null;
    return { key: `block_actions:${where}:${action.action_id}:${action.action_ts}`, kind: 'block_actions' };
  }
  // Each submit has its own trigger_id; the view hash alone repeats after `response_action: errors`
  // (the view is unchanged), which would drop the corrected resubmission.
  if (body.type === 'view_submission' && body.view?.id) return { key: `view_submission:${body.view.id}:${body.trigger_id ?? body.view.hash}`, kind: 'view_submission' };
  return null;
}

export function dedupeMiddleware(ctx: AppContext): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const id = deliveryKey(args.body as Body);
    if (id && !(await ctx.services.deliveries.recordDelivery(id.key, id.kind))) {
      ctx.logger.info({ key: id.key, retryNum: args.context.retryNum }, 'Slack redelivery ignored');
      const ack = (args as { ack?: () => Promise<void> }).ack;
      if (ack) await ack();
      return;
    }
    await args.next();
  };
}
