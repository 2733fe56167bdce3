// HTTP load generator in its own process (autocannon), so the process being measured does not
// also pay for generating, signing and timing the load. `runLoad(opts)` spawns this file with
// tsx and returns autocannon's figures; the child signs every request itself (Slack v0 signature
// or Assay's Salesforce webhook HMAC), since a signature covers a timestamp and a unique body.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath, pathToFileURL } from 'node:url';
// @ts-expect-error autocannon ships no type declarations
import autocannon from 'autocannon';
import { signBody } from '../src/domain/signature.js';
import { slackSignature } from '../src/testing/slack-signature.js';

export type LoadKind = 'slack-command' | 'slack-view' | 'salesforce-event';

export interface LoadOptions {
  url: string;
  kind: LoadKind;
  secret: string;
  connections: number;
  durationSeconds: number;
  /** Requests per second over all connections (paced); unset: as fast as the server answers. */
  overallRate?: number;
}

export interface LoadResult {
  p50: number;
  p99: number;
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
}

/** Runs the load in a child process and resolves with its figures. */
export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const self = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', self, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}: ${err.trim().split('\n').slice(-3).join(' ')}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').at(-1)!) as LoadResult);
      } catch (e) {
        reject(new Error(`load generator printed no result: ${(e as Error).message}`));
      }
    });
  });
}

function slackSigned(secret: string, body: string) {
  const ts = Math.floor(Date.now() / 1000);
  return { body, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-slack-request-timestamp': String(ts), 'x-slack-signature': slackSignature(secret, ts, body) } };
}

const slashCommand = () => new URLSearchParams({ command: '/assay', text: 'help', user_id: 'UBENCH', channel_id: 'C1', team_id: 'T1', trigger_id: randomUUID(), response_url: 'https://hooks.slack.com/x' }).toString();
// A kits-step submit of an unknown session: Assay reads the session and answers a field error.
const viewSubmission = () =>
  new URLSearchParams({
    payload: JSON.stringify({ type: 'view_submission', user: { id: 'UBENCH' }, team: { id: 'T1' }, api_app_id: 'A1', view: { id: 'VB', hash: randomUUID(), callback_id: 'wizard_kits', private_metadata: randomUUID(), blocks: [{ type: 'input', block_id: 'kits' }], state: { values: { kits: { kits: { type: 'multi_static_select', selected_options: [] } } } } } }),
  }).toString();

let seq = 0;
/** A Salesforce change event with a unique record and transaction key. */
export function salesforceEventBody(tag: string): string {
  seq++;
  return JSON.stringify({
    ChangeEventHeader: {
      entityName: 'Test_Kit__c', recordIds: [`a0B${String(seq).padStart(15, '0')}`], changeType: 'UPDATE',
      changeOrigin: 'com/salesforce/api/soap/62.0;client=SfdcInternalAPI/', transactionKey: `bench-${tag}-${process.pid}-${seq}`, sequenceNumber: 1,
      commitTimestamp: Date.now(), commitUser: '005000000000001AAA',
    },
    Name: `Kit ${seq}`,
  });
}

function request(opts: LoadOptions): (req: Record<string, unknown>) => Record<string, unknown> {
  if (opts.kind === 'salesforce-event') {
    const tag = randomUUID().slice(0, 8);
    return (req) => {
      const body = salesforceEventBody(tag);
      const ts = String(Math.floor(Date.now() / 1000));
      return { ...req, body, headers: { 'content-type': 'application/json', 'x-assay-timestamp': ts, 'x-assay-signature': signBody(opts.secret, ts, body) } };
    };
  }
  const make = opts.kind === 'slack-command' ? slashCommand : viewSubmission;
  return (req) => ({ ...req, ...slackSigned(opts.secret, make()) });
}

async function main(opts: LoadOptions): Promise<LoadResult> {
  const path = opts.kind === 'salesforce-event' ? '/webhooks/salesforce' : '/slack/events';
  const r = await autocannon({
    url: `${opts.url}${path}`,
    connections: opts.connections,
    duration: opts.durationSeconds,
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    requests: [{ method: 'POST', setupRequest: request(opts) }],
  });
  return { p50: r.latency.p50, p99: r.latency.p99, rps: r.requests.average, requests: r.requests.total, non2xx: r.non2xx, errors: r.errors };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(JSON.parse(process.argv[2]!) as LoadOptions).then((r) => console.log(JSON.stringify(r)), (e) => {
    console.error(e);
    process.exit(1);
  });
}
