// A real Assay process for the kill -9 tests (run with `node --import tsx`): configuration from
// the environment, roles from ASSAY_ROLES ("web", "worker" or "web,worker"). It prints
// `READY <url|->` once started and `EPOCH <uid> <n>` per recorded epoch, so a test can kill it
// at a known moment even when the embedded database (one owner) keeps it from looking itself.
import { loadConfig } from '../../src/config/index.js';
import { startAssay } from '../../src/app/bootstrap.js';
import { createLogger } from '../../src/app/logger.js';

const roles = new Set((process.env.ASSAY_ROLES ?? 'worker').split(','));
const running = await startAssay(loadConfig(process.env), { web: roles.has('web'), worker: roles.has('worker'), logger: createLogger('silent'), processEvery: 200 });
running.ctx.events.on('training.progress', (p) => void process.stdout.write(`EPOCH ${p.trainingUid} ${p.epoch}\n`));
process.stdout.write(`READY ${running.url ?? '-'}\n`);
