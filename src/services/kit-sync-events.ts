// Durable intake of Salesforce events: all events of one request in a single INSERT (one
// round trip, all or nothing), duplicates recognised by event_key. Only after this commits does
// the webhook answer 200/Ack; then one `salesforce.sync` job per event applies it.
import type { DataSource } from 'typeorm';
import type { InboundEvent } from '../salesforce/inbound-event.js';
import type { JobQueue } from '../jobs/job-system.js';
import { JOBS } from '../jobs/names.js';

export interface StoredEvents {
  stored: number;
  duplicates: number;
  ignored: number;
  /** Event ids waiting for their apply job (new ones, and duplicates still unapplied). */
  pending: string[];
}

export async function storeEvents(dataSource: DataSource, events: InboundEvent[]): Promise<StoredEvents> {
  const rows = events.map((e) => ({
    key: e.key,
    source: e.source,
    entity_name: e.entityName,
    change_type: e.changeType,
    record_ids: e.recordIds,
    commit_ts: e.commitTimestamp?.toISOString() ?? null,
    payload: e.payload,
    status: e.ignoredReason ? 'ignored' : 'received',
    error: e.ignoredReason ?? null,
  }));
  const inserted: { id: string; event_key: string; status: string }[] = await dataSource.query(
    `INSERT INTO salesforce_events (event_key, source, entity_name, change_type, record_ids, commit_timestamp, payload, status, error, processed_at)
     SELECT e.key, e.source, e.entity_name, e.change_type, ARRAY(SELECT jsonb_array_elements_text(e.record_ids)), e.commit_ts::timestamptz,
            e.payload, e.status, e.error, CASE WHEN e.status = 'ignored' THEN now() END
       FROM jsonb_to_recordset($1::jsonb) AS e(key text, source text, entity_name text, change_type text, record_ids jsonb, commit_ts text, payload jsonb, status text, error text)
     ON CONFLICT (event_key) DO NOTHING
     RETURNING id, event_key, status`,
    [JSON.stringify(rows)],
  );
  const pending = inserted.filter((r) => r.status === 'received').map((r) => r.id);
  const uniqueKeys = new Set(events.map((e) => e.key));
  const duplicates = events.length - inserted.length;
  if (inserted.length < uniqueKeys.size) {
    // A redelivery of something stored earlier: if it was never applied (its job got lost), apply it now.
    const seen = new Set(inserted.map((r) => r.event_key));
    const again: { id: string }[] = await dataSource.query(`SELECT id FROM salesforce_events WHERE event_key = ANY($1::text[]) AND status = 'received'`, [
      [...uniqueKeys].filter((k) => !seen.has(k)),
    ]);
    pending.push(...again.map((r) => r.id));
  }
  return { stored: inserted.length, duplicates, ignored: inserted.filter((r) => r.status === 'ignored').length, pending };
}

export async function enqueueApply(queue: JobQueue, eventIds: string[]): Promise<void> {
  await Promise.all(eventIds.map((eventId) => queue.now(JOBS.salesforceSync, { eventId })));
}

/** Events stored but never applied (e.g. the process died between commit and enqueue). */
export async function unappliedEvents(dataSource: DataSource, olderThanMinutes: number): Promise<string[]> {
  const rows: { id: string }[] = await dataSource.query(
    `SELECT id FROM salesforce_events WHERE status = 'received' AND received_at < now() - make_interval(mins => $1) ORDER BY received_at LIMIT 1000`,
    [olderThanMinutes],
  );
  return rows.map((r) => r.id);
}
