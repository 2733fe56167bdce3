// What a new training does when its lineage already has models.
import type { TrainingMode } from './state-machines.js';
import { ValidationError } from './errors.js';

export type VersionChoice = 'skip' | 'new_version' | 'retrain';

export interface VersionDecision {
  /** skip: map the kits to the existing model, train nothing. */
  action: 'skip' | 'train';
  mode?: TrainingMode;
  baseModelId?: string | null;
  /** The model the kits are mapped to when skipping. */
  existingModelId?: string;
}

export interface LatestModel {
  id: string;
  modelVersion: number;
  status: string;
}

/** Models that can serve as a starting point or be reused: not rejected or deprecated. */
export function usableModel(m: LatestModel): boolean {
  return !['rejected', 'deprecated'].includes(m.status);
}

export function decideVersion(latest: LatestModel | null, choice: VersionChoice | undefined): VersionDecision {
  if (!latest) {
    if (choice === 'skip' || choice === 'new_version') {
      throw new ValidationError('This lineage has no model yet, so there is nothing to skip to or fine-tune: train a new model', 'version_choice');
    }
    return { action: 'train', mode: 'new', baseModelId: null };
  }
  switch (choice) {
    case 'skip':
      return { action: 'skip', existingModelId: latest.id };
    case 'new_version':
      return { action: 'train', mode: 'new_version', baseModelId: latest.id };
    case 'retrain':
      return { action: 'train', mode: 'retrain', baseModelId: null };
    default:
      throw new ValidationError('This lineage already has a model: choose skip, new version or retrain', 'version_choice');
  }
}
