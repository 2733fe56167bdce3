// The CLI end of the admin channel.
import net from 'node:net';
import { adminResponse, type AdminResponse } from './protocol.js';

/**
 * Sends one request line and reads the answer. null when nobody listens (no socket file, or one a
 * dead process left): the caller opens the database itself.
 */
export async function sendAdminRequest(path: string, line: string, timeoutMs = 120_000): Promise<AdminResponse | null> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(path);
    let data = '';
    let connected = false;
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`the server did not answer on ${path} within ${Math.round(timeoutMs / 1000)} s`)));
    socket.on('connect', () => {
      connected = true;
      socket.end(line.endsWith('\n') ? line : line + '\n');
    });
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!connected && (err.code === 'ENOENT' || err.code === 'ECONNREFUSED')) resolve(null);
      else reject(err);
    });
    socket.on('close', () => {
      if (!connected) return;
      try {
        resolve(adminResponse.parse(JSON.parse(data.trim())));
      } catch {
        reject(new Error(`the server's admin channel (${path}) gave an unreadable answer`));
      }
    });
  });
}
