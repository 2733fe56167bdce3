// The one place that loads @slack/bolt (a CommonJS package in this ESM project).
// Note: Bolt 5.1 always loads @slack/socket-mode, whose undici 8 needs Node 22; package.json
// overrides undici to 7.x (accepted by socket-mode, works on Node 20) so Bolt loads on Node 20.
import { createRequire } from 'node:module';
import type * as BoltModule from '@slack/bolt';

const require = createRequire(import.meta.url);
const bolt = require('@slack/bolt') as typeof BoltModule;

export const { App, ExpressReceiver, SocketModeReceiver, LogLevel, HTTPModuleFunctions, webApi } = bolt;
