// The life cycle of every stateful table: its states and the moves between them. Every state
// change goes through these tables (`transition`/`setStatus` in services, or a bulk UPDATE whose
// WHERE lists `sourcesOf(machine, to)`); an illegal one is refused with both states named.
import { IllegalTransitionError } from './errors.js';

export type TrainingStatus = 'queued' | 'validating' | 'training' | 'trained' | 'failed' | 'cancelled';
export type TrainingMode = 'new' | 'new_version' | 'retrain';
/** 'import': a model trained elsewhere, brought in as a file (no training runs in Assay). */
export type TrainerKind = 'tfjs' | 'remote' | 'import';
export type ModelStatus = 'draft' | 'evaluating' | 'pending_approval' | 'approved' | 'rejected' | 'deployed' | 'deprecated';
export type DeploymentStatus = 'pending' | 'downloading' | 'installing' | 'completed' | 'failed' | 'rolled_back';
export type DatasetStatus = 'pending' | 'validating' | 'valid' | 'invalid';
export type EvaluationStatus = 'queued' | 'running' | 'completed' | 'failed';
export type KitStatus = 'active' | 'archived';
/** ai_options.active as a state. */
export type OptionStatus = 'active' | 'inactive';
/** model_test_types.is_active: whether the model is the one running for that kit option. */
export type ActivationStatus = 'active' | 'inactive';
export type SalesforceEventStatus = 'received' | 'applied' | 'ignored' | 'failed';
export type WizardSessionStatus = 'open' | 'submitted' | 'expired' | 'cancelled';
export type SyncRunStatus = 'queued' | 'running' | 'completed' | 'failed';

type Machine<S extends string> = Record<S, readonly S[]>;

export const trainingTransitions: Machine<TrainingStatus> = {
  queued: ['validating', 'training', 'failed', 'cancelled'],
  validating: ['queued', 'training', 'failed', 'cancelled'],
  training: ['trained', 'failed', 'cancelled'],
  trained: [],
  failed: [],
  cancelled: [],
};

export const modelTransitions: Machine<ModelStatus> = {
  draft: ['evaluating', 'deprecated'],
  evaluating: ['pending_approval', 'draft', 'deprecated'],
  pending_approval: ['approved', 'rejected', 'evaluating'],
  approved: ['deployed', 'deprecated'],
  rejected: [],
  deployed: ['deprecated', 'approved'],
  deprecated: [],
};

export const deploymentTransitions: Machine<DeploymentStatus> = {
  pending: ['downloading', 'installing', 'completed', 'failed', 'rolled_back'],
  downloading: ['installing', 'completed', 'failed', 'rolled_back'],
  installing: ['completed', 'failed', 'rolled_back'],
  completed: ['rolled_back'],
  failed: ['pending', 'rolled_back'],
  rolled_back: [],
};

export const datasetTransitions: Machine<DatasetStatus> = {
  // Straight to invalid: a validation given up on after the worker kept stopping (resumeAfterStoppedWorker).
  pending: ['validating', 'invalid'],
  // Again from validating: the retry after a transient error (the training went back to queued).
  validating: ['validating', 'valid', 'invalid'],
  // A duplicate validation job (the job's own retry and the recovery sweep's) validates again.
  valid: ['validating'],
  invalid: [],
};

export const evaluationTransitions: Machine<EvaluationStatus> = {
  queued: ['running', 'failed'],
  running: ['completed', 'failed'],
  completed: [],
  failed: [],
};

/** Kits follow the org both ways: archived when deleted or deactivated there, active again when reactivated. */
export const kitTransitions: Machine<KitStatus> = {
  active: ['archived'],
  archived: ['active'],
};

export const optionTransitions: Machine<OptionStatus> = {
  active: ['inactive'],
  inactive: ['active'],
};

export const activationTransitions: Machine<ActivationStatus> = {
  active: ['inactive'],
  inactive: ['active'],
};

/** `received` until applied once; an event still waiting for its kit or option stays received. */
export const salesforceEventTransitions: Machine<SalesforceEventStatus> = {
  received: ['applied', 'ignored', 'failed'],
  applied: [],
  ignored: [],
  failed: [],
};

export const wizardSessionTransitions: Machine<WizardSessionStatus> = {
  open: ['submitted', 'expired', 'cancelled'],
  // A submit checked the session while it was open; the expiry sweep may get there before it ends.
  expired: ['submitted'],
  submitted: [],
  cancelled: [],
};

export const syncRunTransitions: Machine<SyncRunStatus> = {
  queued: ['running', 'failed'],
  // running → running: the job retried for its run; → queued: a retryable failure waits for that retry.
  running: ['running', 'queued', 'completed', 'failed'],
  completed: [],
  // A run closed as abandoned whose worker was in fact alive still records how it ended.
  failed: ['queued', 'completed', 'failed'],
};

const machines = {
  training: trainingTransitions,
  model: modelTransitions,
  deployment: deploymentTransitions,
  dataset: datasetTransitions,
  evaluation: evaluationTransitions,
  kit: kitTransitions,
  option: optionTransitions,
  activation: activationTransitions,
  salesforce_event: salesforceEventTransitions,
  wizard_session: wizardSessionTransitions,
  sync_run: syncRunTransitions,
} as const;
export type MachineName = keyof typeof machines;
/** The states of one machine: a status that is not one of them does not compile. */
export type StatusOf<M extends MachineName> = M extends MachineName ? keyof (typeof machines)[M] & string : never;

const table = (machine: MachineName) => machines[machine] as Record<string, readonly string[]>;

/** `from` is a plain string: it is read from a row, where anything may be stored. */
export function canTransition<M extends MachineName>(machine: M, from: string, to: StatusOf<M>): boolean {
  return (table(machine)[from] ?? []).includes(to);
}

export function assertTransition<M extends MachineName>(machine: M, from: string, to: StatusOf<M>): void {
  if (!canTransition(machine, from, to)) throw new IllegalTransitionError(machine, from, to);
}

/** The states from which `to` may be reached: the guard of a conditional or bulk UPDATE. */
export function sourcesOf<M extends MachineName>(machine: M, to: StatusOf<M>): StatusOf<M>[] {
  return Object.entries(table(machine)).filter(([, next]) => next.includes(to)).map(([from]) => from as StatusOf<M>);
}
