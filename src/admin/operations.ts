// The admin commands themselves, run against whichever process holds the database: the CLI's own
// connection, or the running server (over the admin channel). Both print exactly the same.
import { DomainError } from '../domain/index.js';
import { formatPromotionHistory } from '../services/history-service.js';
import type { AdminServices } from '../services/registry/admin.js';
import type { Actor } from '../services/audit.js';
import type { ReconcileResult } from '../services/kit-sync-service.js';
import type { AdminOperation, AdminResponse } from './protocol.js';
import { executeModelImport, type ModelImportDeps } from './model-import.js';

export interface AdminDeps {
  services: AdminServices;
  migrate(): Promise<string[]>;
  /** A full Salesforce reconciliation now (null: another one is open), or queued for a worker. */
  syncCatalog?(queue: boolean, requestedBy: string): Promise<ReconcileResult | null | 'queued'>;
  /** `assay model import` (needs the artifact store and the queue: the server's, or a full context). */
  modelImport?: ModelImportDeps;
}

const out = (stdout: string): AdminResponse => ({ code: 0, stdout, stderr: '' });

export async function executeAdmin(deps: AdminDeps, op: AdminOperation, user: string): Promise<AdminResponse> {
  const actor: Actor = { type: 'cli', id: user };
  try {
    return await run(deps, op, actor);
  } catch (e) {
    // Refusals people can act on: one line, exit 1 (cancel's wording has no prefix, as before).
    if (e instanceof DomainError) return { code: 1, stdout: '', stderr: op.op === 'cancel' ? `${e.message}\n` : `assay: ${e.message}\n` };
    throw e;
  }
}

async function run(deps: AdminDeps, op: AdminOperation, actor: Actor): Promise<AdminResponse> {
  const s = deps.services;
  switch (op.op) {
    case 'edge.add': {
      const { edge, token } = await s.edges.add(op.name, actor);
      return out(
        `Edge server ${edge.name} added (id ${edge.id}).\n` +
          `Token (shown only now; store it on the edge server, Assay keeps only its hash):\n\n  ${token}\n\n` +
          `The edge sends it as "Authorization: Bearer <token>" to /api/v1/edge.\n`,
      );
    }
    case 'edge.revoke': {
      const edge = await s.edges.revoke(op.name, actor);
      return out(`Edge server ${edge.name} revoked at ${edge.revokedAt!.toISOString()}: its token is refused from now on.\n`);
    }
    case 'edge.list': {
      const edges = await s.edges.list();
      if (edges.length === 0) return out('No edge servers. Add one with: assay edge add NAME\n');
      const rows = edges.map((e) => [e.name, e.revokedAt ? 'revoked' : 'active', e.lastHeartbeatAt?.toISOString() ?? 'never', String(e.reportedModels.length)]);
      const header = ['NAME', 'STATE', 'LAST HEARTBEAT', 'MODELS'];
      const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
      return out([header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd() + '\n').join(''));
    }
    case 'cancel': {
      const t = await s.trainings.requestCancel(op.trainingUid, actor, { approvers: new Set() });
      return out(t.status === 'cancelled' ? `Training ${op.trainingUid} cancelled.\n` : `Cancel requested: training ${op.trainingUid} stops after its current batch.\n`);
    }
    case 'history':
      return out(formatPromotionHistory(await s.history.promotionHistory(op.kit, new Date(op.at), op.option)));
    case 'seed': {
      const r = await s.catalog.seed(actor, { demoKits: op.demoKits });
      return out(
        `Seeded: ${r.optionsAdded} AI option(s), ${r.kitsAdded} kit(s), ${r.linksAdded} kit-option link(s) added.\n` +
          (op.demoKits ? '' : 'Kits arrive from Salesforce (Outbound Messages, change events or `assay sync`); `assay seed --demo-kits` adds the demo kits.\n'),
      );
    }
    case 'sync': {
      if (!deps.syncCatalog) return { code: 2, stdout: '', stderr: 'assay: Salesforce API not configured: set SF_CLIENT_ID, SF_USERNAME and SF_PRIVATE_KEY_PATH, or SF_ALIAS\n' };
      const r = await deps.syncCatalog(op.queue, `cli:${actor.id ?? 'unknown'}`);
      if (r === 'queued') return out('Reconciliation queued; a worker (assay start) runs it.\n');
      if (!r) return { code: 1, stdout: '', stderr: 'assay: a Salesforce sync is already queued or running; try again when it ends.\n' };
      return out(reconcileSummary(r));
    }
    case 'model.import':
      if (!deps.modelImport) return { code: 2, stdout: '', stderr: 'assay: model import needs the running server or a database of its own\n' };
      return executeModelImport(deps.modelImport, op, actor);
    case 'migrate': {
      const ran = await deps.migrate();
      return out(ran.length ? `Applied ${ran.length} migration(s): ${ran.join(', ')}\n` : 'Database schema is up to date.\n');
    }
  }
}

export function reconcileSummary(r: ReconcileResult): string {
  return (
    `Reconciled ${r.kitsSeen} kit(s) in ${r.pages} page(s): ${r.kitsCreated} new, ${r.kitsUpdated} updated, ${r.kitsStale} unchanged (older), ` +
    `${r.archived.length} archived, links +${r.linksAdded}/-${r.linksRemoved}, ${r.skipped} record(s) skipped; ` +
    `${r.restCalls} REST call(s)${r.apiUsage ? `, API usage ${r.apiUsage.used}/${r.apiUsage.limit}` : ''}.\n`
  );
}
