// Migrations in the order they run. Listed explicitly so the compiled build needs no globbing.
import { InitialSchema1732300000000 } from './1732300000000-InitialSchema.js';
import { DeploymentRecords1732300000400 } from './1732300000400-DeploymentRecords.js';
import { CatalogSyncRuns1732300000700 } from './1732300000700-CatalogSyncRuns.js';
import { ModelTask1732300000800 } from './1732300000800-ModelTask.js';
import { TrainingTask1732300000850 } from './1732300000850-TrainingTask.js';
import { ImportedModels1732300000900 } from './1732300000900-ImportedModels.js';

export const migrations = [
  InitialSchema1732300000000,
  DeploymentRecords1732300000400,
  CatalogSyncRuns1732300000700,
  ModelTask1732300000800,
  TrainingTask1732300000850,
  ImportedModels1732300000900,
];
