// Who may do what. Pure decisions; the services check them on the server for every request and
// audit each refusal.

export type ApproverAction = 'approve' | 'reject' | 'deploy' | 'rollback' | 'sync';

export interface PermissionInput {
  actor: string;
  action: ApproverAction;
  approvers: ReadonlySet<string>;
  /** The Slack user who requested the training that produced the model, if any. */
  requestedBy?: string | null;
}

export type PermissionResult = { allowed: true } | { allowed: false; reason: string };

const WHAT: Record<ApproverAction, string> = {
  approve: 'approve models',
  reject: 'reject models',
  deploy: 'deploy models',
  rollback: 'roll back kits',
  sync: 'start a Salesforce sync',
};

const notApprover = (action: ApproverAction) => `Only approvers can ${WHAT[action]}. Ask an approver (set in ASSAY_APPROVERS or the approver user group).`;

export function checkApproverAction({ actor, action, approvers, requestedBy }: PermissionInput): PermissionResult {
  if (!approvers.has(actor)) return { allowed: false, reason: notApprover(action) };
  if (action === 'approve' && requestedBy && requestedBy === actor) {
    return { allowed: false, reason: 'You requested this training, so you cannot approve its model: another approver must.' };
  }
  return { allowed: true };
}

/** Every privileged action goes through one decision (and one gate in services/access-gate.ts). */
export type PrivilegedAction = ApproverAction | 'cancel' | 'import';

export interface AccessInput {
  actor: { type: string; id: string | null };
  action: PrivilegedAction;
  approvers: ReadonlySet<string>;
  /** Who requested the training behind the model or the training itself, when there is one. */
  requestedBy?: string | null;
}

export function checkAccess({ actor, action, approvers, requestedBy }: AccessInput): PermissionResult {
  if (action === 'cancel') return checkCancelTraining({ actor, requestedBy: requestedBy ?? null, approvers });
  if (action === 'import') return checkImport(actor);
  // The approver list holds Slack user ids; any other actor is named `type:id` (e.g. `cli:ops`),
  // so a CLI login that happens to equal an approver's Slack id is not that approver.
  const id = actor.type === 'slack_user' ? (actor.id ?? '') : `${actor.type}:${actor.id ?? ''}`;
  return checkApproverAction({ actor: id, action, approvers, requestedBy });
}

export interface CancelInput {
  /** A Slack user, or an operator at the command line (who already holds the database). */
  actor: { type: string; id: string | null };
  requestedBy: string | null;
  approvers: ReadonlySet<string>;
}

/** A training may be cancelled by whoever requested it or by an approver (and by operators). */
export function checkCancelTraining({ actor, requestedBy, approvers }: CancelInput): PermissionResult {
  if (actor.type === 'cli' || actor.type === 'system') return { allowed: true };
  if (actor.type === 'slack_user' && actor.id && (actor.id === requestedBy || approvers.has(actor.id))) return { allowed: true };
  return { allowed: false, reason: 'Only the person who requested this training or an approver can cancel it.' };
}

/**
 * Bringing in a model trained elsewhere is what starting a training is: open to every team member
 * (in Slack or at the command line), since the model still needs an approver before it deploys.
 * Machines (edges, trainers, Salesforce, Assay's own jobs) never import.
 */
export function checkImport(actor: { type: string; id: string | null }): PermissionResult {
  if ((actor.type === 'slack_user' || actor.type === 'cli') && actor.id) return { allowed: true };
  return { allowed: false, reason: 'Only a team member (in Slack or at the command line) can import a model.' };
}
