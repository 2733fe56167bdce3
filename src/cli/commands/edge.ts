// `assay edge add NAME | list | revoke NAME`: edge servers and their tokens (through the running
// server when it owns the embedded database).
import { runAdmin } from './admin.js';
import { CliUsageError, type CliCommand } from './types.js';

const usage = 'assay edge add NAME | list | revoke NAME';

export const edgeCommand: CliCommand = {
  name: 'edge',
  summary: 'register an edge server (prints its token once), list or revoke edge servers',
  usage,
  async run(args) {
    const [sub, name, ...rest] = args;
    if (rest.length || !sub || (sub !== 'list' && !name) || (sub === 'list' && name)) throw new CliUsageError(`usage: ${usage}`);
    if (sub === 'add') return runAdmin({ op: 'edge.add', name: name! });
    if (sub === 'revoke') return runAdmin({ op: 'edge.revoke', name: name! });
    if (sub === 'list') return runAdmin({ op: 'edge.list' });
    throw new CliUsageError(`usage: ${usage}`);
  },
};
