// Small builders for rows tests need, written through the real services and migrations.
import type { EntityManager } from 'typeorm';
import { AiOption, TestType } from '../../src/db/entities/index.js';
import { createModelVersion } from '../../src/services/model-service.js';
import { findOrCreateLineage } from '../../src/services/lineage-service.js';
import { systemActor } from '../../src/services/audit.js';
import { seedCatalog } from '../../src/services/seed-service.js';

export async function seeded(manager: EntityManager) {
  await seedCatalog(manager, systemActor, { demoKits: true });
  const options = await manager.find(AiOption);
  const kits = await manager.find(TestType);
  const option = (name: string) => options.find((o) => o.name === name)!;
  const kit = (kitId: string) => kits.find((k) => k.kitId === kitId)!;
  return { options, kits, option, kit };
}

export async function makeModel(manager: EntityManager, optionUids: string[], name = 'pr_urine') {
  const lineage = await findOrCreateLineage(manager, optionUids, name);
  const model = await createModelVersion(manager, { lineageId: lineage.id, trainingUid: null, labels: ['a', 'b'] }, systemActor);
  return { lineage, model };
}
