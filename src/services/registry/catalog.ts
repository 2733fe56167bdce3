// The kit catalog as the surfaces read it, the wizard's session rows, and seeding.
import type { DataSource } from 'typeorm';
import { getKit, kitsWithSelectableOptions } from '../catalog-service.js';
import { kitStep, searchKits } from '../wizard-flow-service.js';
import { expireWizardSessions, openWizardSession } from '../wizard-session-service.js';
import { seedCatalog } from '../seed-service.js';
import { deleteUnusedHyperparameters } from '../hyperparameter-service.js';
import type { Actor } from '../audit.js';

export function catalogServices(dataSource: DataSource) {
  const m = () => dataSource.manager;
  return {
    searchKits: (term: string) => searchKits(m(), term),
    kitsWithSelectableOptions: (search: string | undefined, limit: number) => kitsWithSelectableOptions(m(), search, limit),
    getKit: (idOrKitId: string) => getKit(m(), idOrKitId),
    seed: (actor: Actor, options: { demoKits?: boolean }) => seedCatalog(m(), actor, options),
  };
}

export function wizardServices(dataSource: DataSource) {
  const m = () => dataSource.manager;
  return {
    openSession: (input: Parameters<typeof openWizardSession>[1]) => openWizardSession(m(), input),
    kitStep: () => kitStep(m()),
    expireSessions: (now: Date) => expireWizardSessions(m(), now),
  };
}

export function hyperparameterServices(dataSource: DataSource) {
  return { deleteUnused: () => deleteUnusedHyperparameters(dataSource.manager) };
}
