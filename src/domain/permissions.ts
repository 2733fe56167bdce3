// Who may approve, reject, deploy and roll back. Checked on the server for every click.

export type ApproverAction = 'approve' | 'reject' | 'deploy' | 'rollback';

export interface PermissionInput {
  actor: string;
  action: ApproverAction;
  approvers: ReadonlySet<string>;
  /** The Slack user who requested the training that produced the model, if any. */
  requestedBy?: string | null;
}

export type PermissionResult = { allowed: true } | { allowed: false; reason: string };

export function checkApproverAction({ actor, action, approvers, requestedBy }: PermissionInput): PermissionResult {
  if (!approvers.has(actor)) {
    return { allowed: false, reason: `Only approvers can ${action} models. Ask an approver (set in ASSAY_APPROVERS or the approver user group).` };
  }
  if (action === 'approve' && requestedBy && requestedBy === actor) {
    return { allowed: false, reason: 'You requested this training, so you cannot approve its model: another approver must.' };
  }
  return { allowed: true };
}
