// Edge servers: the registry the CLI keeps, and what the edge API asks and reports.
import type { DataSource } from 'typeorm';
import {
  addEdge,
  announceHeartbeat,
  authenticateEdge,
  downloadableModel,
  edgeActor,
  edgeAssignments,
  listEdges,
  modelExists,
  openDeployments,
  recordHeartbeat,
  reportStaleEdges,
  revokeEdge,
  type EdgeServer,
  type HeartbeatReport,
  type HeartbeatResult,
} from '../edge-service.js';
import { writeAudit, type Actor } from '../audit.js';
import type { ServiceDeps } from './deps.js';

/** Database-only: the admin channel builds these on a bare connection too. */
export function edgeRegistryServices(dataSource: DataSource) {
  const m = () => dataSource.manager;
  return {
    add: (name: string, actor: Actor) => addEdge(m(), name, actor),
    revoke: (name: string, actor: Actor) => revokeEdge(m(), name, actor),
    list: () => listEdges(m()),
  };
}

export function edgeServices({ db, events, notifier, config }: Pick<ServiceDeps, 'db' | 'events' | 'notifier' | 'config'>) {
  const dataSource = db.dataSource;
  const m = () => dataSource.manager;
  return {
    ...edgeRegistryServices(dataSource),
    authenticate: (token: string) => authenticateEdge(m(), token),
    assignments: (edge: EdgeServer) => edgeAssignments(m(), edge),
    modelExists: (modelId: string) => modelExists(m(), modelId),
    downloadableModel: (modelId: string) => downloadableModel(m(), modelId),
    downloadUrlIssued: (edge: EdgeServer, modelId: string, expires: number) =>
      writeAudit(m(), edgeActor(edge), { action: 'model.download_url_issued', entityType: 'model', entityId: modelId, details: { expires } }),
    recordHeartbeat: (edge: EdgeServer, report: HeartbeatReport) => recordHeartbeat(dataSource, edge, report),
    /** Deployment events and ops notices for what a heartbeat changed (after its commit). */
    announceHeartbeat: (result: HeartbeatResult, edge: EdgeServer) => announceHeartbeat(result, edge, events, notifier),
    openDeployments: (edge: EdgeServer) => openDeployments(m(), edge),
    reportStale: () => reportStaleEdges(dataSource, config.edgeStaleAfterMinutes, notifier),
  };
}
