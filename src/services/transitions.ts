// The one guarded transition function per entity: lock the row, check the state machine,
// write the new state and the audit entry, all in the caller's transaction.
import type { EntityManager, EntityTarget, ObjectLiteral } from 'typeorm';
import { assertTransition, NotFoundError, type StatusOf } from '../domain/index.js';
import { Deployment, Model, ModelTraining } from '../db/entities/index.js';
import { writeAudit, type Actor } from './audit.js';

type MachineName = 'training' | 'model' | 'deployment';

const targets: Record<MachineName, { entity: EntityTarget<ObjectLiteral>; idField: string; label: string }> = {
  training: { entity: ModelTraining, idField: 'uid', label: 'Training' },
  model: { entity: Model, idField: 'id', label: 'Model' },
  deployment: { entity: Deployment, idField: 'id', label: 'Deployment' },
};

export async function transition<T extends ObjectLiteral>(
  manager: EntityManager,
  machine: MachineName,
  id: string,
  to: string,
  actor: Actor,
  patch: Partial<T> = {},
  details: Record<string, unknown> = {},
): Promise<T> {
  const { entity, idField, label } = targets[machine];
  const row = (await manager.findOne(entity, { where: { [idField]: id }, lock: { mode: 'pessimistic_write' } })) as T | null;
  if (!row) throw new NotFoundError(label, id);
  const from = String(row.status);
  assertTransition(machine, from, to as StatusOf<MachineName>);
  const update = { ...patch, status: to } as Record<string, unknown>;
  await manager.update(entity, { [idField]: id }, update);
  await writeAudit(manager, actor, { action: `${machine}.${to}`, entityType: machine, entityId: id, details: { from, to, ...details } });
  return { ...row, ...update } as T;
}
