// Immutable, content-addressed hyperparameter sets; unused ones are cleaned up.
import type { EntityManager } from 'typeorm';
import { Hyperparameters } from '../db/entities/index.js';
import { fingerprint, hyperparametersSchema, ValidationError, type HyperparameterSet } from '../domain/index.js';
import { returnedRows } from '../db/returned-rows.js';

export async function getOrCreateHyperparameters(manager: EntityManager, params: unknown): Promise<Hyperparameters> {
  const parsed = hyperparametersSchema.safeParse(params);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ValidationError(`Hyperparameter ${issue.path.join('.') || '(root)'}: ${issue.message}`, 'hyperparameters');
  }
  const value: HyperparameterSet = parsed.data;
  const fp = fingerprint(value);
  await manager.createQueryBuilder().insert().into(Hyperparameters).values({ fingerprint: fp, params: value }).orIgnore().execute();
  return manager.findOneOrFail(Hyperparameters, { where: { fingerprint: fp } });
}

/** Deletes hyperparameter rows no model or training references. Returns how many went. */
export async function deleteUnusedHyperparameters(manager: EntityManager): Promise<number> {
  const rows: { uid: string }[] = await manager.query(`
    DELETE FROM hyperparameters h
     WHERE NOT EXISTS (SELECT 1 FROM models m WHERE m.hyperparameters_uid = h.uid)
       AND NOT EXISTS (SELECT 1 FROM model_trainings t WHERE t.hyperparameters_uid = h.uid)
    RETURNING uid`);
  return returnedRows(rows).length;
}
