// GET /metrics for Prometheus, behind ASSAY_METRICS_TOKEN (Authorization: Bearer). Without the
// token it is off and says so (503). ASSAY_METRICS_PORT serves the same on a port of its own —
// the way to scrape a `--worker` process, which has no HTTP server otherwise.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express, NextFunction, Request, Response } from 'express';
import type { AppContext } from '../app/context.js';
import type { Metrics, WebhookSource } from '../app/metrics.js';
import { sameSecret } from '../domain/signature.js';

export const METRICS_PATH = '/metrics';

type Answer = { status: number; type: string; body: string };

async function answer(metrics: Metrics, token: string | undefined, authorization: string | undefined): Promise<Answer> {
  const json = (status: number, error: string): Answer => ({ status, type: 'application/json', body: JSON.stringify({ error }) });
  if (!token) return json(503, 'metrics are off: set ASSAY_METRICS_TOKEN to enable /metrics');
  const m = /^bearer\s+(.+)$/i.exec(authorization ?? '');
  if (!m || !sameSecret(m[1]!.trim(), token)) return json(401, 'metrics token required (Authorization: Bearer $ASSAY_METRICS_TOKEN)');
  return { status: 200, type: metrics.registry.contentType, body: await metrics.registry.metrics() };
}

export function registerMetricsRoute(app: Express, ctx: AppContext): void {
  app.get(METRICS_PATH, (req: Request, res: Response, next: NextFunction) => {
    answer(ctx.metrics, ctx.config.metrics.token, req.get('authorization'))
      .then((a) => res.status(a.status).type(a.type).send(a.body))
      .catch(next);
  });
}

/** The separate listener (ASSAY_METRICS_PORT): /metrics only. */
export async function startMetricsServer(ctx: AppContext, port: number, host: string): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== METRICS_PATH) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'only GET /metrics here' }));
      return;
    }
    answer(ctx.metrics, ctx.config.metrics.token, req.headers.authorization)
      .then((a) => res.writeHead(a.status, { 'content-type': a.type }).end(a.body))
      .catch(() => res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"metrics unavailable"}'));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  ctx.logger.info({ port: (server.address() as AddressInfo).port }, 'metrics served on their own port');
  return server;
}

/** Counts requests to a webhook that end refused (4xx: signature, body, type, size...). */
export function countRefusals(metrics: Metrics, source: WebhookSource) {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.once('finish', () => {
      if (res.statusCode >= 400 && res.statusCode < 500) metrics.webhook(source, 'refused');
    });
    next();
  };
}

const SLACK_TYPES = new Set(['block_actions', 'view_submission', 'view_closed', 'block_suggestion', 'event_callback', 'url_verification', 'shortcut', 'message_action']);

/** Times Slack requests from arrival to the answer Bolt sends when a listener acks. */
export function slackAckTimer(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const end = metrics.slackAck.startTimer();
    res.once('finish', () => {
      // Bolt leaves the parsed payload in req.body.
      const body = (req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? req.body : {}) as { command?: unknown; type?: unknown };
      const type = typeof body.command === 'string' ? 'slash_command' : typeof body.type === 'string' && SLACK_TYPES.has(body.type) ? body.type : 'other';
      end({ type });
    });
    next();
  };
}
