// The life cycles of trainings, models and deployments. Every state change goes through
// `assertTransition`; an illegal one is refused with both states named.
import { IllegalTransitionError } from './errors.js';

export type TrainingStatus = 'queued' | 'validating' | 'training' | 'trained' | 'failed' | 'cancelled';
export type TrainingMode = 'new' | 'new_version' | 'retrain';
/** 'import': a model trained elsewhere, brought in as a file (no training runs in Assay). */
export type TrainerKind = 'tfjs' | 'remote' | 'import';
export type ModelStatus = 'draft' | 'evaluating' | 'pending_approval' | 'approved' | 'rejected' | 'deployed' | 'deprecated';
export type DeploymentStatus = 'pending' | 'downloading' | 'installing' | 'completed' | 'failed' | 'rolled_back';

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

const machines = { training: trainingTransitions, model: modelTransitions, deployment: deploymentTransitions } as const;
export type MachineName = keyof typeof machines;

export function canTransition<M extends MachineName>(machine: M, from: string, to: string): boolean {
  const table = machines[machine] as Record<string, readonly string[]>;
  return (table[from] ?? []).includes(to);
}

export function assertTransition(machine: MachineName, from: string, to: string): void {
  if (!canTransition(machine, from, to)) throw new IllegalTransitionError(machine, from, to);
}

