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
    let stoppingSince = 0;
    // SIGTERM/SIGINT drain: no new connections or jobs, in-flight requests and running jobs get
    // ASSAY_SHUTDOWN_TIMEOUT_MS, then Slack, Agenda and the database close and the process exits 0.
    // Another signal a second later exits at once (one Ctrl-C reaches us twice under `npm start`:
    // from the terminal and forwarded by npm).
    const stop = async (signal: string) => {
      if (stoppingSince) {
        if (Date.now() - stoppingSince < 1000) return;
        running.ctx.logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(1);
      }
      stoppingSince = Date.now();
      // Should closing itself hang, the supervisor still gets an exit.
      setTimeout(() => process.exit(1), config.shutdownTimeoutMs + 15_000).unref();
      running.ctx.logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'stopping: draining requests and jobs');
      const left = await running.drain(config.shutdownTimeoutMs);
      if (left.openConnections || left.runningJobs) running.ctx.logger.warn(left, 'drain window over: open connections were closed; running jobs are taken over by another worker when their locks expire');
      running.ctx.logger.info('stopped');
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
    return -1;
  },
};
