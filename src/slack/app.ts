// The Slack surface: one Bolt app per process, HTTP (ExpressReceiver on /slack/events, signatures
// always verified) or Socket Mode when SLACK_APP_TOKEN is set. Shared by the HTTP routes and the
// bootstrap (notifier + domain-event listeners), so both roles reuse one client.
import express from 'express';
import type { App as BoltApp } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../app/context.js';
import type { Logger } from '../app/logger.js';
import { App, ExpressReceiver, HTTPModuleFunctions, LogLevel, SocketModeReceiver, webApi } from './bolt.js';
import { BotIdentity } from './bot-identity.js';
import { ApproverDirectory } from './approvers.js';
import { dedupeMiddleware } from './dedupe.js';
import { TrainingMessages } from './training-messages.js';
import { registerListeners } from './listeners/index.js';

export interface SlackSurface {
  app: BoltApp;
  client: WebClient;
  /** Mounted at POST /slack/events in HTTP mode; absent in Socket Mode. */
  router: express.Router | null;
  approvers: ApproverDirectory;
  messages: TrainingMessages;
  /** The bot's ids, learnt once in the background (see bot-identity.ts). */
  identity: BotIdentity;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Bolt's logger interface over pino; Bolt's own debug chatter stays at debug. */
function boltLogger(logger: Logger) {
  const child = logger.child({ component: 'slack' });
  return {
    debug: (...m: unknown[]) => child.debug(m.map(String).join(' ')),
    info: (...m: unknown[]) => child.info(m.map(String).join(' ')),
    warn: (...m: unknown[]) => child.warn(m.map(String).join(' ')),
    error: (...m: unknown[]) => child.error(m.map(String).join(' ')),
    setLevel: () => undefined,
    getLevel: () => LogLevel.INFO,
    setName: () => undefined,
  };
}

const surfaces = new WeakMap<AppContext, SlackSurface>();

export function slackSurface(ctx: AppContext): SlackSurface | null {
  const cfg = ctx.config.slack;
  if (!cfg) return null;
  const existing = surfaces.get(ctx);
  if (existing) return existing;
  const logger = boltLogger(ctx.logger);
  const clientOptions = { ...(cfg.apiUrl ? { slackApiUrl: cfg.apiUrl.replace(/\/?$/, '/') } : {}), retryConfig: { retries: 2, factor: 1.5, minTimeout: 200, maxTimeout: 2000 } };
  // Assay's own client (notifier, training messages, approvers); Bolt makes per-request ones from
  // the token `authorize` returns. Bolt takes either a token or an authorize hook, not both.
  const client = new webApi.WebClient(cfg.botToken, { ...clientOptions, logger });
  const identity = new BotIdentity(client, cfg.botToken, ctx.logger.child({ component: 'slack' }));
  const authorize = identity.authorize;
  let router: express.Router | null = null;
  let app: BoltApp;
  if (cfg.appToken) {
    const receiver = new SocketModeReceiver({ appToken: cfg.appToken, logger, logLevel: LogLevel.INFO });
    app = new App({ authorize, receiver, logger, clientOptions });
  } else {
    router = express.Router();
    const receiver = new ExpressReceiver({
      signingSecret: cfg.signingSecret,
      endpoints: '/slack/events',
      processBeforeResponse: false,
      router,
      logger,
      // Bolt answers 401 on a bad or stale (over 5 min) signature; we never turn that off.
      signatureVerification: true,
      // A signed body that is no Slack payload at all (JSON `null`) makes Bolt throw: the
      // sender's mistake, so 400 rather than Bolt's default 500.
      processEventErrorHandler: async (args) => {
        const body: unknown = (args.request as { body?: unknown }).body;
        if (!args.response.headersSent && (body === null || typeof body !== 'object')) {
          args.response.writeHead(400).end();
          return true;
        }
        return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
      },
    });
    app = new App({ authorize, receiver, logger, clientOptions });
  }
  app.error(async (err) => {
    ctx.logger.error({ err: (err as Error).message, code: (err as { code?: string }).code }, 'Slack listener failed');
  });
  const approvers = new ApproverDirectory(client, ctx.config.approvers, cfg.approverGroup, ctx.logger);
  const messages = new TrainingMessages(ctx, client);
  app.use(dedupeMiddleware(ctx));
  registerListeners(app, { ctx, client, approvers, messages });
  const surface: SlackSurface = {
    app,
    client,
    router,
    approvers,
    messages,
    identity,
    async start() {
      identity.start();
      if (cfg.appToken) await app.start();
    },
    async stop() {
      identity.stop();
      messages.stop();
      if (cfg.appToken) await app.stop().catch(() => undefined);
    },
  };
  surfaces.set(ctx, surface);
  return surface;
}
