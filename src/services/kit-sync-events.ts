// Durable intake of Salesforce events: all events of one request in a single INSERT (one
// round trip, all or nothing), duplicates recognised by event_key. Only after this commits does
// the webhook answer 200/Ack; then one `salesforce.sync` job per event applies it.
import type { DataSource } from 'typeorm';
import { SalesforceEventRepository } from '../repositories/salesforce-event-repository.js';
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
  const repo = new SalesforceEventRepository(dataSource.manager);
  const inserted = await repo.insertNew(
    events.map((e) => ({
      key: e.key,
      source: e.source,
      entity_name: e.entityName,
      change_type: e.changeType,
      record_ids: e.recordIds,
      commit_ts: e.commitTimestamp?.toISOString() ?? null,
      payload: e.payload,
      status: e.ignoredReason ? 'ignored' : 'received',
      error: e.ignoredReason ?? null,
    })),
  );
  const pending = inserted.filter((r) => r.status === 'received').map((r) => r.id);
  const uniqueKeys = new Set(events.map((e) => e.key));
  const duplicates = events.length - inserted.length;
  if (inserted.length < uniqueKeys.size) {
    // A redelivery of something stored earlier: if it was never applied (its job got lost), apply it now.
    const seen = new Set(inserted.map((r) => r.event_key));
    pending.push(...(await repo.receivedIdsByKey([...uniqueKeys].filter((k) => !seen.has(k)))));
  }
  return { stored: inserted.length, duplicates, ignored: inserted.filter((r) => r.status === 'ignored').length, pending };
}

export async function enqueueApply(queue: JobQueue, eventIds: string[]): Promise<void> {
  await Promise.all(eventIds.map((eventId) => queue.now(JOBS.salesforceSync, { eventId })));
}

/** Events stored but never applied (e.g. the process died between commit and enqueue). */
export async function unappliedEvents(dataSource: DataSource, olderThanMinutes: number): Promise<string[]> {
  return new SalesforceEventRepository(dataSource.manager).receivedBefore(olderThanMinutes);
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

/** What `/assay status salesforce` shows: nothing Assay could not apply stays unseen. */
export async function salesforceIntakeStatus(dataSource: DataSource, limit = 10): Promise<IntakeStatus> {
  const repo = new SalesforceEventRepository(dataSource.manager);
  const counts = await repo.countsLastDay();
  const lastDay = { applied: 0, ignored: 0, failed: 0, received: 0 };
  for (const c of counts) if (c.status in lastDay) lastDay[c.status as keyof typeof lastDay] = c.n;
  const rows = await repo.unapplied(limit);
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
