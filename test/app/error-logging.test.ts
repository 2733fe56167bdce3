// Failures nobody awaits still reach the log: an ops notice Slack refused, a dropped pool connection.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import nock from 'nock';
import pg from 'pg';
import { AuditLogEntry } from '../../src/db/entities/index.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { mockSlackApi, SLACK_ENV } from '../helpers/slack.js';
import { waitFor } from '../helpers/wait.js';

const logged = (lines: string[], msg: string) => lines.map((l) => JSON.parse(l)).filter((l) => l.msg === msg);

describe('an ops notice the Slack ops channel refuses', () => {
  let assay: TestAssay;
  const logLines: string[] = [];
  beforeAll(async () => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    assay = await startTestAssay({ ...SLACK_ENV, SLACK_OPS_CHANNEL: 'C_OPS', LOG_LEVEL: 'warn' }, { worker: false, logLines });
  });
  afterAll(async () => {
    await assay?.stop();
    nock.cleanAll();
    nock.enableNetConnect();
  });

  it('is still audited, and the failure is logged (without the token) and counted', async () => {
    const slack = mockSlackApi({ 'chat.postMessage': () => ({ ok: false, error: 'channel_not_found' }) });
    await assay.ctx.notifier.notify({ kind: 'edge.stale', text: 'Edge server e1 has sent no heartbeat', entityType: 'edge_server', entityId: 'e1' });
    expect(slack.of('chat.postMessage').map((c) => c.body.channel)).toEqual(['C_OPS']);
    expect(await assay.ctx.db.dataSource.manager.countBy(AuditLogEntry, { action: 'notice.edge.stale', entityId: 'e1' })).toBe(1);

    const [line] = logged(logLines, 'an ops notice was not delivered to one target');
    expect(line).toMatchObject({ level: 40, target: 'slack', kind: 'edge.stale', error: expect.stringContaining('channel_not_found') });
    const raw = logLines.join('\n');
    expect(raw).not.toContain('xoxb');
    expect(raw).not.toContain('[redacted]'); // nothing secret was even handed to the logger
    expect(raw.toLowerCase()).not.toContain('authorization');

    const counted = await assay.ctx.metrics.registry.getSingleMetric('assay_notice_failures_total')!.get();
    expect(counted.values).toEqual([{ labels: { target: 'slack' }, value: 1 }]);
  });
});

// The embedded database has no connections to lose; this needs a server that can drop them.
if (process.env.DATABASE_URL) {
  describe('a pool connection the server drops', () => {
    let assay: TestAssay;
    const logLines: string[] = [];
    beforeAll(async () => {
      assay = await startTestAssay({ LOG_LEVEL: 'warn' }, { worker: false, web: false, logLines });
    });
    afterAll(async () => assay?.stop());

    it('is logged as a warning naming the pool, and the next query still works', async () => {
      // Both pools hold an idle connection after a query (Agenda's start-up done first: it shares one).
      await assay.ctx.agenda.ready;
      await assay.ctx.db.pool.query('SELECT 1');
      await assay.ctx.db.dataSource.query('SELECT 1');
      const admin = new pg.Client({ connectionString: assay.config.database.url });
      await admin.connect();
      try {
        await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle'`);
      } finally {
        await admin.end();
      }
      const lines = await waitFor('both pools to report the lost connection', () => {
        const found = logged(logLines, 'database pool error (an idle connection was lost); the next query reconnects');
        return new Set(found.map((l) => l.pool)).size === 2 ? found : null;
      });
      for (const l of lines) expect(l).toMatchObject({ level: 40, error: expect.stringMatching(/terminat/i) });
      expect(logLines.join('\n')).not.toContain('[redacted]');
      expect((await assay.ctx.db.pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      expect(await assay.ctx.db.dataSource.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    });
  });
}
