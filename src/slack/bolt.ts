// The one place that loads @slack/bolt. Bolt 5.1 loads @slack/socket-mode, which pulls undici 8;
// undici 8 calls two Node 22 APIs while it loads (zlib zstd, worker_threads.markAsUncloneable)
// and crashes the whole import on Node 20. We fill those two in, only when missing: HTTP mode
// never touches undici 8 (the Web API uses Node's own fetch), and zstd is never negotiated.
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import workerThreads from 'node:worker_threads';
import type * as BoltModule from '@slack/bolt';

const z = zlib as unknown as Record<string, unknown>;
if (typeof z.createZstdDecompress !== 'function') {
  z.createZstdDecompress = () => {
    throw new Error('zstd decompression needs Node 22 or later');
  };
}
const wt = workerThreads as unknown as Record<string, unknown>;
if (typeof wt.markAsUncloneable !== 'function') wt.markAsUncloneable = () => undefined;

const require = createRequire(import.meta.url);
const bolt = require('@slack/bolt') as typeof BoltModule;

export const { App, ExpressReceiver, SocketModeReceiver, LogLevel } = bolt;
/** True when Socket Mode runs on a Node older than its undici wants (22.19): logged at start. */
export const socketModeNodeWarning = Number(process.versions.node.split('.')[0]) < 22;
