// Activating a model for kit options (rollback is kit-scoped, in deployment-service): atomic in one transaction, the
// partial unique index guaranteeing one active model per (kit, option) even under races.
import { In, type EntityManager } from 'typeorm';
import { ModelTestType } from '../db/entities/index.js';
import { planActivation, type ActiveAssignment, type KitOption } from '../domain/index.js';
import { writeAudit, type Actor } from './audit.js';
import { flagSourcesOf } from './transitions.js';

async function lockActive(manager: EntityManager, pairs: readonly KitOption[]): Promise<ActiveAssignment[]> {
  if (pairs.length === 0) return [];
  const kitIds = [...new Set(pairs.map((p) => p.testTypeId))];
  // Lock the kits involved: concurrent activations for the same kit queue up here.
  await manager.query(`SELECT id FROM test_types WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, [kitIds]);
  const rows = await manager
    .createQueryBuilder(ModelTestType, 'm')
    .where('m.is_active AND m.test_type_id = ANY(:kitIds::uuid[])', { kitIds })
    .setLock('pessimistic_write')
    .getMany();
  return rows.map((r) => ({ testTypeId: r.testTypeId, aiOptionUid: r.aiOptionUid, modelId: r.modelId, previousModelId: r.previousModelId }));
}

/** Makes `modelId` the active model of each kit option; returns what each ran before. */
export async function activateModel(manager: EntityManager, modelId: string, targets: readonly KitOption[], actor: Actor) {
  const current = await lockActive(manager, targets);
  const steps = planActivation(modelId, targets, current);
  const now = new Date();
  for (const s of steps.filter((x) => x.changes)) {
    await manager.update(ModelTestType, { testTypeId: s.testTypeId, aiOptionUid: s.aiOptionUid, isActive: In(flagSourcesOf('activation', 'inactive')) }, { isActive: false, deactivatedAt: now });
    await manager.query(
      `INSERT INTO model_test_types AS a (model_id, test_type_id, ai_option_uid, is_active, previous_model_id, activated_at, activated_by)
       VALUES ($1, $2, $3, true, $4, $5, $6)
       ON CONFLICT (model_id, test_type_id, ai_option_uid)
       DO UPDATE SET is_active = true, previous_model_id = EXCLUDED.previous_model_id, activated_at = EXCLUDED.activated_at,
                     activated_by = EXCLUDED.activated_by, deactivated_at = NULL
       WHERE a.is_active = ANY($7::bool[])`,
      [modelId, s.testTypeId, s.aiOptionUid, s.previousModelId, now, actor.id, flagSourcesOf('activation', 'active')],
    );
  }
  await writeAudit(manager, actor, { action: 'model.activated', entityType: 'model', entityId: modelId, details: { steps } });
  return steps;
}
