// The server end of the admin channel: listens on <data dir>/admin.sock (0600) while this process
// owns the embedded database, so `assay edge add` and friends work beside `assay start`.
import fs from 'node:fs';
import net from 'node:net';
import type { Logger } from '../app/logger.js';
import { adminRequest, adminResponse, describeRequestProblem, MAX_ADMIN_REQUEST_BYTES, type AdminResponse } from './protocol.js';
import { executeAdmin, type AdminDeps } from './operations.js';
import { sendAdminRequest } from './client.js';

const IDLE_MS = 10_000;

export interface AdminChannel {
  path: string;
  close(): Promise<void>;
}

const refused = (why: string): AdminResponse => ({ code: 2, stdout: '', stderr: `assay: admin request refused: ${why}\n` });

async function answer(deps: AdminDeps, line: string, logger: Logger): Promise<AdminResponse> {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return refused('not JSON (one JSON object per line: {"v":1,"user":...,"operation":{"op":...}})');
  }
  const parsed = adminRequest.safeParse(json);
  if (!parsed.success) return refused(describeRequestProblem(parsed.error));
  try {
    return await executeAdmin(deps, parsed.data.operation, parsed.data.user);
  } catch (err) {
    logger.error({ err, op: parsed.data.operation.op }, 'admin channel request failed');
    return { code: 1, stdout: '', stderr: `assay: ${parsed.data.operation.op} failed in the server: ${(err as Error)?.message ?? String(err)}\n` };
  }
}

function serve(socket: net.Socket, deps: AdminDeps, logger: Logger): void {
  let buffered = '';
  let done = false;
  const reply = (r: AdminResponse) => {
    done = true;
    socket.end(JSON.stringify(adminResponse.parse(r)) + '\n');
  };
  socket.setEncoding('utf8');
  socket.setTimeout(IDLE_MS, () => socket.destroy());
  socket.on('error', () => undefined); // the CLI went away: nothing to answer
  socket.on('data', (chunk: string) => {
    if (done) return;
    buffered += chunk;
    const end = buffered.indexOf('\n');
    if (end < 0) {
      if (Buffer.byteLength(buffered) > MAX_ADMIN_REQUEST_BYTES) reply(refused(`longer than ${MAX_ADMIN_REQUEST_BYTES} bytes`));
      return;
    }
    done = true;
    // The idle limit is for clients that never finish their line; a long operation (a sync now,
    // an import) keeps the socket while it runs, and the CLI has its own deadline.
    socket.setTimeout(0);
    void answer(deps, buffered.slice(0, end), logger).then(reply, (err) => {
      logger.error({ err }, 'admin channel answer failed');
      socket.destroy();
    });
  });
  socket.on('end', () => {
    if (!done) reply(refused('the request ended before its newline'));
  });
}

/**
 * Listens on `path`, owner-only. A socket file left by a process that died is replaced; one a live
 * server answers on is left alone (null: this process serves no admin channel).
 */
export async function startAdminChannel(path: string, deps: AdminDeps, logger: Logger): Promise<AdminChannel | null> {
  if (fs.existsSync(path)) {
    const live = await sendAdminRequest(path, '{}', 2_000).then(
      (r) => r !== null,
      () => true,
    );
    if (live) {
      logger.warn({ path }, 'another process answers on the admin channel; this one serves none');
      return null;
    }
    fs.rmSync(path, { force: true });
  }
  // Half-open: the CLI ends its side after the request line and still reads the answer, however
  // long the operation takes (by default the server's side would end with it).
  const server = net.createServer({ allowHalfOpen: true }, (socket) => serve(socket, deps, logger));
  // The socket is created under this umask (never group/world-accessible, not even for a moment), then chmod'ed to be sure.
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(umask);
  }
  fs.chmodSync(path, 0o600);
  return {
    path,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(path, { force: true });
    },
  };
}
