// `assay edge add NAME | list | revoke NAME`: edge servers and their tokens.
import os from 'node:os';
import { migrate } from '../../db/database.js';
import { addEdge, listEdges, revokeEdge } from '../../services/edge-service.js';
import type { Actor } from '../../services/audit.js';
import { withDatabase } from './database.js';
import { CliUsageError, type CliCommand } from './types.js';

export const cliActor = (): Actor => ({ type: 'cli', id: os.userInfo().username });

const usage = 'assay edge add NAME | list | revoke NAME';

export const edgeCommand: CliCommand = {
  name: 'edge',
  summary: 'register an edge server (prints its token once), list or revoke edge servers',
  usage,
  async run(args) {
    const [sub, name, ...rest] = args;
    if (rest.length || !sub || (sub !== 'list' && !name) || (sub === 'list' && name)) throw new CliUsageError(`usage: ${usage}`);
    return withDatabase(async (db) => {
      await migrate(db);
      const manager = db.dataSource.manager;
      if (sub === 'add') {
        const { edge, token } = await addEdge(manager, name!, cliActor());
        process.stdout.write(
          `Edge server ${edge.name} added (id ${edge.id}).\n` +
            `Token (shown only now; store it on the edge server, Assay keeps only its hash):\n\n  ${token}\n\n` +
            `The edge sends it as "Authorization: Bearer <token>" to /api/v1/edge.\n`,
        );
        return 0;
      }
      if (sub === 'revoke') {
        const edge = await revokeEdge(manager, name!, cliActor());
        process.stdout.write(`Edge server ${edge.name} revoked at ${edge.revokedAt!.toISOString()}: its token is refused from now on.\n`);
        return 0;
      }
      if (sub === 'list') {
        const edges = await listEdges(manager);
        if (edges.length === 0) {
          process.stdout.write('No edge servers. Add one with: assay edge add NAME\n');
          return 0;
        }
        const rows = edges.map((e) => [e.name, e.revokedAt ? 'revoked' : 'active', e.lastHeartbeatAt?.toISOString() ?? 'never', String(e.reportedModels.length)]);
        const header = ['NAME', 'STATE', 'LAST HEARTBEAT', 'MODELS'];
        const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
        for (const r of [header, ...rows]) process.stdout.write(r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n');
        return 0;
      }
      throw new CliUsageError(`usage: ${usage}`);
    });
  },
};
