// Ack latency of /assay (slash command) and a wizard view_submission under load (autocannon in its
// own process, bench/load-generator.ts; 100 connections, every request freshly signed), Assay vs a
// bare Bolt app answering the same requests on the same machine, the two alternating (ABBA).
// The ratio of p50/p99 is the figure (median of paired ratios); p99 must stay far below 3 s.
// A second case runs Assay against a Slack Web API that answers every call after 2.5 s (issue 12:
// acks used to wait on auth.test) beside Assay with a fast API: the slow API must not show in the ack.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import express from 'express';
import pg from 'pg';
import { loadConfig } from '../src/config/index.js';
import { startAssay } from '../src/app/bootstrap.js';
import { createLogger } from '../src/app/logger.js';
import { App, ExpressReceiver } from '../src/slack/bolt.js';
import { usageReply } from '../views/replies.js';
import { runLoad, type LoadKind } from './load-generator.js';
import { abOrder, pairedRatios, show, spread, type SummaryRow } from './stats.js';

const SECRET = 'bench-signing-secret-0123456789abcdef';
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const DURATION = Number(process.env.BENCH_SECONDS ?? 5);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** Paced mode: a fixed request rate (below saturation), so latency is service time, not queueing. */
const RATE = Number(process.env.BENCH_RATE ?? 100);

async function load(url: string, kind: LoadKind, overallRate?: number) {
  const r = await runLoad({ url, kind, secret: SECRET, connections: CONNECTIONS, durationSeconds: DURATION, overallRate });
  if (r.non2xx) throw new Error(`${r.non2xx} non-2xx answers from ${url}`);
  return { p50: r.p50, p99: r.p99, rps: r.rps };
}

const SLOW_API_MS = 2500;

/** A local stand-in for slack.com/api (Assay calls auth.test once at start); delayMs: each answer's wait. */
async function fakeSlackApi(delayMs = 0): Promise<{ url: string; calls: () => number; close(): Promise<void> }> {
  let calls = 0;
  const server = http.createServer((req, res) => {
    calls++;
    req.resume();
    res.setHeader('content-type', 'application/json');
    setTimeout(() => res.end(JSON.stringify({ ok: true, user_id: 'UBOT', bot_id: 'BBOT', team_id: 'T1' })), delayMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    calls: () => calls,
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

async function bareBolt(apiUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const router = express.Router();
  const receiver = new ExpressReceiver({ signingSecret: SECRET, endpoints: '/slack/events', processBeforeResponse: false, router });
  // Bot ids given, as Bolt documents for a single-workspace app: no auth.test per request (Assay learns them once at start).
  const app = new App({ token: 'xoxb-bench', botId: 'BBOT', botUserId: 'UBOT', receiver, tokenVerificationEnabled: false, clientOptions: { slackApiUrl: apiUrl } });
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

/** Assay (web role) on its own data folder, or on PostgreSQL a throw-away database (never DATABASE_URL's own). */
async function startBenchAssay(apiUrl: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-bench-'));
  const scratch = process.env.DATABASE_URL ? await scratchDatabase(process.env.DATABASE_URL) : null;
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dir, LOG_LEVEL: 'silent', SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: SECRET, SLACK_API_URL: apiUrl, ...(scratch ? { DATABASE_URL: scratch.url } : {}) });
  const running = await startAssay(config, { web: true, worker: false, logger: createLogger('silent') });
  return Object.assign(running, {
    async close() {
      await running.stop();
      await scratch?.drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  });
}

export async function run(): Promise<Record<string, unknown>> {
  const api = await fakeSlackApi();
  const assay = await startBenchAssay(api.url);
  const bare = await bareBolt(api.url);
  const out: Record<string, unknown> = { connections: CONNECTIONS, secondsPerRun: DURATION, runs: RUNS, database: assay.ctx.db.kind, loadGenerator: 'autocannon in a separate process' };
  const summary: SummaryRow[] = [];
  try {
    for (const [name, kind] of [['slash_command', 'slack-command'], ['view_submission', 'slack-view']] as const) {
      for (const [mode, rate] of [['saturated', undefined], [`paced_${RATE}rps`, RATE]] as const) {
        const a: { p50: number; p99: number; rps: number }[] = [];
        const b: typeof a = [];
        for (let i = 0; i < RUNS; i++) {
          for (const side of abOrder(i)) (side === 'a' ? a : b).push(await load(side === 'a' ? assay.url! : bare.url, kind, rate));
        }
        const fig = (xs: typeof a) => ({ p50_ms: spread(xs.map((x) => x.p50), 3), p99_ms: spread(xs.map((x) => x.p99), 3), rps: spread(xs.map((x) => x.rps), 3) });
        const ratio = (k: 'p50' | 'p99') => spread(pairedRatios(a.map((x) => x[k]), b.map((x) => Math.max(x[k], 0.5))), 3);
        const assayFig = fig(a);
        out[`${name}.${mode}`] = { assay: assayFig, bare_bolt: fig(b), ratio_p50: ratio('p50'), ratio_p99: ratio('p99') };
        if (mode !== 'saturated') {
          summary.push({
            figure: `Slack ${name.replace('_', ' ')} ack p99 at ${RATE} req/s (${assay.ctx.db.kind})`,
            assay: show(assayFig.p99_ms, 'ms'),
            baseline: `bare Bolt app: ${show(fig(b).p99_ms, 'ms')}`,
            ratio: `${ratio('p99').median} (${ratio('p99').min}–${ratio('p99').max}, paired)`,
            goal: 'p99 well inside Slack\'s 3 s',
            met: assayFig.p99_ms.max < 3000,
          });
        }
      }
    }
    // Slow Slack Web API (every answer after 2.5 s) vs fast, both Assay, paced slash commands.
    const slowApi = await fakeSlackApi(SLOW_API_MS);
    const slow = await startBenchAssay(slowApi.url);
    try {
      const fast: { p50: number; p99: number; rps: number }[] = [];
      const slowRuns: typeof fast = [];
      for (let i = 0; i < RUNS; i++) {
        for (const side of abOrder(i)) (side === 'a' ? slowRuns : fast).push(await load(side === 'a' ? slow.url! : assay.url!, 'slack-command', RATE));
      }
      const p99 = (xs: typeof fast) => spread(xs.map((x) => x.p99), 3);
      const ratio = spread(pairedRatios(slowRuns.map((x) => x.p99), fast.map((x) => Math.max(x.p99, 0.5))), 3);
      out[`slash_command.paced_${RATE}rps.slow_slack_api`] = { slack_api_delay_ms: SLOW_API_MS, slow_api: { p50_ms: spread(slowRuns.map((x) => x.p50), 3), p99_ms: p99(slowRuns) }, fast_api: { p50_ms: spread(fast.map((x) => x.p50), 3), p99_ms: p99(fast) }, ratio_p99: ratio, slow_api_calls: slowApi.calls() };
      summary.push({
        figure: `Slack slash command ack p99 at ${RATE} req/s, Slack Web API answering after ${SLOW_API_MS / 1000} s (${assay.ctx.db.kind})`,
        assay: show(p99(slowRuns), 'ms'),
        baseline: `Assay, fast Web API: ${show(p99(fast), 'ms')}`,
        ratio: `${ratio.median} (${ratio.min}–${ratio.max}, paired)`,
        goal: 'the same as with a fast API; inside 3 s',
        met: p99(slowRuns).max < 3000 && ratio.median < 2,
      });
    } finally {
      await slow.close();
      await slowApi.close();
    }
  } finally {
    await bare.close();
    await assay.close();
    await api.close();
  }
  return { summary, ...out };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
