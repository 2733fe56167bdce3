// `assay start [--web] [--worker]`: the server, the job worker, or both (the default).
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/index.js';
import { startAssay } from '../../app/bootstrap.js';
import { CliUsageError, type CliCommand } from './types.js';

export const startCommand: CliCommand = {
  name: 'start',
  summary: 'run the HTTP server and the job worker (or one of them)',
  usage: 'assay start [--web | --worker]',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { web: { type: 'boolean' }, worker: { type: 'boolean' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${this.usage}`);
    }
    const both = !values.web && !values.worker;
    const config = loadConfig();
    const running = await startAssay(config, { web: both || !!values.web, worker: both || !!values.worker, seedIfEmpty: true });
    if (running.url) process.stdout.write(`Assay is listening on ${config.publicUrl} (health: ${running.url}/healthz)\n`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      running.ctx.logger.info({ signal }, 'stopping');
      await running.stop();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    return -1;
  },
};
