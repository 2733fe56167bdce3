// Ack latency of /assay (slash command) and a wizard view_submission under load (autocannon,
// 100 connections, every request freshly signed), Assay vs a bare Bolt app answering the same
// requests on the same machine. The ratio of p50/p99 is the figure; p99 must stay far below 3 s.
import { createHmac, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import { loadConfig } from '../src/config/index.js';
import { startAssay } from '../src/app/bootstrap.js';
import { createLogger } from '../src/app/logger.js';
import { App, ExpressReceiver } from '../src/slack/bolt.js';
import { usageReply } from '../views/replies.js';

const SECRET = 'bench-signing-secret-0123456789abcdef';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Paced mode: a fixed request rate (below saturation), so latency is service time, not queueing. */
const RATE = Number(process.env.BENCH_RATE ?? 100);

function signed(body: string) {
  const ts = Math.floor(Date.now() / 1000);
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': 'v0=' + createHmac('sha256', SECRET).update(`v0:${ts}:${body}`).digest('hex') } };
}
const command = () => new URLSearchParams({ command: '/assay', text: 'help', user_id: 'UBENCH', channel_id: 'C1', team_id: 'T1', trigger_id: randomUUID(), response_url: 'https://hooks.slack.com/x' }).toString();
// A kits-step submit of an unknown session: Assay reads the session and answers a field error.
const submission = () =>
  new URLSearchParams({
    payload: JSON.stringify({ type: 'view_submission', user: { id: 'UBENCH' }, team: { id: 'T1' }, api_app_id: 'A1', view: { id: 'VB', hash: randomUUID(), callback_id: 'wizard_kits', private_metadata: randomUUID(), blocks: [{ type: 'input', block_id: 'kits' }], state: { values: { kits: { kits: { type: 'multi_static_select', selected_options: [] } } } } } }),
  }).toString();

async function load(url: string, make: () => string, overallRate?: number) {
  const result = await autocannon({
    url: `${url}/slack/events`,
    connections: CONNECTIONS,
    duration: DURATION,
    ...(overallRate ? { overallRate } : {}),
    requests: [{ method: 'POST', setupRequest: (req: any) => ({ ...req, ...signed(make()) }) }],
  });
  if (result.non2xx) throw new Error(`${result.non2xx} non-2xx answers from ${url}`);
  return { p50: result.latency.p50, p99: result.latency.p99, rps: result.requests.average };
}

/** A local stand-in for slack.com/api: Bolt calls auth.test once (bot user id) and caches it. */
async function fakeSlackApi(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`, close: () => new Promise((r) => server.close(() => r())) };
}

async function bareBolt(apiUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const router = express.Router();
  const receiver = new ExpressReceiver({ signingSecret: SECRET, endpoints: '/slack/events', processBeforeResponse: false, router });
  const app = new App({ token: 'xoxb-bench', receiver, tokenVerificationEnabled: false, clientOptions: { slackApiUrl: apiUrl } });
  app.command('/assay', async ({ ack }) => ack({ response_type: 'ephemeral', ...usageReply() } as never));
  app.view('wizard_kits', async ({ ack }) => ack({ response_action: 'errors', errors: { kits: 'This wizard is not yours or no longer exists: run /assay train again' } }));
  const server = http.createServer(express().use(router));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function scratchDatabase(base: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `assay_bench_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: base });
    await c.connect();
    await c.query(sql).finally(() => c.end());
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(): Promise<Record<string, unknown>> {
  const api = await fakeSlackApi();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-'));
  // On PostgreSQL: a throw-away database, never the one DATABASE_URL names.
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : null;
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dir, LOG_LEVEL: 'silent', SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: api.url, ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  const assay = await startAssay(config, { web: true, worker: false, logger: createLogger('silent') });
  const bare = await bareBolt(api.url);
  const out: Record<string, unknown> = { connections: CONNECTIONS, secondsPerRun: DURATION, runs: RUNS, database: assay.ctx.db.kind };
  try {
    for (const [name, make] of [['slash_command', command], ['view_submission', submission]] as const) {
      for (const [mode, rate] of [['saturated', undefined], [`paced_${RATE}rps`, RATE]] as const) {
        const a: { p50: number; p99: number; rps: number }[] = [];
        const b: typeof a = [];
        for (let i = 0; i < RUNS; i++) {
          a.push(await load(assay.url!, make, rate));
          b.push(await load(bare.url, make, rate));
        }
        const fig = (xs: typeof a) => ({ p50_ms: median(xs.map((x) => x.p50)), p99_ms: median(xs.map((x) => x.p99)), rps: Math.round(median(xs.map((x) => x.rps))) });
        const assayFig = fig(a);
        const bareFig = fig(b);
        out[`${name}.${mode}`] = { assay: assayFig, bare_bolt: bareFig, ratio_p50: +(assayFig.p50_ms / Math.max(bareFig.p50_ms, 0.5)).toFixed(2), ratio_p99: +(assayFig.p99_ms / Math.max(bareFig.p99_ms, 0.5)).toFixed(2) };
      }
    }
  } finally {
    await bare.close();
    await assay.stop();
    await api.close();
    await scratch?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
