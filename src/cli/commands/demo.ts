// `assay demo [--out DIR]`: runs the whole story (Salesforce → Slack wizard → training →
// approval → deployment → edge → rollback) against a real Assay on a fresh temp database,
// with local stand-ins for Slack, Salesforce and the dataset host. Needs no accounts.
import { parseArgs } from 'node:util';
import { runDemo } from '../../demo/run-demo.js';
import { CliUsageError, type CliCommand } from './types.js';

export const demoCommand: CliCommand = {
  name: 'demo',
  summary: 'run the end-to-end demo locally (no accounts needed) and write a Slack transcript',
  usage: 'assay demo [--out DIR]',
  async run(args) {
    let values;
    try {
      ({ values } = parseArgs({ args, options: { out: { type: 'string', default: './demo-out' } } }));
    } catch (e) {
      throw new CliUsageError(`${(e as Error).message}\nusage: ${this.usage}`);
    }
    // The demo's database is its own temp one: an operator's DATABASE_URL is never touched.
    const result = await runDemo({ outDir: values.out! });
    return result.ok ? 0 : 1;
  },
};
