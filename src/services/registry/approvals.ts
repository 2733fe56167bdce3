// Decisions on a model: approve/reject, deploy to kits and edges, roll a kit back.
import { approvalsWaitingFor, authorize, decideModel, findModelSummary, listModels, type DecisionInput } from '../approval-service.js';
import { deploymentPreview, deployModel, requireApprover, retryDeployment, type DeployInput } from '../deployment-service.js';
import { rollbackKit, rollbackPreview, type RollbackInput } from '../rollback-service.js';
import type { ApproverAction } from '../../domain/index.js';
import type { TestType } from '../../db/entities/index.js';
import type { ServiceDeps } from './deps.js';

type Deps = Pick<ServiceDeps, 'db' | 'events'>;

export function approvalServices({ db, events }: Deps) {
  const dataSource = db.dataSource;
  const m = () => dataSource.manager;
  return {
    /** Refuses (and audits) an actor who may not take `action` on the model. */
    authorize: (input: Parameters<typeof authorize>[1]) => authorize(dataSource, input),
    decide: (input: DecisionInput) => decideModel(dataSource, input, events),
    findModelSummary: (idOrName: string) => findModelSummary(m(), idOrName),
    listModels: (kit: TestType | null, limit: number) => listModels(m(), kit, limit),
    waitingFor: (viewer: string, limit: number) => approvalsWaitingFor(m(), viewer, limit),
  };
}

export function deploymentServices({ db, events }: Deps) {
  const dataSource = db.dataSource;
  return {
    requireApprover: (actor: string, action: ApproverAction, approvers: ReadonlySet<string>, entity: { type: string; id: string }) => requireApprover(dataSource, actor, action, approvers, entity),
    preview: (modelId: string) => deploymentPreview(dataSource.manager, modelId),
    deploy: (input: DeployInput) => deployModel(dataSource, input, events),
    retry: (input: Parameters<typeof retryDeployment>[1]) => retryDeployment(dataSource, input, events),
  };
}

export function rollbackServices({ db, events }: Deps) {
  const dataSource = db.dataSource;
  return {
    preview: (kit: string) => rollbackPreview(dataSource.manager, kit),
    rollbackKit: (input: RollbackInput) => rollbackKit(dataSource, input, events),
  };
}
