// Salesforce → Assay: signed JSON change events and SOAP Outbound Messages. Handlers verify,
// store durably, enqueue, answer; anything that fails before the commit answers 5xx so that
// Salesforce (or the relay) delivers again. Applying happens in the salesforce.sync job.
import type { Express, Request, Response } from 'express';
import { z } from 'zod';
import type { AppContext } from '../app/context.js';
import { changeEventsBody, toInboundEvents } from '../salesforce/change-events.js';
import { OUTBOUND_ACK, OutboundMessageError, outboundProblem, parseOutboundMessage } from '../salesforce/outbound-message.js';
import { salesforceApiConfigured } from '../salesforce/client.js';
import { sameSecret, verifySignature } from '../domain/signature.js';
import type { InboundEvent } from '../services/ports/catalog-source.js';
import type { StoredEvents } from '../services/kit-sync-events.js';
import type { WebhookSource } from '../app/metrics.js';
import { readBody, parseJsonBody } from './body.js';
import { countRefusals } from './metrics-route.js';
import { HttpError } from './errors.js';
import { registerOperation } from './openapi.js';

export const SALESFORCE_WEBHOOK_PATH = '/webhooks/salesforce';
export const SALESFORCE_OUTBOUND_PATH = '/webhooks/salesforce/outbound/:token';
export const CDC_NEEDS_API =
  'change events need the Salesforce API to re-read the records they name, and it is not configured (SF_CLIENT_ID + SF_USERNAME + SF_PRIVATE_KEY_PATH, or SF_ALIAS); nothing stored. Without API credentials use Outbound Messages (README: Wiring Salesforce)';

/** Apply-job inserts not yet confirmed; above the cap, requests wait for theirs (backpressure). */
let enqueuesInFlight = 0;
const MAX_ENQUEUES_IN_FLIGHT = 500;

async function storeAndEnqueue(ctx: AppContext, events: InboundEvent[], source: WebhookSource): Promise<StoredEvents> {
  let stored: StoredEvents;
  try {
    stored = await ctx.services.kitSync.storeEvents(events);
  } catch (err) {
    ctx.logger.error({ err }, 'could not store Salesforce events; answering 503 so Salesforce retries');
    throw new HttpError(503, 'events not stored, retry later');
  }
  ctx.metrics.webhook(source, 'stored', stored.stored);
  ctx.metrics.webhook(source, 'duplicate', stored.duplicates);
  ctx.metrics.webhook(source, 'ignored', stored.ignored);
  if (stored.pending.length === 0) return stored;
  // The stored row (status 'received') is the durable part: Salesforce may have its Ack now.
  // A lost enqueue is healed by a redelivery or by the reconcile sweep of unapplied events.
  enqueuesInFlight += stored.pending.length;
  const enqueued = ctx.services.kitSync.enqueueApply(stored.pending)
    .catch((err) => ctx.logger.error({ err, events: stored.pending.length }, 'could not enqueue Salesforce events; the reconcile sweep will'))
    .finally(() => (enqueuesInFlight -= stored.pending.length));
  if (enqueuesInFlight > MAX_ENQUEUES_IN_FLIGHT) await enqueued;
  return stored;
}

