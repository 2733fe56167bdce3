// Graceful stop (what SIGTERM runs): the running job finishes before Agenda and the database
// close; a job that outlives the window is reported and left to the lock-expiry takeover.
import { describe, expect, it } from '@jest/globals';
import { startTestAssay } from '../helpers/server.js';

async function until(cond: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function gate() {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('drain', () => {
  it('waits for the running job to finish, then closes', async () => {
    const assay = await startTestAssay({}, { worker: true, web: true });
    const events: string[] = [];
    const release = gate();
    assay.ctx.agenda.define('test.drain-step', async () => {
      events.push('job started');
      await release.opened;
      events.push('job finished');
    });
    await assay.ctx.agenda.now('test.drain-step', {});
    await until(() => events.includes('job started'), 'the job to start');
    const drained = assay.drain(30_000).then((left) => {
      events.push('drained');
      return left;
    });
    // Still draining while the job runs; new HTTP connections are refused already.
    await until(() => assay.server!.listening === false, 'the server to stop listening');
    expect(events).toEqual(['job started']);
    release.open();
    expect(await drained).toEqual({ openConnections: false, runningJobs: 0 });
    expect(events).toEqual(['job started', 'job finished', 'drained']);
    await assay.stop(); // closed once: stop() after drain() is a no-op
  });

  it('a job running past the window is reported, and the drain still ends', async () => {
    const assay = await startTestAssay({}, { worker: true, web: false });
    const release = gate();
    let started = false;
    assay.ctx.agenda.define('test.drain-long', async () => {
      started = true;
      await release.opened;
    });
    await assay.ctx.agenda.now('test.drain-long', {});
    await until(() => started, 'the job to start');
    expect(await assay.drain(200)).toEqual({ openConnections: false, runningJobs: 1 });
    release.open();
    await assay.stop();
  });
});
