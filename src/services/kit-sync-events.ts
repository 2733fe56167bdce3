// Durable intake of Salesforce events: all events of one request in a single INSERT (one
// round trip, all or nothing), duplicates recognised by event_key. Only after this commits does
// the webhook answer 200/Ack; then one `salesforce.sync` job per event applies it.
import type { DataSource } from 'typeorm';
import type { InboundEvent } from './ports/catalog-source.js';
import type { JobQueue } from './ports/job-queue.js';
import { JOBS } from './ports/job-queue.js';

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

export interface UnappliedEvent {
  id: string;
  source: string;
  entityName: string | null;
  recordId: string | null;
  /** failed: given up; waiting: a junction waiting for its kit/option; pending: stored, not applied yet. */
  state: 'failed' | 'waiting' | 'pending';
  error: string | null;
  receivedAt: Date;
}

export interface IntakeStatus {
  /** Events received in the last 24 hours, by status (received = not applied yet). */
  lastDay: { applied: number; ignored: number; failed: number; received: number };
  /** Failed in the last 7 days, waiting, or pending for more than 10 minutes: newest first. */
  unapplied: UnappliedEvent[];
  unappliedTotal: number;
}

const UNAPPLIED = `(status = 'failed' AND received_at > now() - interval '7 days')
   OR (status = 'received' AND (error IS NOT NULL OR received_at < now() - interval '10 minutes'))`;

/** What `/assay status salesforce` shows: nothing Assay could not apply stays unseen. */
export async function salesforceIntakeStatus(dataSource: DataSource, limit = 10): Promise<IntakeStatus> {
  const counts: { status: string; n: number }[] = await dataSource.query(
    `SELECT status, count(*)::int AS n FROM salesforce_events WHERE received_at > now() - interval '24 hours' GROUP BY status`,
  );
  const lastDay = { applied: 0, ignored: 0, failed: 0, received: 0 };
  for (const c of counts) if (c.status in lastDay) lastDay[c.status as keyof typeof lastDay] = c.n;
  const rows: { id: string; source: string; entity_name: string | null; record_ids: string[]; status: string; error: string | null; received_at: Date; total: number }[] = await dataSource.query(
    `SELECT id, source, entity_name, record_ids, status, error, received_at, count(*) OVER ()::int AS total
       FROM salesforce_events WHERE ${UNAPPLIED} ORDER BY received_at DESC LIMIT $1`,
    [limit],
  );
  return {
    lastDay,
    unapplied: rows.map((r) => ({
      id: r.id,
      source: r.source,
      entityName: r.entity_name,
      recordId: r.record_ids[0] ?? null,
      state: r.status === 'failed' ? 'failed' : r.error ? 'waiting' : 'pending',
      error: r.error,
      receivedAt: new Date(r.received_at),
    })),
    unappliedTotal: rows[0]?.total ?? 0,
  };
}
