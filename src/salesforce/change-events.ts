// Change Data Capture events relayed as JSON (an Apex change-event trigger or a CometD/Pub-Sub
// relay): one event, an array, or {events: [...]}; each raw or in CometD's {payload, event} shape.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ASSAY_CLIENT_ID } from './client.js';
import type { InboundEvent } from '../services/ports/catalog-source.js';

export const MAX_EVENTS_PER_REQUEST = 500;

const changeTypes = ['CREATE', 'UPDATE', 'DELETE', 'UNDELETE', 'GAP_CREATE', 'GAP_UPDATE', 'GAP_DELETE', 'GAP_UNDELETE', 'GAP_OVERFLOW'] as const;

const header = z.looseObject({
  entityName: z.string().min(1).max(100),
  recordIds: z.array(z.string().max(40)).max(10_000).default([]),
  changeType: z.enum(changeTypes),
  changeOrigin: z.string().max(1000).optional(),
  transactionKey: z.string().max(100).optional(),
  sequenceNumber: z.number().int().nonnegative().optional(),
  commitTimestamp: z.number().int().positive().optional(),
});

const eventBody = z.looseObject({ ChangeEventHeader: header });
const cometd = z.looseObject({ payload: eventBody, event: z.looseObject({ replayId: z.union([z.number(), z.string()]).optional() }).optional() });
const one = z.union([cometd, eventBody]);
export const changeEventsBody = z.union([z.array(one).min(1).max(MAX_EVENTS_PER_REQUEST), z.object({ events: z.array(one).min(1).max(MAX_EVENTS_PER_REQUEST) }), one]);

export type ChangeEventsBody = z.infer<typeof changeEventsBody>;

/** `client=assay` in changeOrigin: the change came from Assay's own API calls. */
export function causedByAssay(changeOrigin: string | undefined): boolean {
  return new RegExp(`(^|[;,\\s])client=${ASSAY_CLIENT_ID}($|[;,\\s])`, 'i').test(changeOrigin ?? '');
}

export function toInboundEvents(body: ChangeEventsBody): InboundEvent[] {
  const list: z.infer<typeof one>[] = Array.isArray(body) ? body : 'events' in body && Array.isArray(body.events) ? (body.events as z.infer<typeof one>[]) : [body as z.infer<typeof one>];
  return list.map((item) => {
    const payload = ('payload' in item ? item.payload : item) as z.infer<typeof eventBody>;
    const replayId = 'event' in item ? (item.event as { replayId?: unknown } | undefined)?.replayId : undefined;
    const h = payload.ChangeEventHeader;
    // Replay ids are per channel; the transaction key + sequence is unique across the org.
    const key =
      replayId !== undefined
        ? `cdc:replay:${h.entityName}:${String(replayId)}`
        : h.transactionKey && h.sequenceNumber !== undefined
          ? `cdc:tx:${h.transactionKey}:${h.sequenceNumber}`
          : `cdc:sha256:${createHash('sha256').update(JSON.stringify(payload)).digest('hex')}`;
    const event: InboundEvent = {
      key,
      source: 'cdc',
      entityName: h.entityName,
      changeType: h.changeType,
      recordIds: h.recordIds,
      commitTimestamp: h.commitTimestamp ? new Date(h.commitTimestamp) : null,
      payload: payload as Record<string, unknown>,
    };
    if (causedByAssay(h.changeOrigin)) event.ignoredReason = 'caused by Assay (changeOrigin client=assay)';
    return event;
  });
}
