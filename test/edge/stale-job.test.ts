// The recurring edge.stale-check job on the real Agenda worker reports a silent edge once.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditLogEntry } from '../../src/db/entities/index.js';
import { JOBS } from '../../src/services/ports/job-queue.js';
import { systemActor } from '../../src/services/audit.js';
import { addEdge } from '../../src/services/edge-service.js';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let assay: TestAssay;
beforeAll(async () => {
  assay = await startTestAssay({ EDGE_STALE_AFTER_MINUTES: '5' }, { worker: true, web: false });
});
afterAll(async () => assay.stop());

describe('edge.stale-check job', () => {
  it('notices an edge silent for longer than EDGE_STALE_AFTER_MINUTES', async () => {
    const m = assay.ctx.db.dataSource.manager;
    const { edge } = await addEdge(m, 'quiet-edge', systemActor);
    await addEdge(m, 'chatty-edge', systemActor);
    await m.query(`UPDATE edge_servers SET last_heartbeat_at = now() - interval '6 minutes' WHERE name = 'quiet-edge'`);
    await m.query(`UPDATE edge_servers SET last_heartbeat_at = now() - interval '4 minutes' WHERE name = 'chatty-edge'`);
    await assay.ctx.queue.now(JOBS.edgeStaleCheck, {});
    const notices = await waitFor('the stale notice', async () => {
      const found = await m.findBy(AuditLogEntry, { action: 'notice.edge.stale' });
      return found.length ? found : null;
    }, 20_000);
    expect(notices.map((n) => n.entityId)).toEqual([edge.id]);
    expect((notices[0]!.details as { text: string }).text).toMatch(/Edge server quiet-edge has sent no heartbeat since .* \(more than 5 min\)/);
  });
});
