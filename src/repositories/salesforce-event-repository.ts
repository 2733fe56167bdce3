// Salesforce events as stored by the webhooks (salesforce_events): the intake's SQL.
import type { EntityManager } from 'typeorm';

export interface NewSalesforceEventRow {
  key: string;
  source: string;
  entity_name: string | null;
  change_type: string | null;
  record_ids: string[];
  commit_ts: string | null;
  payload: unknown;
  status: 'received' | 'ignored';
  error: string | null;
}

export interface UnappliedEventRow {
  id: string;
  source: string;
  entity_name: string | null;
  record_ids: string[];
  status: string;
  error: string | null;
  received_at: Date;
  total: number;
}

const UNAPPLIED = `(status = 'failed' AND received_at > now() - interval '7 days')
   OR (status = 'received' AND (error IS NOT NULL OR received_at < now() - interval '10 minutes'))`;

export class SalesforceEventRepository {
  constructor(private readonly db: EntityManager) {}

  /** All rows in one INSERT (one round trip, all or nothing); a key stored before is skipped. */
  insertNew(rows: NewSalesforceEventRow[]): Promise<{ id: string; event_key: string; status: string }[]> {
    return this.db.query(
      `INSERT INTO salesforce_events (event_key, source, entity_name, change_type, record_ids, commit_timestamp, payload, status, error, processed_at)
       SELECT e.key, e.source, e.entity_name, e.change_type, ARRAY(SELECT jsonb_array_elements_text(e.record_ids)), e.commit_ts::timestamptz,
              e.payload, e.status, e.error, CASE WHEN e.status = 'ignored' THEN now() END
         FROM jsonb_to_recordset($1::jsonb) AS e(key text, source text, entity_name text, change_type text, record_ids jsonb, commit_ts text, payload jsonb, status text, error text)
       ON CONFLICT (event_key) DO NOTHING
       RETURNING id, event_key, status`,
      [JSON.stringify(rows)],
    );
  }

  /** Ids of the events with these keys that are still waiting to be applied. */
  async receivedIdsByKey(keys: string[]): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(`SELECT id FROM salesforce_events WHERE event_key = ANY($1::text[]) AND status = 'received'`, [keys]);
    return rows.map((r) => r.id);
  }

  /** Received more than `olderThanMinutes` ago and never applied, oldest first (at most 1000). */
  async receivedBefore(olderThanMinutes: number): Promise<string[]> {
    const rows: { id: string }[] = await this.db.query(
      `SELECT id FROM salesforce_events WHERE status = 'received' AND received_at < now() - make_interval(mins => $1) ORDER BY received_at LIMIT 1000`,
      [olderThanMinutes],
    );
    return rows.map((r) => r.id);
  }

  /** Events received in the last 24 hours, counted by status. */
  countsLastDay(): Promise<{ status: string; n: number }[]> {
    return this.db.query(`SELECT status, count(*)::int AS n FROM salesforce_events WHERE received_at > now() - interval '24 hours' GROUP BY status`);
  }

  /** Failed in the last 7 days, waiting, or pending for more than 10 minutes: newest first, with the total. */
  unapplied(limit: number): Promise<UnappliedEventRow[]> {
    return this.db.query(
      `SELECT id, source, entity_name, record_ids, status, error, received_at, count(*) OVER ()::int AS total
         FROM salesforce_events WHERE ${UNAPPLIED} ORDER BY received_at DESC LIMIT $1`,
      [limit],
    );
  }
}
