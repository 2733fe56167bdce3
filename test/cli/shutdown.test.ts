// `npm start` under a supervisor: npm runs the start script with `sh -c` and forwards SIGTERM to
// that shell. The script execs node, so the signal reaches the server, which drains (no new
// connections, the in-flight request answered) and exits 0 with its port free.
import { afterAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../helpers/database.js';
import { notificationId, OUTBOUND_TOKEN, outboundMessage } from '../salesforce/support.js';

const ORG = '00D5e000000KQ2eEAG';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

async function until<T>(fn: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('npm start and SIGTERM', () => {
  it('the start script execs node, so npm\'s forwarded SIGTERM reaches the server', () => {
    expect(pkg.scripts.start).toMatch(/^exec node dist\/src\/cli\/main\.js start$/);
  });

  it('SIGTERM to the start script\'s shell: in-flight request answered, no new connections, exit 0, port free', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'assay-shutdown-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    let env: Record<string, string> = { ASSAY_DATA_DIR: dir };
    if (process.env.DATABASE_URL) {
      const db = await createTestDatabase();
      await db.dataSource.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
      env = { ...env, DATABASE_URL: db.url! };
      cleanups.push(() => db.close());
    }
    // The start script as npm runs it (`sh -c`), on the sources instead of the build.
    const script = pkg.scripts.start!.replace('node dist/src/cli/main.js', `${JSON.stringify(process.execPath)} --import tsx src/cli/main.ts`);
    const child: ChildProcess = spawn('/bin/sh', ['-c', script], {
      env: { PATH: process.env.PATH!, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SF_ORG_ID: ORG, SF_OUTBOUND_TOKEN: OUTBOUND_TOKEN, ASSAY_SHUTDOWN_TIMEOUT_MS: '30000', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
      // Without exec the shell dies and node runs on: end it by the pid it logged.
      const pid = Number(/"pid":(\d+)/.exec(out)?.[1]);
      if (pid && pid !== child.pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    });

    const url = await until(() => /\(health: (http:\/\/127\.0\.0\.1:\d+)\/healthz\)/.exec(out)?.[1], 'the server to listen', 90_000);
    const port = Number(new URL(url).port);

    // An Outbound Message (the no-code path: no API credentials) whose body is still on its way when the signal arrives.
    const body = outboundMessage(ORG, [{ id: notificationId(), type: 'Test_Kit__c', fields: { Id: 'a0B000000000000SHT', Name: 'Shutdown kit', Kit_Id__c: 'KIT-SIGTERM', Active__c: true, SystemModstamp: new Date().toISOString() } }]);
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((r) => socket.once('connect', () => r()));
    let response = '';
    socket.on('data', (d) => (response += d));
    socket.on('error', () => undefined);
    const socketClosed = new Promise<void>((r) => socket.once('close', () => r()));
    const head = `POST /webhooks/salesforce/outbound/${OUTBOUND_TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=utf-8\r\nSOAPAction: ""\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    socket.write(head + body.slice(0, 10));
    // The server has accepted our connection once a later one is answered (one listening socket, in order).
    expect((await fetch(`${url}/healthz`, { headers: { connection: 'close' } })).status).toBe(200);

    child.kill('SIGTERM'); // what npm does: forward the signal to the script's shell
    await until(async () => ((await connects(port)) ? undefined : true), 'new connections to be refused');
    expect(child.exitCode).toBeNull(); // still draining: our request is open

    socket.write(body.slice(10));
    await socketClosed;
    expect(response).toMatch(/^HTTP\/1\.1 200 /);
    expect(response).toContain('<Ack>true</Ack>');

    expect(await exited).toBe(0);
    expect(out).toContain('stopping: draining requests and jobs');
    expect(await canListen(port)).toBe(true);
  });
});
