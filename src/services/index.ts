// The services, built once per process with the database and the ports, reached through the
// app context (`ctx.services`). Each method decides itself whether its function opens its own
// transaction (DataSource) or runs single statements (the manager): adapters own no transaction.
// The functions behind them stay callable directly (tests hand them a manager).
import { catalogServices, hyperparameterServices, wizardServices } from './registry/catalog.js';
import { approvalServices, deploymentServices, rollbackServices } from './registry/approvals.js';
import { historyServices, trainingServices } from './registry/trainings.js';
import { datasetServices, evaluationServices, importServices, trainingRunServices } from './registry/training-runs.js';
import { edgeServices } from './registry/edges.js';
import { kitSyncServices } from './registry/kit-sync.js';
import { deliveryServices, healthServices } from './registry/upkeep.js';
import type { ServiceDeps } from './registry/deps.js';

export type { ServiceDeps } from './registry/deps.js';

export function buildServices(deps: ServiceDeps) {
  const ds = deps.db.dataSource;
  return {
    catalog: catalogServices(ds),
    wizard: wizardServices(ds, deps.queue, deps.config.wizardTtlMinutes),
    hyperparameters: hyperparameterServices(ds),
    approvals: approvalServices(deps),
    deployments: deploymentServices(deps),
    rollbacks: rollbackServices(deps),
    trainings: trainingServices(ds),
    trainingRuns: trainingRunServices(ds),
    history: historyServices(ds),
    datasets: datasetServices(deps),
    evaluations: evaluationServices(deps),
    imports: importServices(deps),
    edges: edgeServices(deps),
    kitSync: kitSyncServices(deps),
    deliveries: deliveryServices(ds),
    health: healthServices(deps.db),
  };
}

export type Services = ReturnType<typeof buildServices>;
