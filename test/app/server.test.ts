// The real server over real HTTP: health, readiness, clear errors for unknown routes.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestAssay, type TestAssay } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

let assay: TestAssay;
beforeAll(async () => {
  assay = await startTestAssay();
});
afterAll(async () => assay.stop());

describe('assay start', () => {
  it('answers /healthz and /readyz', async () => {
    expect(await (await fetch(`${assay.url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${assay.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });

  it('unknown routes get a JSON 404, never a stack trace', async () => {
    const r = await fetch(`${assay.url}/nowhere`, { method: 'POST', body: 'x' });
    expect(r.status).toBe(404);
    const body = await r.text();
    expect(JSON.parse(body)).toEqual({ error: 'no route for POST /nowhere' });
    expect(body).not.toMatch(/at .*\.ts:\d+/);
  });

  it('runs jobs through the real Agenda on the same database', async () => {
    let resolveRan: (data: unknown) => void;
    const ran = new Promise((r) => (resolveRan = r));
    assay.ctx.agenda.define('test.echo', async (job) => resolveRan(job.attrs.data));
    await assay.ctx.agenda.now('test.echo', { hello: 'world' });
    expect(await ran).toEqual({ hello: 'world' });
    // The job is a row of the application's own database, marked finished there.
    const finished = await waitFor('the test.echo job row finished', async () => (await assay.ctx.db.pool.query(`SELECT data FROM agenda_jobs WHERE name = 'test.echo' AND last_finished_at IS NOT NULL`)).rows[0]);
    expect(typeof finished.data === 'string' ? JSON.parse(finished.data) : finished.data).toEqual({ hello: 'world' });
  });
});
