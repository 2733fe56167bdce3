// What the demo (and the headline benchmark) stand up around a real Assay: the Slack stand-in,
// a local Salesforce org, the dataset server, and Assay itself on a fresh database in a temp
// data folder, configured to talk to those three. Nothing here is used by `assay start`.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAssay, type RunningAssay } from '../app/bootstrap.js';
import { createLogger } from '../app/logger.js';
import { loadConfig, type Config } from '../config/index.js';
import { FakeSalesforce } from '../testing/fake-salesforce.js';
import { DatasetServer } from './dataset.js';
import { SlackRecorder } from './slack-recorder.js';
import { SlackUser } from './slack-user.js';

/** The people of the story. Ana approves; Bob asks for the training; Carl is not an approver. */
export const PEOPLE = {
  approver: { id: 'U0DEMOANA', name: 'Ana' },
  requester: { id: 'U0DEMOBOB', name: 'Bob' },
  bystander: { id: 'U0DEMOCARL', name: 'Carl' },
} as const;

export const OPS_CHANNEL = { id: 'C0DEMOOPS', name: 'kit-models' };
/** The approvers' Slack user group (Ana is also in ASSAY_APPROVERS: both ways are exercised). */
export const APPROVER_GROUP = 'S0DEMOAPPR';

export interface Harness {
  assay: RunningAssay & { url: string };
  config: Config;
  recorder: SlackRecorder;
  org: FakeSalesforce;
  datasets: DatasetServer;
  users: { approver: SlackUser; requester: SlackUser; bystander: SlackUser };
  secrets: { signingSecret: string; webhookSecret: string; outboundToken: string };
  dataDir: string;
  stop(): Promise<void>;
}

export interface HarnessOptions {
  /** A PostgreSQL database to use instead of the embedded one (tests on both databases). */
  databaseUrl?: string;
  /** Assay's log level (default silent: the demo prints its own lines). */
  logLevel?: string;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const random = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(Math.random() * 256))).toString('hex');

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-demo-'));
  const botToken = `xoxb-demo-${random(12)}`;
  const secrets = { signingSecret: random(16), webhookSecret: random(16), outboundToken: random(16) };
  const recorder = new SlackRecorder({ botToken, userGroups: { [APPROVER_GROUP]: [PEOPLE.approver.id] } });
  const org = new FakeSalesforce({ orgId: '00D5e000000DEMOEAA', clientId: 'demo-connected-app', username: 'assay-demo@example.com' });
  const datasets = new DatasetServer();
  const stops: (() => Promise<void>)[] = [];
  try {
    await recorder.start();
    stops.push(() => recorder.stop());
    await org.start();
    stops.push(() => org.stop());
    await datasets.start();
    stops.push(() => datasets.stop());

    // The public URL goes into signed download links, so the port is fixed before start.
    const port = await freePort();
    const config = loadConfig({
      NODE_ENV: 'development',
      PORT: String(port),
      HOST: '127.0.0.1',
      ASSAY_PUBLIC_URL: `http://127.0.0.1:${port}`,
      ASSAY_DATA_DIR: dataDir,
      LOG_LEVEL: (options.logLevel ?? 'silent') as string,
      ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
      SLACK_BOT_TOKEN: botToken,
      SLACK_SIGNING_SECRET: secrets.signingSecret,
      SLACK_API_URL: recorder.apiUrl,
      SLACK_OPS_CHANNEL: OPS_CHANNEL.id,
      ASSAY_APPROVERS: PEOPLE.approver.id,
      SLACK_APPROVER_GROUP: APPROVER_GROUP,
      ...org.env({ SF_INSTANCE_URL: org.url, SF_ORG_ID: org.orgId }),
      SF_WEBHOOK_SECRET: secrets.webhookSecret,
      SF_OUTBOUND_TOKEN: secrets.outboundToken,
      SF_RECONCILE_INTERVAL: '1 day',
      // Demo only: the dataset and Slack stand-in are plain-HTTP servers on 127.0.0.1.
      ASSAY_ALLOW_HTTP_FETCH: 'true',
      ASSAY_ALLOW_PRIVATE_FETCH: 'true',
    });
    const running = await startAssay(config, { web: true, worker: true, seedIfEmpty: true, seedDemoKits: true, logger: createLogger(options.logLevel ?? 'silent'), processEvery: 200 });
    stops.push(() => running.stop());
    const url = running.url!;
    const user = (p: { id: string; name: string }) => new SlackUser(p.id, p.name, url, secrets.signingSecret, recorder, OPS_CHANNEL);
    return {
      assay: { ...running, url },
      config,
      recorder,
      org,
      datasets,
      users: { approver: user(PEOPLE.approver), requester: user(PEOPLE.requester), bystander: user(PEOPLE.bystander) },
      secrets,
      dataDir,
      async stop() {
        for (const stop of stops.reverse()) await stop().catch(() => undefined);
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (e) {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
}

/** Thrown by a probe to stop waiting at once (the awaited thing can no longer happen). */
export class StopWaiting extends Error {
  override name = 'StopWaiting';
}

/** Polls `probe` until it returns a value (not undefined/null/false) or the time is up. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs: number, everyMs = 150): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== null && value !== false) return value as T;
    } catch (e) {
      if (e instanceof StopWaiting) throw e;
      lastError = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
