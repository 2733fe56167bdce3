// Benchmark: memory of an idle `assay start` (web + worker, embedded database, no integrations),
// peak RSS (VmHWM) and RSS once idle, on the first boot of a fresh data folder (which creates the
// schema and seeds) and on a second boot of the same folder; baseline: a bare Bolt app (Express
// receiver) started the same way. Linux only (/proc). Runs alternate assay and baseline.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pairedRatios, show, spread, type SummaryRow } from './stats.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'dist', 'src', 'cli', 'main.js');
const RUNS = Number(process.env.IDLE_MEMORY_RUNS ?? 3);
const IDLE_MS = 5000;
const GOAL_MB = 300;

const bareBolt = `
const { App, ExpressReceiver } = require('@slack/bolt');
const receiver = new ExpressReceiver({ signingSecret: 'x'.repeat(32) });
const app = new App({ token: 'xoxb-bench', receiver, tokenVerificationEnabled: false });
app.command('/assay', async ({ ack }) => ack('ok'));
receiver.app.get('/healthz', (_req, res) => res.send('ok'));
receiver.start(Number(process.env.PORT));
`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

/** VmHWM (peak) and VmRSS of a process, in MB. */
function memoryOf(pid: number): { peakMB: number; rssMB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { peakMB: Math.round(kb('VmHWM') / 1024), rssMB: Math.round(kb('VmRSS') / 1024) };
}

async function waitHealthy(port: number, child: ChildProcess, timeoutMs = 180_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`process exited (${child.exitCode}) before it answered /healthz`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (r.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('no /healthz answer in time');
}

/** Starts `args`, waits until healthy, idles, reads its memory, stops it. */
async function measure(args: string[], env: Record<string, string>): Promise<{ peakMB: number; rssMB: number }> {
  const port = await freePort();
  let stderr = '';
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'silent' }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    await waitHealthy(port, child);
    await new Promise((r) => setTimeout(r, IDLE_MS));
    return memoryOf(child.pid!);
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${stderr.slice(-500)}`);
  } finally {
    const exited = child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
  }
}

export async function run() {
  if (!fs.existsSync(cli)) throw new Error('dist/ is missing: run `npm run build` first');
  // The environment of a fresh install: no Slack, Salesforce or database settings.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(SLACK_|SF_|DATABASE_URL|MONGODB_URL|TRAINER_|S3_)/.test(k))) as Record<string, string>;
  for (const k of Object.keys(process.env)) if (!(k in clean)) delete process.env[k];
  const first: Array<{ peakMB: number; rssMB: number }> = [];
  const second: typeof first = [];
  const bare: typeof first = [];
  for (let r = 0; r < RUNS; r++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-idle-'));
    try {
      bare.push(await measure(['-e', bareBolt], {}));
      first.push(await measure([cli, 'start'], { ASSAY_DATA_DIR: dir }));
      second.push(await measure([cli, 'start'], { ASSAY_DATA_DIR: dir }));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  const peak = (xs: typeof first) => spread(xs.map((x) => x.peakMB), 3);
  const rss = (xs: typeof first) => spread(xs.map((x) => x.rssMB), 3);
  const row = (label: string, xs: typeof first): SummaryRow => {
    const ratio = spread(pairedRatios(xs.map((x) => x.peakMB), bare.map((x) => x.peakMB)), 3);
    return {
      figure: `idle \`assay start\`, peak RSS, ${label}`, assay: show(peak(xs), 'MB'), baseline: `bare Bolt app: ${show(peak(bare), 'MB')}`,
      ratio: `${ratio.median} (${ratio.min}–${ratio.max}, paired)`, goal: `≤ ${GOAL_MB} MB`, met: peak(xs).median <= GOAL_MB,
    };
  };
  return {
    summary: [row('first boot (fresh embedded data folder)', first), row('second boot', second)],
    idleSecondsBeforeReading: IDLE_MS / 1000,
    firstBoot: { peakMB: peak(first), idleRssMB: rss(first) },
    secondBoot: { peakMB: peak(second), idleRssMB: rss(second) },
    bareBolt: { peakMB: peak(bare), idleRssMB: rss(bare) },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run().then((r) => console.log(JSON.stringify(r, null, 2)), (e) => { console.error(e); process.exit(1); });
}