const stored = z.object({ stored: z.number().int(), duplicates: z.number().int(), ignored: z.number().int() });
const errorBody = z.object({ error: z.string() });
registerOperation({
  method: 'post',
  path: SALESFORCE_WEBHOOK_PATH,
  summary: 'Salesforce change events (CDC shape, one or a batch), HMAC-signed',
  description: 'Signature: X-Assay-Signature: sha256=hex(HMAC-SHA256(SF_WEBHOOK_SECRET, X-Assay-Timestamp + "." + raw body)); timestamp in Unix seconds, within 5 minutes.',
  tags: ['salesforce'],
  request: { body: changeEventsBody, headers: z.object({ 'x-assay-timestamp': z.string(), 'x-assay-signature': z.string() }) },
  responses: { 200: { description: 'stored (or recognised as duplicates)', body: stored }, 400: { description: 'malformed JSON, nested deeper than 64 levels, or not a change event', body: errorBody }, 401: { description: 'bad signature or stale timestamp', body: errorBody }, 422: { description: 'Salesforce API credentials not configured: change events cannot be applied; nothing stored', body: errorBody }, 413: { description: 'body over 1 MB', body: errorBody }, 415: { description: 'not application/json', body: errorBody }, 503: { description: 'not stored; retry', body: errorBody } },
});
registerOperation({
  method: 'post',
  path: SALESFORCE_OUTBOUND_PATH,
  summary: 'Salesforce Outbound Message (SOAP, up to 100 notifications)',
  tags: ['salesforce'],
  request: { params: z.object({ token: z.string().describe('SF_OUTBOUND_TOKEN') }), body: z.string(), bodyContentType: 'text/xml' },
  responses: { 200: { description: 'SOAP Ack, sent after every notification is stored', body: z.string(), contentType: 'text/xml' }, 400: { description: 'malformed XML or not an Outbound Message', body: errorBody }, 403: { description: 'wrong token or OrganizationId', body: errorBody }, 422: { description: 'an object Assay does not sync, or (without API credentials) a notification missing the fields needed to apply it; nothing stored', body: errorBody }, 413: { description: 'body over 1 MB', body: errorBody }, 415: { description: 'not text/xml', body: errorBody }, 503: { description: 'not stored; Salesforce retries', body: errorBody } },
});

// Salesforce's own outbound sizes are small; 1 MB fits 100 notifications with room to spare.
const MAX_BODY = 1024 * 1024;
const jsonBody = readBody({ limitBytes: MAX_BODY, types: ['application/json'] });
const soapBody = readBody({ limitBytes: MAX_BODY, types: ['text/xml', 'application/xml', 'application/soap+xml'] });

export function registerSalesforceWebhooks(app: Express, ctx: AppContext): void {
  const sf = ctx.config.salesforce;

  app.post(SALESFORCE_WEBHOOK_PATH, countRefusals(ctx.metrics, 'salesforce_cdc'), jsonBody, async (req: Request, res: Response) => {
    if (!sf.webhookSecret) throw new HttpError(404, 'the Salesforce change webhook is not configured (SF_WEBHOOK_SECRET)');
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const check = verifySignature(sf.webhookSecret, req.get('x-assay-timestamp'), req.get('x-assay-signature'), body);
    if (!check.ok) throw new HttpError(401, check.reason);
    const parsed = changeEventsBody.safeParse(parseJsonBody(body));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new HttpError(400, `not a change event: ${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
    }
    // A change event only names records; Assay re-reads them through the API. Without it the
    // event could never be applied: say so now rather than store it and fail later.
    if (!salesforceApiConfigured(sf)) throw new HttpError(422, CDC_NEEDS_API);
    const stored = await storeAndEnqueue(ctx, toInboundEvents(parsed.data), 'salesforce_cdc');
    res.json({ stored: stored.stored, duplicates: stored.duplicates, ignored: stored.ignored });
  });

  app.post(SALESFORCE_OUTBOUND_PATH, countRefusals(ctx.metrics, 'salesforce_outbound'), soapBody, async (req: Request, res: Response) => {
    if (!sf.outbound) throw new HttpError(404, 'Salesforce Outbound Messages are not configured (SF_ORG_ID, SF_OUTBOUND_TOKEN)');
    if (!sameSecret(String(req.params.token ?? ''), sf.outbound.token)) throw new HttpError(403, 'unknown endpoint token');
    let message;
    try {
      message = parseOutboundMessage(Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '');
    } catch (e) {
      if (e instanceof OutboundMessageError) throw new HttpError(400, e.message);
      throw e;
    }
    // 15- and 18-character ids of the same org share their first 15 characters.
    if (message.organizationId.slice(0, 15) !== sf.outbound.orgId.slice(0, 15)) throw new HttpError(403, 'OrganizationId does not match SF_ORG_ID');
    const problem = outboundProblem(message, sf.objects, salesforceApiConfigured(sf));
    if (problem) throw new HttpError(422, problem);
    await storeAndEnqueue(ctx, message.events, 'salesforce_outbound');
    res.status(200).type('text/xml; charset=utf-8').send(OUTBOUND_ACK);
  });
}
