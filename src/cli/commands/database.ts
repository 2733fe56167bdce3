// `assay migrate` and `assay seed [--demo-kits]` (through the running server when it owns the
// embedded database).
import { parseArgs } from 'node:util';
import { runAdmin } from './admin.js';
import { CliUsageError, type CliCommand } from './types.js';

export const migrateCommand: CliCommand = {
  name: 'migrate',
  summary: 'create or upgrade the database schema',
  usage: 'assay migrate',
  async run() {
    return runAdmin({ op: 'migrate' });
  },
};

export const seedCommand: CliCommand = {
  name: 'seed',
  summary: 'load the initial AI options (--demo-kits: and the demo kits); idempotent',
  usage: 'assay seed [--demo-kits]',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { 'demo-kits': { type: 'boolean' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${this.usage}`);
    }
    return runAdmin({ op: 'seed', demoKits: !!values['demo-kits'] });
  },
};
