// Lineages are found or created by their key, race-free (INSERT ... ON CONFLICT).
import type { EntityManager } from 'typeorm';
import { TrainingLineage } from '../db/entities/index.js';
import { checkLength, lineageKey, trainingIdFor } from '../domain/index.js';

export async function findOrCreateLineage(manager: EntityManager, optionUids: readonly string[], name: string): Promise<TrainingLineage> {
  checkLength(name, 'lineageName', 'lineage_name', 'A lineage name');
  const key = lineageKey(optionUids);
  const sorted = [...new Set(optionUids.map((u) => u.toLowerCase()))].sort();
  await manager
    .createQueryBuilder()
    .insert()
    .into(TrainingLineage)
    .values({ lineageKey: key, trainingId: trainingIdFor(key), name, optionUids: sorted })
    .orIgnore()
    .execute();
  return manager.findOneOrFail(TrainingLineage, { where: { lineageKey: key } });
}

export async function findLineageForOptions(manager: EntityManager, optionUids: readonly string[]): Promise<TrainingLineage | null> {
  return manager.findOne(TrainingLineage, { where: { lineageKey: lineageKey(optionUids) } });
}
