// The kit catalog as the surfaces read it, the wizard's session rows, and seeding.
import type { DataSource } from 'typeorm';
import { getKit, kitsWithSelectableOptions } from '../catalog-service.js';
import { kitStep, searchKits, submitDataset, submitKits, submitLabels, submitOptions, type DatasetSubmission } from '../wizard-flow-service.js';
import { expireWizardSessions, getOpenWizardSession, openWizardSession, type WizardSession } from '../wizard-session-service.js';
import { startDatasetValidation } from '../training-service.js';
import type { JobQueue } from '../ports/job-queue.js';
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

/** `ttlMinutes`: how long a wizard session stays open after each step (ASSAY_WIZARD_TTL_MINUTES). */
export function wizardServices(dataSource: DataSource, queue: JobQueue, ttlMinutes: number) {
  const m = () => dataSource.manager;
  return {
    openSession: (input: Parameters<typeof openWizardSession>[1]) => openWizardSession(m(), input),
    /** The user's open session (the modal's private_metadata); refused when expired or someone else's. */
    openSessionOf: (sessionId: string, userId: string) => getOpenWizardSession(m(), sessionId, userId),
    kitStep: () => kitStep(m()),
    submitKits: (s: WizardSession, kitIds: string[]) => submitKits(m(), s, kitIds, ttlMinutes),
    submitOptions: (s: WizardSession, optionUids: string[]) => submitOptions(m(), s, optionUids, ttlMinutes),
    submitLabels: (s: WizardSession, labels: Record<string, string>, actor: Actor) => submitLabels(m(), s, labels, actor, ttlMinutes),
    submitDataset: (s: WizardSession, input: DatasetSubmission, actor: Actor) => submitDataset(m(), s, input, actor, ttlMinutes),
    startDatasetValidation: (job: Parameters<typeof startDatasetValidation>[1]) => startDatasetValidation(queue, job),
    expireSessions: (now: Date) => expireWizardSessions(m(), now),
  };
}

export function hyperparameterServices(dataSource: DataSource) {
  return { deleteUnused: () => deleteUnusedHyperparameters(dataSource.manager) };
}
