// Attaching Slack to a running Assay: the HTTP route (HTTP mode) and, in every role, the ops
// notifier and the domain-event listeners that keep training messages current.
import type { Express } from 'express';
import type { AppContext } from '../app/context.js';
import type { Notice, Notifier } from '../app/notifier.js';
import { slackSurface } from './app.js';
import type { WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../views/blocks.js';
import { readBody } from '../http/body.js';
import { slackAckTimer } from '../http/metrics-route.js';

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slack's payloads (a full modal's state included) stay far below this. */
const SLACK_MAX_BODY = 2 * 1024 * 1024;

/** Route module: POST /slack/events, only when Slack is configured and not in Socket Mode. */
export function registerSlackRoutes(app: Express, ctx: AppContext): void {
  const surface = slackSurface(ctx);
  if (!surface?.router) return;
  // Read (capped, typed) before Bolt: Bolt would read any size, unsigned, before checking anything.
  app.post(SLACK_EVENTS_PATH, slackAckTimer(ctx.metrics), readBody({ limitBytes: SLACK_MAX_BODY, types: ['application/x-www-form-urlencoded', 'application/json'] }));
  app.use(surface.router);
}

/** Posts operational notices to SLACK_OPS_CHANNEL. */
export class SlackNotifier implements Notifier {
  readonly target = 'slack';
  constructor(private readonly client: WebClient, private readonly channel: string) {}
  async notify(n: Notice): Promise<void> {
    await this.client.chat.postMessage({ channel: this.channel, text: `:rotating_light: ${escapeMrkdwn(n.text)}`, unfurl_links: false });
  }
}

/** Called by the bootstrap in both roles; returns a stop function. */
export async function attachSlack(ctx: AppContext, roles: { web: boolean }): Promise<() => Promise<void>> {
  const surface = slackSurface(ctx);
  if (!surface) return async () => undefined;
  if (ctx.config.slack?.opsChannel) ctx.notifier.add(new SlackNotifier(surface.client, ctx.config.slack.opsChannel));
  surface.messages.listen();
  if (roles.web) await surface.start();
  return () => surface.stop();
}
