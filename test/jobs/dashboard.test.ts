// Agendash at /admin/jobs: admin token required (Bearer or Basic), off with a clear 503 without one.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startTestAssay, type TestAssay } from '../helpers/server.js';

const TOKEN = 'admin-token-0123456789abcdef';
let on: TestAssay;
let off: TestAssay;

beforeAll(async () => {
  on = await startTestAssay({ ASSAY_ADMIN_TOKEN: TOKEN }, { worker: false });
  off = await startTestAssay({}, { worker: false });
});
afterAll(async () => {
  await on?.stop();
  await off?.stop();
});

describe('jobs dashboard', () => {
  it('refuses without the admin token, with a wrong one, and asks the browser for Basic auth', async () => {
    const none = await fetch(`${on.url}/admin/jobs/api`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await fetch(`${on.url}/admin/jobs/api`, { headers: { authorization: 'Bearer wrong-token-xxxxxxxxxxxx' } })).status).toBe(401);
    expect((await fetch(`${on.url}/admin/jobs/api`, { headers: { authorization: `Basic ${Buffer.from('ops:nope').toString('base64')}` } })).status).toBe(401);
  });

  it('serves the Agendash API and page to an admin', async () => {
    await on.ctx.agenda.now('dataset.validate', { datasetId: 'x', trainingUid: 'y' });
    const api = await fetch(`${on.url}/admin/jobs/api`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { overview: { name: string }[] };
    expect(JSON.stringify(body)).toContain('dataset.validate');
    const page = await fetch(`${on.url}/admin/jobs/`, { headers: { authorization: `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}` } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('is off with a clear message when ASSAY_ADMIN_TOKEN is unset', async () => {
    const r = await fetch(`${off.url}/admin/jobs/api`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(503);
    expect(await r.json()).toEqual({ error: 'the jobs dashboard is off: set ASSAY_ADMIN_TOKEN to enable it' });
  });
});

// Finding 8 of the adversarial review: a foreign site's form could post jobs/create with the
// browser's Basic credentials. State changes need Bearer, or Basic from the dashboard's own origin.
describe('jobs dashboard: cross-site changes', () => {
  const basic = `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`;
  const create = (headers: Record<string, string>, jobName: string) =>
    fetch(`${on.url}/admin/jobs/api/jobs/create`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ jobName, jobData: {} }) });
  const count = async (name: string) => (await on.ctx.agenda.queryJobs({ name })).jobs.length;

  it('a cross-site POST with Basic credentials is refused and creates nothing', async () => {
    const foreign = await create({ authorization: basic, origin: 'https://evil.example' }, 'csrf.foreign');
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { error: string }).error).toMatch(/changes from another site \(https:\/\/evil\.example\) are refused/);
    const viaReferer = await create({ authorization: basic, referer: 'https://evil.example/page.html' }, 'csrf.referer');
    expect(viaReferer.status).toBe(403);
    const noOrigin = await create({ authorization: basic }, 'csrf.none');
    expect(noOrigin.status).toBe(403);
    for (const n of ['csrf.foreign', 'csrf.referer', 'csrf.none']) expect(await count(n)).toBe(0);
  });

  it('Basic from the dashboard itself and Bearer from anywhere still work; reading needs no Origin', async () => {
    const own = await create({ authorization: basic, origin: new URL(on.url).origin }, 'dash.own');
    expect(own.status).toBe(200);
    const bearer = await create({ authorization: `Bearer ${TOKEN}`, origin: 'https://elsewhere.example' }, 'dash.bearer');
    expect(bearer.status).toBe(200);
    expect(await count('dash.own')).toBe(1);
    expect(await count('dash.bearer')).toBe(1);
    expect((await fetch(`${on.url}/admin/jobs/api`, { headers: { authorization: basic, origin: 'https://evil.example' } })).status).toBe(200);
  });
});
