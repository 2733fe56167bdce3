import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * catalog_sync_runs: every full Salesforce reconciliation (Slack /assay sync, the schedule, the
 * CLI), so `/assay sync` can say when the last one ran and how it ended, and refuse a second
 * while one is queued or running. The partial unique index allows one open run at a time.
 */
export class CatalogSyncRuns1732300000700 implements MigrationInterface {
  name = 'CatalogSyncRuns1732300000700';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE catalog_sync_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  requested_by text NOT NULL,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'completed', 'failed')),
  requested_at timestamptz NOT NULL DEFAULT now(),
  started_at timestamptz,
  finished_at timestamptz,
  summary jsonb,
  error text
);
CREATE UNIQUE INDEX catalog_sync_runs_one_open ON catalog_sync_runs ((true)) WHERE status IN ('queued', 'running');
CREATE INDEX catalog_sync_runs_finished_idx ON catalog_sync_runs (finished_at DESC) WHERE finished_at IS NOT NULL;
`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE IF EXISTS catalog_sync_runs;`);
  }
}
