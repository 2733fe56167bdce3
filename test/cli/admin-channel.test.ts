// Issue 12 item 15: on the embedded database the server owns the data folder, so the CLI's admin
// commands go to it over the admin channel (<data dir>/admin.sock, owner-only). `assay edge add`
// while the server runs: the edge exists and its token works against the server's edge API.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAssay, type RunningAssay } from '../../src/app/bootstrap.js';
import { createLogger } from '../../src/app/logger.js';
import { loadConfig } from '../../src/config/index.js';
import { FakeSalesforce } from '../../src/testing/fake-salesforce.js';
import { waitFor } from '../helpers/wait.js';

let dir: string;
let server: RunningAssay;
let fake: FakeSalesforce;
const socketPath = () => path.join(dir, 'admin.sock');

/** The real CLI in its own process (async, so the in-process server keeps answering meanwhile). */
function assay(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  // The embedded database always: the admin channel is what makes the CLI work beside its owner.
  const env = { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ASSAY_DATA_DIR: dir, ...fake.env() };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** One raw line over the socket, as any local program could send it. */
function raw(line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(socketPath(), () => s.end(line));
    let data = '';
    s.on('data', (d) => (data += String(d)));
    s.on('error', reject);
    s.on('close', () => resolve(data));
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-admin-'));
  // A socket file left behind by a server that died is replaced at start.
  fs.writeFileSync(socketPath(), 'stale');
  fake = await new FakeSalesforce().start();
  fake.addKit('KIT-ADM', 'Admin channel kit', [fake.addOption('red_light')]);
  const env = { PORT: '0', HOST: '127.0.0.1', ASSAY_DATA_DIR: dir, NODE_ENV: 'test', LOG_LEVEL: 'silent', SF_RECONCILE_INTERVAL: 'off', ...fake.env() };
  server = await startAssay(loadConfig(env), {
    web: true,
    worker: true,
    seedIfEmpty: true,
    logger: createLogger('silent'),
    processEvery: 200,
  });
});
afterAll(async () => {
  // Drain first, while the stand-in org still answers (no Salesforce request left retrying into the next file).
  await server?.drain(20_000);
  await server?.stop();
  await fake?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the admin channel', () => {
  it('listens in the data folder, owner-only', () => {
    expect(server.adminSocket).toBe(socketPath());
    const st = fs.statSync(socketPath());
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
  });

  it('assay edge add / revoke while the server runs: done by the server, the token works on its edge API', async () => {
    const added = await assay(['edge', 'add', 'lab-edge-1']);
    expect(added.err).toBe('');
    expect(added.code).toBe(0);
    expect(added.out).toMatch(/^Edge server lab-edge-1 added \(id [0-9a-f-]{36}\)\.\nToken \(shown only now/);
    const token = /\n {2}(assay_edge_\S+)\n/.exec(added.out)![1]!;
    const edges = await server.ctx.db.dataSource.query(`SELECT name, revoked_at FROM edge_servers`);
    expect(edges).toEqual([{ name: 'lab-edge-1', revoked_at: null }]);
    const assignments = await fetch(`${server.url}/api/v1/edge/assignments`, { headers: { authorization: `Bearer ${token}` } });
    expect(assignments.status).toBe(200);
    // The audit says the CLI's user did it, through the server.
    const [audit] = await server.ctx.db.dataSource.query(`SELECT actor_type, actor_id FROM audit_log WHERE action LIKE 'edge.%' ORDER BY id DESC LIMIT 1`);
    expect(audit).toEqual({ actor_type: 'cli', actor_id: os.userInfo().username });

    const dup = await assay(['edge', 'add', 'lab-edge-1']);
    expect(dup).toMatchObject({ code: 1, out: '', err: 'assay: An edge server named lab-edge-1 already exists\n' });

    const revoked = await assay(['edge', 'revoke', 'lab-edge-1']);
    expect(revoked.code).toBe(0);
    expect(revoked.out).toMatch(/^Edge server lab-edge-1 revoked at /);
    expect((await fetch(`${server.url}/api/v1/edge/assignments`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });

  it('a malformed request gets a clear error and changes nothing', async () => {
    const before = await server.ctx.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_log`);
    expect(JSON.parse(await raw('hello\n'))).toEqual({
      code: 2,
      stdout: '',
      stderr: 'assay: admin request refused: not JSON (one JSON object per line: {"v":1,"user":...,"operation":{"op":...}})\n',
    });
    const noName = JSON.parse(await raw(JSON.stringify({ v: 1, user: 'ops', operation: { op: 'edge.add' } }) + '\n'));
    expect(noName.code).toBe(2);
    expect(noName.stderr).toMatch(/^assay: admin request refused: operation\.name: /);
    const unknown = JSON.parse(await raw(JSON.stringify({ v: 1, user: 'ops', operation: { op: 'drop.everything' } }) + '\n'));
    expect(unknown.stderr).toMatch(/^assay: admin request refused: operation\.op: /);
    const extra = JSON.parse(await raw(JSON.stringify({ v: 1, user: 'ops', operation: { op: 'edge.list', sql: 'DROP TABLE x' } }) + '\n'));
    expect(extra.stderr).toMatch(/^assay: admin request refused: operation: /);
    expect(JSON.parse(await raw('{"v":1'))).toMatchObject({ code: 2, stderr: 'assay: admin request refused: the request ended before its newline\n' });
    expect(await server.ctx.db.dataSource.query(`SELECT count(*)::int AS n FROM audit_log`)).toEqual(before);
  });

  it('seed and history go through the server too', async () => {
    const seeded = await assay(['seed', '--demo-kits']);
    expect(seeded).toMatchObject({ code: 0, err: '', out: 'Seeded: 0 AI option(s), 6 kit(s), 21 kit-option link(s) added.\n' });
    const history = await assay(['history', '4567', '--at', '2026-01-01T00:00:00Z']);
    expect(history.err).toBe('');
    expect(history.out).toMatch(/^Kit 4567 "PR urine" at 2026-01-01T00:00:00Z/);
  });

  it('assay model import while the server runs: the server imports (files by absolute path) and its worker evaluates', async () => {
    const CASE = path.resolve('test/fixtures/detect-eval/case_public');
    if ((await assay(['seed', '--demo-kits'])).code !== 0) throw new Error('seed failed');
    const imported = await assay(['model', 'import', '--file', path.relative(process.cwd(), path.join(CASE, 'model.onnx')), '--kit', '4567', '--dataset', path.join(CASE, 'dataset/coco.json'), '--name', 'admin_lights']);
    expect(imported.err).toBe('');
    expect(imported.code).toBe(0);
    expect(imported.out).toMatch(/^Imported model\.onnx as admin_lights_\w+_v1 \(version 1 of lineage admin_lights/);
    const ds = server.ctx.db.dataSource;
    const status = async () => (await ds.query(`SELECT m.status FROM models m JOIN training_lineages l ON l.id = m.lineage_id WHERE l.name = 'admin_lights'`))[0]?.status;
    expect(await waitFor('the server to evaluate the imported model', async () => ((await status()) === 'pending_approval' ? 'pending_approval' : null), 90_000)).toBe('pending_approval');

    // Relative paths would be read from the server's folder: the channel refuses them.
    const refused = JSON.parse(await raw(JSON.stringify({ v: 1, user: 'x', operation: { op: 'model.import', file: 'model.onnx', kits: ['4567'], dataset: path.join(CASE, 'dataset/coco.json') } }) + '\n'));
    expect(refused).toMatchObject({ code: 2, stderr: expect.stringContaining('file: must be an absolute path') });
  });

  it('assay sync --queue while the server runs: the server queues it and its worker reconciles', async () => {
    const queued = await assay(['sync', '--queue']);
    expect(queued).toMatchObject({ code: 0, err: '', out: 'Reconciliation queued; a worker (assay start) runs it.\n' });
    const ds = server.ctx.db.dataSource;
    const kit = async () => (await ds.query(`SELECT kit_name FROM test_types WHERE kit_id = 'KIT-ADM'`))[0];
    expect(await waitFor('the queued reconciliation to add the kit', kit, 30_000)).toEqual({ kit_name: 'Admin channel kit' });
  });
});
