// The guarded state changes. `transition`: lock the row, check the machine, write the new state and
// the audit entry, all in the caller's transaction (trainings, models, deployments). `setStatus`:
// the same check without audit row or lock, for machines whose changes were never audited — one
// conditional UPDATE whose WHERE lists the states the machine lets reach `to`.
import { In, type EntityManager, type EntityTarget, type ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity.js';
import { assertTransition, IllegalTransitionError, NotFoundError, sourcesOf, type StatusOf } from '../domain/index.js';
import { Dataset, Deployment, Evaluation, Model, ModelTraining, SalesforceEvent, WizardSession } from '../db/entities/index.js';
import { writeAudit, type Actor } from './audit.js';

/** The entity of each machine kept in a TypeORM entity. */
interface Rows {
  training: ModelTraining;
  model: Model;
  deployment: Deployment;
  dataset: Dataset;
  evaluation: Evaluation;
  salesforce_event: SalesforceEvent;
  wizard_session: WizardSession;
}
type RowMachine = keyof Rows;
/** The machines whose every change is audited. */
export type AuditedMachine = 'training' | 'model' | 'deployment';

type Target = { entity: EntityTarget<ObjectLiteral>; idField: string; label: string };
const targets: { [M in RowMachine]: { entity: EntityTarget<Rows[M]>; idField: keyof Rows[M] & string; label: string } } = {
  training: { entity: ModelTraining, idField: 'uid', label: 'Training' },
  model: { entity: Model, idField: 'id', label: 'Model' },
  deployment: { entity: Deployment, idField: 'id', label: 'Deployment' },
  dataset: { entity: Dataset, idField: 'id', label: 'Dataset' },
  evaluation: { entity: Evaluation, idField: 'uid', label: 'Evaluation' },
  salesforce_event: { entity: SalesforceEvent, idField: 'id', label: 'Salesforce event' },
  wizard_session: { entity: WizardSession, idField: 'id', label: 'Wizard session' },
};

export async function transition<M extends AuditedMachine>(
  manager: EntityManager,
  machine: M,
  id: string,
  to: StatusOf<M>,
  actor: Actor,
  patch: Partial<Rows[M]> = {},
  details: Record<string, unknown> = {},
): Promise<Rows[M]> {
  const { entity, idField, label } = targets[machine] as Target;
  const row = (await manager.findOne(entity, { where: { [idField]: id }, lock: { mode: 'pessimistic_write' } })) as Rows[M] | null;
  if (!row) throw new NotFoundError(label, id);
  const from = String(row.status);
  assertTransition(machine, from, to);
  const update = { ...patch, status: to } as Record<string, unknown>;
  await manager.update(entity, { [idField]: id }, update);
  await writeAudit(manager, actor, { action: `${machine}.${to}`, entityType: machine, entityId: id, details: { from, to, ...details } });
  return { ...row, ...update } as Rows[M];
}

/** Moves one row to `to` with `patch` (raw SQL allowed: `() => 'attempts + 1'`); refused → IllegalTransitionError. */
export async function setStatus<M extends Exclude<RowMachine, AuditedMachine>>(
  manager: EntityManager,
  machine: M,
  id: string,
  to: StatusOf<M>,
  patch: QueryDeepPartialEntity<Rows[M]> = {},
): Promise<void> {
  const { entity, idField, label } = targets[machine] as Target;
  const result = await manager.update(entity, { [idField]: id, status: In(sourcesOf(machine, to)) }, { ...patch, status: to } as never);
  if (result.affected) return;
  const row = (await manager.findOne(entity, { where: { [idField]: id } })) as { status: string } | null;
  if (!row) throw new NotFoundError(label, id);
  throw new IllegalTransitionError(machine, row.status, to);
}

/** For machines kept as a boolean column (options, activations): the flag values `to` may be reached from. */
export function flagSourcesOf(machine: 'option' | 'activation', to: 'active' | 'inactive'): boolean[] {
  return sourcesOf(machine, to).map((s) => s === 'active');
}
